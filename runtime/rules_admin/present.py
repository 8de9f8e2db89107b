"""Rules and runs in words for the admin pages: trigger and action summaries, the stored event as
key/value tables, and the definition with its secrets masked.

Everything here returns plain text (or lists/dicts of it); the templates escape it.
"""
from __future__ import annotations

import copy
import json
from typing import Any, Mapping
from urllib.parse import urlsplit

from engine.errors import NotFound
from engine.rules import ACTIONS, TRIGGERS
from engine.services import forms as form_service
from runtime.i18n import label, t
from runtime.records import display

MASK = "••••••"
MAX_ROWS = 50                     # rows of a sub-table shown in an event table
SYSTEM_KEYS = {
    "id": ("记录 ID", "Record id"), "version": ("版本", "Version"), "def_version": ("表单版本", "Form version"),
    "serial_no": ("编号", "Number"), "title": ("标题", "Title"), "status": ("状态", "Status"),
    "flow_state": ("流程状态", "Flow state"), "created_by": ("创建人", "Created by"),
    "created_at": ("创建时间", "Created at"), "updated_by": ("修改人", "Changed by"),
    "updated_at": ("修改时间", "Changed at"),
}
STATUS_NAMES = {"pending": ("等待", "Pending"), "queued": ("已排队", "Queued"), "running": ("运行中", "Running"),
                "done": ("成功", "Done"), "failed": ("失败", "Failed")}


def status_name(status: str | None) -> str:
    zh, en = STATUS_NAMES.get(status or "", (status or "—", status or "—"))
    return t(zh, en)


def trigger_name(trigger_type: str | None) -> str:
    """The trigger type's bilingual label (the raw type when it is not a registered trigger)."""
    if trigger_type in TRIGGERS:
        return label(TRIGGERS.get(trigger_type).label)
    return trigger_type or "—"


def action_name(action_type: str | None) -> str:
    if action_type in ACTIONS:
        return label(ACTIONS.get(action_type).label)
    return action_type or "—"


def form_name(session, tenant_id: int, key: str | None) -> str:
    """«Label» (key) of a published form; the key alone when it is not published."""
    if not key:
        return ""
    form = _form(session, tenant_id, key)
    return f"{label(form.label)} ({key})" if form is not None else key


def _form(session, tenant_id: int, key: str | None):
    if not key:
        return None
    try:
        return form_service.get_form(session, tenant_id, key)
    except NotFound:
        return None


def excerpt(text: str | None, size: int = 160) -> str:
    if not text:
        return ""
    text = " ".join(str(text).split())
    return text if len(text) <= size else text[:size - 1] + "…"


# ---------------------------------------------------------------------------- definitions

def masked(definition: Mapping[str, Any]) -> dict:
    """The definition with action secrets replaced (designers see the page; secrets are not theirs)."""
    data = copy.deepcopy(dict(definition))
    for item in data.get("actions") or ():
        if isinstance(item, dict) and item.get("secret"):
            item["secret"] = MASK
    return data


def pretty(definition: Mapping[str, Any]) -> str:
    return json.dumps(masked(definition), ensure_ascii=False, indent=2)


def _keys(values: Mapping[str, Any] | None) -> str:
    return ", ".join(values or ()) or "—"


def describe_trigger(session, tenant_id: int, definition: Mapping[str, Any]) -> list[str]:
    """Sentences about what fires the rule."""
    trig = definition.get("trigger") or {}
    kind = trig.get("type")
    lines = [trigger_name(kind)]
    if definition.get("form"):
        lines.append(t("表单：", "Form: ") + form_name(session, tenant_id, definition["form"]))
    if kind == "field_changed":
        lines.append(t("字段：", "Fields: ") + ", ".join(trig.get("fields") or ()))
    if kind and kind.startswith("flow_"):
        lines.append(t("流程：", "Flow: ") + str(trig.get("flow")))
        if trig.get("nodes"):
            lines.append(t("节点：", "Nodes: ") + ", ".join(trig["nodes"]))
        if trig.get("outcome"):
            lines.append(t("结果：", "Outcome: ") + str(trig["outcome"]))
    if kind == "schedule":
        zone = trig.get("timezone") or t("公司时区", "the company's time zone")
        lines.append(f"cron {trig.get('cron')} · {zone}")
    if kind == "webhook":
        fields = [f"{f.get('key')} ({f.get('type')}{', ' + t('必填', 'required') if f.get('required') else ''})"
                  for f in trig.get("fields") or ()]
        lines.append(t("载荷字段：", "Payload fields: ") + (", ".join(fields) or "—"))
    if kind == "spc_violation":
        rules = ", ".join(map(str, trig.get("rules") or ())) or t("全部", "all")
        lines.append(t(f"字段 {trig.get('field')}，判异规则 {rules}", f"Field {trig.get('field')}, run rules {rules}"))
        chart = trig.get("report") or t("默认控制图（单值或均值-极差）", "the default chart (I-MR or X̄-R)")
        last = trig.get("last") or 50
        lines.append(t(f"控制图：{chart}，最近 {last} 个子组", f"Chart: {chart}, the last {last} subgroups"))
    return lines


def describe_actions(session, tenant_id: int, definition: Mapping[str, Any]) -> list[dict]:
    """One ``{"index", "type", "name", "details"}`` per action, in order."""
    out = []
    for i, item in enumerate(definition.get("actions") or ()):
        kind = item.get("type") if isinstance(item, Mapping) else None
        describe = _DESCRIBERS.get(kind)
        details = describe(session, tenant_id, item) if describe else ""
        out.append({"index": i, "type": kind, "name": action_name(kind), "details": details})
    return out


def _target(session, tenant_id: int, target: Mapping[str, Any] | None, fallback: str) -> str:
    if not target:
        return fallback
    text = t("表单 ", "form ") + form_name(session, tenant_id, target.get("form"))
    if target.get("match"):
        text += t("，匹配 ", ", matching ") + ", ".join(f"{k} = {v}" for k, v in target["match"].items())
    if target.get("filter"):
        text += t("，筛选 ", ", filter ") + str(target["filter"])
    return text


def _create(session, tenant_id, item):
    text = t("在 ", "In ") + form_name(session, tenant_id, item.get("form"))
    text += t("，赋值 ", ", set ") + _keys(item.get("values"))
    if item.get("rows"):
        text += t("；子表行：", "; sub-table rows: ") + ", ".join(item["rows"])
    return text


def _update(session, tenant_id, item):
    return _target(session, tenant_id, item.get("target"), "") + t("；赋值 ", "; set ") + _keys(item.get("values"))


def _status(session, tenant_id, item):
    where = _target(session, tenant_id, item.get("target"), t("触发规则的记录", "the record that fired the rule"))
    return f"“{item.get('status')}” → {where}"


def _notify(session, tenant_id, item):
    to, parts = item.get("to") or {}, []
    if to.get("roles"):
        parts.append(t("角色 ", "roles ") + ", ".join(to["roles"]))
    if to.get("users"):
        parts.append(t("用户 ", "users ") + ", ".join(f"#{u}" for u in to["users"]))
    if to.get("fields"):
        parts.append(t("人员字段 ", "user fields ") + ", ".join(to["fields"]))
    if to.get("submitter"):
        parts.append(t("提交人", "the submitter"))
    if item.get("robots"):
        parts.append(t("群机器人 ", "robots ") + ", ".join(item["robots"]))
    channels = ", ".join(item.get("channels") or ["in_app", "email"])
    return t("通知 ", "To ") + ("; ".join(parts) or "—") + f" ({channels}): {excerpt(item.get('subject'), 80)}"


def _webhook(session, tenant_id, item):
    url = urlsplit(str(item.get("url") or ""))       # the query may hold a key: leave it out
    where = f"{url.scheme}://{url.netloc}{url.path}" if url.netloc else str(item.get("url") or "")
    signed = t("（HMAC 签名）", " (HMAC signed)") if item.get("secret") else ""
    return f"POST {where}{signed}"


def _flow(session, tenant_id, item):
    record = t("上一步新建的记录", "the record created above") if item.get("record") == "created" else \
        t("触发规则的记录", "the record that fired the rule")
    flow = item.get("flow") or t("表单的默认流程", "the form's flow")
    return f"{flow} → {record}"


_DESCRIBERS = {"create_record": _create, "update_records": _update, "set_status": _status, "notify": _notify,
               "call_webhook": _webhook, "start_flow": _flow}


# ---------------------------------------------------------------------------- runs

def cell(value: Any) -> dict:
    """A value for a table cell: ``{"text"}``, or ``{"rows", "columns"}`` for a list of objects."""
    if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
        columns = list(dict.fromkeys(k for row in value[:MAX_ROWS] for k in row))
        rows = [[_text(row.get(c)) for c in columns] for row in value[:MAX_ROWS]]
        return {"columns": columns, "rows": rows, "more": max(0, len(value) - MAX_ROWS)}
    return {"text": _text(value)}


def _text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return t("是", "Yes") if value else t("否", "No")
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _fields(session, tenant_id: int, form_key: str | None) -> dict:
    form = _form(session, tenant_id, form_key)
    return {f.key: f for f in form.fields} if form is not None else {}


def _shown(f, value: Any) -> dict:
    """A record value as the record pages show it (choice labels, Yes/No, units); sub-tables as tables."""
    if f is None or value is None or f.type == "subtable" or isinstance(value, (dict, list)) and f.type not in (
            "multiselect", "user", "department", "reference"):
        return cell(value)
    return {"text": display.shown(f, value) or "—"}


def values_table(session, tenant_id: int, event: Mapping[str, Any]) -> list[dict]:
    """The record's values (and old values, with changed ones marked) as rows for a table."""
    new, old = (_record_data(event.get(k)) for k in ("values", "old"))
    if new is None and old is None:
        return []
    new = new or {}
    fields = _fields(session, tenant_id, event.get("form"))
    names = {k: t(zh, en) for k, (zh, en) in SYSTEM_KEYS.items()} | {k: label(f.label) for k, f in fields.items()}
    changed = set(event.get("changed") or ())
    rows = []
    for key in dict.fromkeys([*new, *(old or {})]):
        show = (lambda v: {"text": display.when(v) or "—"}) if key in ("created_at", "updated_at") else \
            (lambda v, f=fields.get(key): _shown(f, v))
        rows.append({"key": key, "label": names.get(key, ""), "value": show(new.get(key)),
                     "old": show(old.get(key)) if old is not None else None, "changed": key in changed})
    return rows


def _record_data(value: Any) -> Mapping[str, Any] | None:
    if not isinstance(value, Mapping):
        return None
    return value["data"] if isinstance(value.get("data"), Mapping) else value


def flatten(value: Any, prefix: str = "", limit: int = 200) -> list[tuple[str, dict]]:
    """A JSON document as (dotted path, cell) pairs; lists of objects stay one table cell."""
    out: list[tuple[str, dict]] = []
    if isinstance(value, Mapping) and value:
        for key, item in value.items():
            out += flatten(item, f"{prefix}.{key}" if prefix else str(key), limit)
            if len(out) >= limit:
                break
        return out[:limit]
    return [(prefix or "$", cell(value))]


def event_sections(session, tenant_id: int, event: Mapping[str, Any]) -> dict:
    """What a run got as input, in pieces the run page shows as tables (anything else: JSON)."""
    event = event if isinstance(event, Mapping) else {"event": event}
    known = {"kind", "form", "record_id", "values", "old", "changed", "payload", "flow", "violation", "at", "actor_id", "lang"}
    rest = {k: v for k, v in event.items() if k not in known}
    return {
        "kind": event.get("kind"), "at": event.get("at"), "changed": list(event.get("changed") or ()),
        "values": values_table(session, tenant_id, event), "has_old": isinstance(event.get("old"), Mapping),
        "payload": flatten(event["payload"]) if "payload" in event else None,
        "flow": flatten(event["flow"]) if isinstance(event.get("flow"), Mapping) else None,
        "violation": flatten(event["violation"]) if isinstance(event.get("violation"), Mapping) else None,
        "rest": json.dumps(rest, ensure_ascii=False, indent=2, default=str) if rest else None,
    }


def action_steps(run: Mapping[str, Any], rule_actions: list[dict] | None) -> list[dict]:
    """Each action of the run's rule version with its outcome (or why it has none), in order."""
    done = {a["index"]: a for a in run.get("actions") or ()}
    planned = rule_actions if rule_actions is not None else [
        {"index": i, "type": a["type"], "name": action_name(a["type"]), "details": ""} for i, a in sorted(done.items())]
    failed_at = _failed_index(run)
    steps = []
    for item in planned:
        ran = done.get(item["index"])
        state = "done" if ran else ("failed" if failed_at == item["index"] else "not_run")
        outcome = flatten(ran["outcome"]) if ran and isinstance(ran.get("outcome"), Mapping) else (
            [("$", cell(ran["outcome"]))] if ran and ran.get("outcome") is not None else [])
        steps.append({**item, "state": state, "outcome": outcome, "at": ran["at"] if ran else None,
                      "record": _created_record(ran["outcome"] if ran else None)})
    return steps


def _failed_index(run: Mapping[str, Any]) -> int | None:
    """Which action a run's error names (its message starts with ``#<n> <type>:``)."""
    error = run.get("error") or ""
    if not error.startswith("#"):
        return None
    number = error[1:].split(" ", 1)[0]
    return int(number) - 1 if number.isdigit() else None


def _created_record(outcome: Any) -> tuple[str, int] | None:
    if not isinstance(outcome, Mapping):
        return None
    form, record_id = outcome.get("form"), outcome.get("record_id")
    return (form, record_id) if isinstance(form, str) and isinstance(record_id, int) else None
