"""Designer use cases on whole apps: the apps a user may design, and one app's definitions of
every kind (published and drafts) for its overview page. Re-exported by :mod:`.designs`."""
from __future__ import annotations

from typing import Any, Mapping

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from engine.services import designs
from engine.services.apps import app_row
from engine.services.design_kinds import KINDS, Kind
from engine.storage.design_tables import designer_drafts as dd
from engine.storage.platform import apps as apps_table
from engine.types import Actor


def list_designable_apps(session: Session, actor: Actor) -> list[dict]:
    """Apps the actor may design: key, label, version and how many definitions of each kind."""
    rows = session.execute(select(apps_table).where(apps_table.c.tenant_id == actor.tenant_id)
                           .order_by(apps_table.c.key)).mappings().all()
    out = []
    for row in rows:
        if not designs.may_design_app(session, actor, row["key"]):
            continue
        counts = {f"{name}s": len(_keys_of(session, actor.tenant_id, kind, row["key"])) for name, kind in KINDS.items()}
        out.append({"key": row["key"], "label": dict(row["label"]), "version": row["version"], "counts": counts})
    return out


def _keys_of(session: Session, tenant_id: int, kind: Kind, app_key: str) -> set[str]:
    published = {i["key"] for i in kind.app_items(session, tenant_id, app_key)}
    drafts = session.execute(select(dd.c.key).where(and_(dd.c.tenant_id == tenant_id, dd.c.kind == kind.name,
                                                         dd.c.app_key == app_key))).scalars()
    return published | set(drafts)


def app_overview(session: Session, actor: Actor, app_key: str) -> dict:
    """The app's definitions per kind (published and drafts): key, label, published version, draft state."""
    designs.require_app_design(session, actor, app_key)
    row = app_row(session, actor.tenant_id, app_key)
    out: dict[str, Any] = {"key": app_key, "label": dict(row["label"]), "version": row["version"]}
    items_by_kind = {}
    for name, kind in KINDS.items():
        items = {}
        for item in kind.app_items(session, actor.tenant_id, app_key):
            items[item["key"]] = {"key": item["key"], "label": (item["definition"] or {}).get("label"),
                                  "published_version": item["version"], "has_draft": False,
                                  "updated_at": item["published_at"], "updated_by": item["published_by"],
                                  "form": item.get("form_key") if kind.form_column else None}
        drafts = session.execute(select(dd).where(and_(dd.c.tenant_id == actor.tenant_id, dd.c.kind == name,
                                                       dd.c.app_key == app_key))).mappings()
        for d in drafts:
            definition = d["definition"] if isinstance(d["definition"], Mapping) else {}
            item = items.setdefault(d["key"], {"key": d["key"], "published_version": 0})
            item.update(label=definition.get("label"), has_draft=True, updated_at=d["updated_at"],
                        updated_by=d["updated_by"])
            if kind.form_column:        # the draft's form (it may move a flow, rule or report)
                item["form"] = designs._draft_form(kind, definition)
        items_by_kind[f"{name}s"] = [items[k] for k in sorted(items)]
    names = designs.user_names(session, actor.tenant_id, (i["updated_by"] for v in items_by_kind.values() for i in v))
    for items in items_by_kind.values():
        for item in items:
            item["updated_by"] = names.get(item["updated_by"])
            if item.get("form") is None:
                item.pop("form", None)
    return {**out, **items_by_kind}
