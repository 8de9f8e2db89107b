"""Designer use cases on published versions: list, read, restore one as the draft; and the bridge
to the publish plan (:mod:`engine.services.design_plan`: changes, impact, data-loss refusals).

Never commits. Restoring is a draft save (compare-and-swap on the revision) whose content is an
old version's definition, so a stale restore is a DraftConflict like a stale save.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from engine.errors import NotFound, Problem
from engine.i18n import msg
from engine.services import designs
from engine.services.design_kinds import kind_of
from engine.types import Actor


def list_versions(session: Session, actor: Actor, kind: str, key: str) -> list[dict]:
    """Every published version, newest first: ``{version, published_at, published_by_name}``."""
    spec = kind_of(kind)
    designs._subject(session, actor, spec, key)
    rows = spec.version_rows(session, actor.tenant_id, key)
    names = designs.user_names(session, actor.tenant_id, (r["published_by"] for r in rows))
    return [{"version": r["version"], "published_at": r["published_at"],
             "published_by_name": names.get(r["published_by"])} for r in rows]


def get_version(session: Session, actor: Actor, kind: str, key: str, number: int, lang: str = "zh-CN") -> dict:
    """One published version: ``{version, definition, published_at, published_by_name, changes}``, where
    ``changes`` is what that version changed against the one before it (readable, as the publish
    dialog shows it; everything is "added" in version 1); NotFound if absent."""
    from engine.services.design_diff import diff
    spec = kind_of(kind)
    designs._subject(session, actor, spec, key)
    found = spec.version(session, actor.tenant_id, key, number)
    name = designs.user_names(session, actor.tenant_id, [found["published_by"]]).get(found["published_by"])
    try:
        before = spec.version(session, actor.tenant_id, key, number - 1)["definition"] if number > 1 else None
    except NotFound:
        before = None
    return {"version": found["version"], "definition": found["definition"], "published_at": found["published_at"],
            "published_by_name": name, "changes": diff(spec.name, before, found["definition"], lang)}


def restore_version(session: Session, actor: Actor, kind: str, key: str, number: int, revision: int) -> dict:
    """Make version ``number`` the draft (DraftConflict when ``revision`` is stale): ``{revision, updated_at}``."""
    spec = kind_of(kind)
    draft, row = designs._subject(session, actor, spec, key)
    old = spec.version(session, actor.tenant_id, key, number)
    app_key = draft["app_key"] if draft is not None else row["app_key"]
    return designs.store_draft(session, actor, spec, key, old["definition"], revision, app_key)


# ---------------------------------------------------------------------------- the publish plan

def _plan_module():
    from engine.services import design_plan      # imported late: it imports the kinds' services
    return design_plan


def plan_of(session: Session, tenant_id: int, kind: str, key: str, definition: Any, lang: str = "zh-CN") -> dict:
    """``{changes, impact, refused}`` of publishing ``definition`` (see design_plan.plan);
    ``refused`` as Problems with JSON-pointer paths."""
    module = _plan_module()
    out = dict(module.plan(session, tenant_id, kind, key, definition, lang=lang))
    out["refused"] = [_problem(r, definition) for r in out.get("refused") or ()]
    return out


def refusals(session: Session, tenant_id: int, kind: str, key: str, definition: Any,
             lang: str = "zh-CN") -> list[Problem]:
    """Why publishing ``definition`` would lose data (empty: it would not), as Problems."""
    module = _plan_module()
    if hasattr(module, "refusals"):
        found = module.refusals(session, tenant_id, kind, key, definition, lang=lang)
    else:
        found = module.plan(session, tenant_id, kind, key, definition, lang=lang).get("refused") or []
    return [_problem(r, definition) for r in found]


def field_pointer(definition: Any, path: str) -> str:
    """A form field named by its dotted key path (``items.qty``, ``grade:B`` for one of its
    options) as a JSON pointer to the field in ``definition`` (``/fields/4/fields/1``); ``path``
    unchanged when it names no field there."""
    if not path or path.startswith(("$", "/")) or not isinstance(definition, dict):
        return designs.pointer(path)
    fields, parts = definition.get("fields"), []
    for key in path.split(":", 1)[0].split("."):
        index = next((i for i, f in enumerate(fields or ()) if isinstance(f, dict) and f.get("key") == key), None)
        if index is None:
            return path
        parts += ["fields", str(index)]
        fields = fields[index].get("fields")
    return "/" + "/".join(parts)


def _problem(item: Any, definition: Any = None) -> Problem:
    """A refusal (Problem or ``{path, message[, messages]}``) as a Problem with a JSON-pointer path."""
    if isinstance(item, Problem):
        return Problem(field_pointer(definition, item.path), item.message)
    message = item.get("message") if isinstance(item, dict) else str(item)
    messages = item.get("messages") if isinstance(item, dict) else None
    if isinstance(messages, dict):
        text = msg(messages.get("zh-CN") or str(message), messages.get("en") or str(message))
    elif hasattr(message, "zh"):
        text = message
    else:
        text = msg(str(message), str(message))
    return Problem(field_pointer(definition, str(item.get("path", "")) if isinstance(item, dict) else ""), text)
