"""The names a print template sees, built from data the services have already read and filtered.

Everything is plain dicts, lists and strings (the sandbox is immutable anyway); hidden fields
never arrive here because the caller passes only the fields the reader may see.

Names: ``record`` (display text by field key, sub-tables as lists of row dicts, plus ``id``,
``serial_no``, ``title``… where no field has that key), ``values`` (raw stored values by key, for
comparisons such as ``values.result == "reject"``), ``rows`` (sub-tables by key), ``doc`` (system
values), ``form`` (key, label, labels by field key, fields), ``history`` (flow steps),
``signatures``, ``flow``, ``company``, ``qr`` (inline SVG), ``url``, ``now``, ``lang``,
``t(zh, en)``, ``label(key_or_label)``.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any, Iterable, Mapping

from markupsafe import Markup

from engine.definitions.model import FieldDef, FormDef
from engine.i18n import Msg, label_text
from engine.printing.values import display, local_time, rows_of

ACTIONS = {
    "submitted": ("提交", "Submitted"), "resubmitted": ("重新提交", "Resubmitted"), "approve": ("同意", "Approved"),
    "reject": ("退回", "Sent back"), "transfer": ("转交", "Transferred"), "add_approver": ("加签", "Added an approver"),
    "comment": ("评论", "Comment"), "withdrawn": ("撤回", "Withdrawn"), "cancelled": ("取消", "Cancelled"),
    "escalated": ("超时升级", "Escalated (overdue)"), "auto_approved": ("超时自动同意", "Approved automatically"),
    "auto_returned": ("超时自动退回", "Returned automatically"), "approved": ("流程审批通过", "Flow approved"),
}
STATES = {"running": ("审批中", "In approval"), "approved": ("已通过", "Approved"), "rejected": ("已驳回", "Rejected"),
          "returned": ("已退回", "Returned"), "withdrawn": ("已撤回", "Withdrawn"), "cancelled": ("已取消", "Cancelled")}
NODE_TYPES = {"start": ("发起", "Submit"), "end": ("结束", "End"), "approval": ("审批", "Approval"),
              "handle": ("办理", "Handle"), "automatic": ("自动节点", "Automatic")}
SYSTEM_KINDS = frozenset({"approved", "escalated", "auto_approved", "auto_returned"})


@dataclass(frozen=True)
class PrintInput:
    """What one record's print needs, already permission-filtered by the service."""

    form: FormDef
    fields: tuple[FieldDef, ...]        # the fields the reader may see, in form order
    record: Any                         # engine.storage.records.Record (hidden fields removed)
    names: Any                          # engine.services.names.Names
    flow: Mapping[str, Any] | None      # engine.services.flow_queries.history(...) or None
    company: Mapping[str, Any]          # {"name", "logo"}
    url: str
    qr: str                             # inline SVG of ``url``


def _pick(lang: str):
    return lambda zh, en: en if lang == "en" else zh


def _labeller(form: FormDef, lang: str):
    """label("lot_no") → the field's label; label("items.code") → a sub-table column's; a label dict
    or Msg → its text in the print language."""
    def label(value: Any) -> str:
        if isinstance(value, str):
            found = form.field_at(value)
            return label_text(found.label, lang) if found is not None else value
        if isinstance(value, (Msg, Mapping)):
            return label_text(value, lang)
        return "" if value is None else str(value)
    return label


def _signature(sig: Mapping[str, Any] | None, lang: str, tz: tzinfo | None) -> dict | None:
    if sig is None:
        return None
    t = _pick(lang)
    status = (t("已验证", "Verified") if sig.get("matches_record") else
              t("签名后记录已修改", "Record changed since signing") if sig.get("intact") else
              t("签名校验失败", "Does not verify"))
    return {"meaning": label_text(sig.get("meaning_label"), lang) or sig.get("meaning") or "",
            "signer": sig.get("printed_name") or "", "time": local_time(sig.get("signed_at"), tz),
            "verified": bool(sig.get("matches_record")), "status": status}


def _node_label(flow_def: Any, node_id: str | None, lang: str) -> str:
    if flow_def is None or not node_id:
        return ""
    try:
        node = flow_def.node(node_id)
    except KeyError:
        return node_id
    if node.label:
        return label_text(node.label, lang)
    return _pick(lang)(*NODE_TYPES[node.type]) if node.type in NODE_TYPES else node_id


def history_steps(flow: Mapping[str, Any] | None, lang: str, tz: tzinfo | None) -> list[dict]:
    """The flow's events people care about on paper, oldest first, each with its e-signature."""
    if not flow:
        return []
    by_task = {s.get("task_id"): s for s in flow.get("signatures") or () if s.get("task_id") is not None}
    t = _pick(lang)
    steps = []
    for event in flow.get("events") or ():
        kind = event.get("kind")
        if kind not in ACTIONS:
            continue
        system = kind in SYSTEM_KINDS or event.get("actor_id") is None
        sig = by_task.get(event.get("task_id")) if kind == "approve" else None
        steps.append({"node": _node_label(flow.get("flow"), event.get("node_id"), lang),
                      "actor": t("系统", "System") if system else (event.get("actor_name") or f"#{event.get('actor_id')}"),
                      "action": t(*ACTIONS[kind]), "kind": kind, "comment": event.get("comment") or "",
                      "time": local_time(event.get("at"), tz), "signature": _signature(sig, lang, tz)})
    return steps


def _flow_summary(flow: Mapping[str, Any] | None, lang: str) -> dict | None:
    if not flow:
        return None
    state = (flow.get("instance") or {}).get("state")
    flow_def = flow.get("flow")
    return {"label": label_text(flow_def.label, lang) if flow_def is not None else "", "state": state,
            "state_label": _pick(lang)(*STATES[state]) if state in STATES else (state or "")}


def _doc(record: Any, flow: dict | None, tz: tzinfo | None) -> dict:
    return {"id": record.id, "serial_no": record.serial_no or "", "title": record.title or "",
            "status": record.status, "version": record.version,
            "created_at": local_time(record.created_at, tz), "updated_at": local_time(record.updated_at, tz),
            "approval": flow["state_label"] if flow else ""}


def build_context(data: PrintInput, lang: str, tz: tzinfo | None, now: datetime) -> dict[str, Any]:
    """The template context for one record (see the module docstring for the names)."""
    record, names = data.record, data.names
    shown: dict[str, Any] = {}
    rows: dict[str, list] = {}
    for f in data.fields:
        value = record.data.get(f.key)
        if f.type == "subtable":
            rows[f.key] = shown[f.key] = rows_of(f, value, names, lang, tz)
        else:
            shown[f.key] = display(f, value, names, lang, tz)
    flow = _flow_summary(data.flow, lang)
    doc = _doc(record, flow, tz)
    record_view = {**{k: v for k, v in doc.items() if k not in shown}, **shown}
    visible = {f.key for f in data.fields}
    return {
        "record": record_view, "values": {k: v for k, v in record.data.items() if k in visible}, "rows": rows,
        "doc": doc, "form": form_view(data.form, data.fields, lang), "flow": flow,
        "history": history_steps(data.flow, lang, tz),
        "signatures": [_signature(s, lang, tz) for s in (data.flow or {}).get("signatures") or ()],
        "company": dict(data.company), "url": data.url, "qr": Markup(data.qr),
        "now": local_time(now, tz), "lang": lang, "t": _pick(lang), "label": _labeller(data.form, lang),
    }


def form_view(form: FormDef, fields: Iterable[FieldDef], lang: str) -> dict[str, Any]:
    """The form as templates see it: key, label, labels by field key, and the visible fields."""
    fields = list(fields)
    return {"key": form.key, "label": label_text(form.label, lang),
            "labels": {f.key: label_text(f.label, lang) for f in fields},
            "fields": [_field_view(f, lang) for f in fields]}


def _field_view(f: FieldDef, lang: str) -> dict[str, Any]:
    return {"key": f.key, "type": f.type, "label": label_text(f.label, lang),
            "columns": [_field_view(c, lang) for c in f.fields]}
