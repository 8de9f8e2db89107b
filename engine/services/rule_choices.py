"""What the rule designer offers in its pickers, read from the engine's registries and the tenant.

Trigger and action types come from :data:`engine.rules.TRIGGERS` / :data:`engine.rules.ACTIONS`
with their bilingual labels and option schemas (references into the shared schema files
resolved, so the designer can build a generic form for an add-on type); the tenant's published
forms (fields with the expression type a mapping must give), flows (with their nodes), roles,
people and group robots. Also the next times of a cron expression (the schedule trigger's hint)
and the records a test run can be tried on.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy.orm import Session

from engine.definitions.model import FieldDef, FormDef
from engine.definitions.schema import load_schema
from engine.i18n import Msg, label_text
from engine.rules import ACTIONS, TRIGGERS
from engine.rules.actions import NOT_WRITABLE
from engine.services import accounts, rule_defs
from engine.services.flow_choices import list_roles, require_some_design
from engine.types import Actor

EXPECT = {"number": "number", "text": "text", "boolean": "boolean", "date": "date"}


def _resolved(schema: Any) -> Any:
    """``schema`` with ``$ref``s into the shared definitions (identifiers, labels) replaced by what
    they point at; a reference to another definition kind (a report dataset) stays a marked object."""
    if isinstance(schema, list):
        return [_resolved(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    ref = schema.get("$ref")
    if isinstance(ref, str):
        name, _, pointer = ref.partition("#")
        target: Any = load_schema(name)
        for part in [p for p in pointer.split("/") if p]:
            target = target.get(part, {}) if isinstance(target, dict) else {}
        rest = {k: v for k, v in schema.items() if k != "$ref"}
        if name != "common.schema.json":
            return {"type": target.get("type", "object"), "x-ref": ref, **rest}
        return {**_resolved(target), **_resolved(rest)}
    return {k: _resolved(v) for k, v in schema.items()}


def _kind(kind, **extra: Any) -> dict:
    doc = (type(kind).__doc__ or "").strip().split("\n\n")[0]
    return {"type": kind.type, "label": kind.label.to_dict(), "doc": " ".join(doc.split()),
            "options": _resolved(kind.options_schema), "required": list(kind.required_options), **extra}


def vocabulary() -> dict[str, list[dict]]:
    """Trigger and action types (no tenant data)."""
    return {"triggers": [_kind(t, needs_form=t.needs_form, events=sorted(t.events)) for t in TRIGGERS.all()],
            "actions": [_kind(a) for a in ACTIONS.all()]}


def _field(f: FieldDef, types: dict, path: tuple[str, ...]) -> dict:
    kind = types.get(path + (f.key,))
    out = {"key": f.key, "label": {"zh-CN": label_text(f.label, "zh-CN"), "en": label_text(f.label, "en")},
           "type": f.type, "required": f.required is True,
           "writable": f.type not in NOT_WRITABLE and f.type != "subtable",
           "expect": EXPECT.get(getattr(getattr(kind, "kind", None), "value", None)),
           "is_user": getattr(kind, "tag", None) == "user"}
    if f.option("choices"):
        out["choices"] = [{"code": c.get("code"), "label": c.get("label")} for c in f.option("choices") or ()]
    if f.type == "subtable":
        out["fields"] = [_field(c, types, path + (f.key,)) for c in f.fields]
    return out


def form_choice(form: FormDef) -> dict:
    """A published form as pickers need it: fields with the expression type a mapping must give."""
    from engine.definitions import form_types
    types = form_types(form).types
    return {"key": form.key, "label": {"zh-CN": label_text(form.label, "zh-CN"), "en": label_text(form.label, "en")},
            "fields": [_field(f, types, ()) for f in form.fields]}


def _label(value: Msg | None, fallback: str) -> dict:
    return value.to_dict() if isinstance(value, Msg) else {"zh-CN": fallback, "en": fallback}


def rule_choices(session: Session, actor: Actor) -> dict[str, Any]:
    """Everything the rule designer's pickers need for the actor's tenant (design permission somewhere)."""
    from engine.services.notify_channels import list_channels
    require_some_design(session, actor)
    tenant_id = actor.tenant_id
    forms = rule_defs.published_forms(session, tenant_id)
    flows = rule_defs.published_flows(session, tenant_id)
    return {
        **vocabulary(),
        "forms": [form_choice(f) for _, f in sorted(forms.items())],
        "flows": [{"key": k, "label": _label(f.label, k), "form": f.form,
                   "nodes": [{"id": n.id, "type": n.type, "label": _label(n.label, n.id)} for n in f.nodes]}
                  for k, f in sorted(flows.items())],
        "roles": list_roles(session, tenant_id),
        "users": [{"id": u["id"], "name": u["name"] or u["email"]} for u in accounts.list_users(session, tenant_id)],
        "robots": [{"key": c["key"], "name": c["name"], "kind": c["kind"]} for c in list_channels(session, actor)],
    }


def cron_hint(expression: str, zone: str | None, count: int = 5, now: datetime | None = None) -> dict:
    """``{"ok", "message"?, "next": [ISO times in the zone]}`` for the schedule trigger's hint."""
    from zoneinfo import ZoneInfo
    from engine.rules.schedule import DEFAULT_ZONE, cron_problem, next_run, zone_problem
    problem = cron_problem(expression) or (zone_problem(zone) if zone else None)
    if problem is not None:
        return {"ok": False, "message": problem.to_dict(), "next": []}
    tz = ZoneInfo(zone or DEFAULT_ZONE)
    at, out = now or datetime.now(timezone.utc), []
    for _ in range(max(1, min(count, 10))):
        at = next_run(expression, at, zone)
        out.append(at.astimezone(tz).isoformat())
    return {"ok": True, "next": out, "zone": str(tz)}


def rule_app(session: Session, tenant_id: int, key: Any, form_key: Any) -> str | None:
    """The app a rule belongs to: its draft's, else its published definition's, else its form's."""
    from sqlalchemy import and_, select
    from engine.storage.design_tables import designer_drafts as dd
    from engine.storage.platform import form_definitions as fd
    from engine.storage.rule_tables import rule_definitions as rdefs
    if isinstance(key, str):
        for table, where in ((dd, and_(dd.c.kind == "rule", dd.c.key == key)), (rdefs, rdefs.c.key == key)):
            found = session.execute(select(table.c.app_key).where(and_(table.c.tenant_id == tenant_id, where))).first()
            if found is not None and found[0]:
                return found[0]
    if isinstance(form_key, str):
        return session.execute(select(fd.c.app_key).where(and_(fd.c.tenant_id == tenant_id, fd.c.key == form_key))
                               ).scalar()
    return None


def trial_records(session: Session, actor: Actor, form_key: str, text: str = "", limit: int = 20) -> list[dict]:
    """Records of ``form_key`` the actor may read whose number or title contains ``text`` (newest first)."""
    from engine.services import records
    text = "".join(ch for ch in (text or "").strip() if ch not in '\\"')[:60]
    filter = f'CONTAINS(serial_no, "{text}") OR CONTAINS(title, "{text}")' if text else None
    if text.isdigit():
        filter += f" OR id = {int(text)}"
    page = records.query_records(session, actor, form_key, filter, "-id", per_page=max(1, min(limit, 50)))
    return [{"id": r.id, "serial_no": r.serial_no, "title": r.title, "created_at": r.created_at.isoformat()}
            for r in page.items]
