"""Designer use cases: who may design an app, its apps and definitions, drafts (autosaved with a
revision), checking and publishing a draft. Versions and restores: :mod:`.design_versions`.

Every function runs inside the caller's transaction and never commits. A draft's ``revision``
is compared and swapped in SQL (``UPDATE … WHERE revision = :expected``), so of two designers
(two processes) saving the same draft at once exactly one wins; the other gets
:class:`DraftConflict` naming who saved in between. Revision 0 means "no draft: the published
version" — the first save of a published definition inserts the draft with revision 1.

Problem paths leave here as JSON pointers (``/fields/2/formula``), which editors map to the
place in their canvas.
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any, Mapping

from sqlalchemy import and_, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine import access as access_control
from engine.definitions.identifiers import identifier_problem
from engine.errors import Conflict, DefinitionError, NotFound, PermissionDenied, Problem
from engine.i18n import msg
from engine.services.apps import app_row
from engine.services.design_kinds import Kind, kind_of, problems as kind_problems, publish as kind_publish, starter
from engine.storage import form_store
from engine.storage.design_tables import designer_drafts as dd
from engine.storage.platform import apps as apps_table
from engine.storage.platform import form_definitions as fd
from engine.storage.platform import permissions, roles, users
from engine.types import Actor

MAX_DRAFT_BYTES = 2 * 1024 * 1024


class DraftConflict(Conflict):
    """Someone else saved the draft since the caller read it; ``current`` says who and when."""

    def __init__(self, current: Mapping[str, Any]):
        self.current = dict(current)
        if not current.get("revision"):
            text = msg("草稿已在此期间被发布或放弃，请重新加载", "The draft was published or discarded meanwhile; reload it")
        else:
            text = msg("草稿已被{n}修改（修订 {r}），请先加载最新内容", "The draft was changed by {n} (revision {r}); reload it "
                       "first", n=current.get("updated_by_name") or "?", r=current.get("revision"))
        super().__init__(text)


# ---------------------------------------------------------------------------- helpers

_TOKEN = re.compile(r'\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]')


def pointer(path: str) -> str:
    """A problem path as a JSON pointer: ``$.nodes[2].assignees`` → ``/nodes/2/assignees``."""
    if not path.startswith("$"):
        return path
    parts = []
    for name, index, quoted in _TOKEN.findall(path[1:]):
        part = name or index or quoted.replace('\\"', '"').replace("\\\\", "\\")
        parts.append(part.replace("~", "~0").replace("/", "~1"))
    return "/" + "/".join(parts) if parts else ""


def as_pointers(found: list[Problem]) -> list[Problem]:
    return [Problem(pointer(p.path), p.message) for p in found]


def _now() -> datetime:
    return datetime.now(timezone.utc)


def user_names(session: Session, tenant_id: int, ids) -> dict[int, str]:
    """Display names (name, else e-mail) of the tenant's users by id."""
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    rows = session.execute(select(users.c.id, users.c.name, users.c.email)
                           .where(and_(users.c.tenant_id == tenant_id, users.c.id.in_(ids))))
    return {r.id: r.name or r.email for r in rows}


def _draft_row(session: Session, tenant_id: int, kind: str, key: str):
    return session.execute(select(dd).where(and_(dd.c.tenant_id == tenant_id, dd.c.kind == kind, dd.c.key == key))
                           ).mappings().first()


# ---------------------------------------------------------------------------- permission

def may_design_app(session: Session, actor: Actor, app_key: str) -> bool:
    """Admins and the system; a role with ``design`` on ``app:<key>``; or design on every form of the app."""
    if actor.unrestricted:
        return True
    if actor.roles:
        rows = session.execute(select(permissions.c.rules).join(roles, roles.c.id == permissions.c.role_id).where(and_(
            permissions.c.tenant_id == actor.tenant_id, roles.c.tenant_id == actor.tenant_id,
            roles.c.key.in_(list(actor.roles)), permissions.c.target == f"app:{app_key}"))).scalars()
        if any(isinstance(r, Mapping) and r.get("design") is True for r in rows):
            return True
    forms = session.execute(select(fd.c.key).where(and_(fd.c.tenant_id == actor.tenant_id, fd.c.app_key == app_key))
                            ).scalars().all()
    return bool(forms) and all(access_control.form_access(session, actor, k).can_design for k in forms)


def require_app_design(session: Session, actor: Actor, app_key: str) -> None:
    """NotFound for an app the tenant does not have; PermissionDenied without design permission on it."""
    app_row(session, actor.tenant_id, app_key)
    if not may_design_app(session, actor, app_key):
        raise PermissionDenied(msg("你没有设计应用“{k}”的权限", "You may not design the app '{k}'", k=app_key))


def require_definition_design(session: Session, actor: Actor, app_key: str | None, form_key: str | None) -> None:
    """A definition of an app: design on the app. One of no app: an admin, or design on its form."""
    if app_key is not None:
        require_app_design(session, actor, app_key)
        return
    if actor.unrestricted or (form_key and access_control.form_access(session, actor, form_key).can_design):
        return
    raise PermissionDenied(msg("只有管理员可以设计不属于任何应用的定义", "Only an administrator can design a definition "
                               "that belongs to no app"))


# ---------------------------------------------------------------------------- apps

def _label_problems(label: Any, path: str) -> list[Problem]:
    if isinstance(label, Mapping) and all(isinstance(label.get(l), str) and label.get(l).strip() for l in ("zh-CN", "en")):
        return []
    return [Problem(path, msg("名称须有中文（zh-CN）和英文（en）两种", "The label needs both zh-CN and en text"))]


def create_app(session: Session, actor: Actor, key: str, label: Mapping[str, str]) -> str:
    """A new empty app (admins only); DefinitionError for a bad key or label, Conflict if it exists."""
    if not actor.unrestricted:
        raise PermissionDenied(msg("只有管理员可以新建应用", "Only an administrator can create an app"))
    problem = identifier_problem(key)
    found = ([Problem("/key", problem)] if problem else []) + _label_problems(label, "/label")
    if found:
        raise DefinitionError(found)
    exists = select(apps_table.c.id).where(and_(apps_table.c.tenant_id == actor.tenant_id, apps_table.c.key == key))
    if session.execute(exists).first() is not None:
        raise Conflict(msg("应用“{k}”已存在", "The app '{k}' already exists", k=key))
    label = {"zh-CN": label["zh-CN"], "en": label["en"]}
    package = {"format": 1, "key": key, "version": "1.0.0", "label": label, "forms": []}
    try:
        with session.begin_nested():
            session.execute(insert(apps_table).values(tenant_id=actor.tenant_id, key=key, version="1.0.0", label=label,
                                                      package=package, installed_at=_now()))
    except IntegrityError:
        raise Conflict(msg("应用“{k}”已存在", "The app '{k}' already exists", k=key)) from None
    return key


def new_definition(session: Session, actor: Actor, app_key: str, kind: str, key: str, label: Mapping[str, str],
                   form: str | None = None) -> dict:
    """A new draft of ``kind`` in the app, from the kind's smallest definition: ``{key, revision}``.

    Keys are unique per kind in a tenant (Conflict otherwise). Flows, rules and reports name the
    published form they work on. A new form gets its (unpublished) definitions row now, so it
    belongs to the app from the start and the app's design permission covers its publishing.
    """
    require_app_design(session, actor, app_key)
    spec = kind_of(kind)
    problem = identifier_problem(key)
    found = ([Problem("/key", problem)] if problem else []) + _label_problems(label, "/label")
    if spec.name in ("flow", "rule", "report"):
        if not isinstance(form, str) or form_store.version_row(session, actor.tenant_id, form) is None:
            found.append(Problem("/form", msg("请选择一个已发布的表单", "Choose a published form")))
    if found:
        raise DefinitionError(found)
    if spec.row(session, actor.tenant_id, key) is not None or _draft_row(session, actor.tenant_id, spec.name, key):
        raise Conflict(msg("“{k}”已被占用，请换一个键", "The key '{k}' is already taken; choose another", k=key))
    label = {"zh-CN": label["zh-CN"], "en": label["en"]}
    try:
        with session.begin_nested():
            if spec.name == "form":
                session.execute(insert(fd).values(tenant_id=actor.tenant_id, key=key, app_key=app_key, draft=None,
                                                  current_version=0, updated_at=_now()))
            session.execute(insert(dd).values(tenant_id=actor.tenant_id, kind=spec.name, key=key, app_key=app_key,
                                              definition=starter(spec.name, key, label, form), revision=1,
                                              updated_at=_now(), updated_by=actor.user_id))
    except IntegrityError:
        raise Conflict(msg("“{k}”已被占用，请换一个键", "The key '{k}' is already taken; choose another", k=key)) from None
    return {"key": key, "revision": 1}


# ---------------------------------------------------------------------------- drafts

def _subject(session: Session, actor: Actor, kind: Kind, key: str) -> tuple[Any, dict | None]:
    """(draft row or None, definition row or None) after the permission check; NotFound for neither."""
    draft = _draft_row(session, actor.tenant_id, kind.name, key)
    row = kind.row(session, actor.tenant_id, key)
    if draft is None and (row is None or not row["version"]):
        raise NotFound(msg("“{k}”不存在", "'{k}' does not exist", k=key))
    app_key = draft["app_key"] if draft is not None else row["app_key"]
    form_key = row["form_key"] if row else _draft_form(kind, draft["definition"])
    require_definition_design(session, actor, app_key, form_key)
    return draft, row


def _draft_form(kind: Kind, definition: Any) -> str | None:
    if not isinstance(definition, Mapping):
        return None
    if kind.name == "form":
        return definition.get("key")
    if kind.name == "report":
        ds = definition.get("dataset")
        return ds.get("form") if isinstance(ds, Mapping) else None
    return definition.get("form") if isinstance(definition.get("form"), str) else None


def _published_keys(session: Session, tenant_id: int, key: str) -> list[str]:
    """Field keys in any published version of a form (sub-table columns as ``table.column``)."""
    from engine.storage.platform import form_versions as fv
    found: set[str] = set()

    def walk(fields, prefix):
        for f in fields or ():
            if isinstance(f, Mapping) and isinstance(f.get("key"), str):
                found.add(prefix + f["key"])
                walk(f.get("fields"), prefix + f["key"] + ".")
    for definition in session.execute(select(fv.c.definition).where(and_(fv.c.tenant_id == tenant_id,
                                                                         fv.c.form_key == key))).scalars():
        walk(definition.get("fields"), "")
    return sorted(found)


def get_draft(session: Session, actor: Actor, kind: str, key: str) -> dict:
    """The draft, or the newest published version (revision 0) when there is no draft."""
    spec = kind_of(kind)
    draft, row = _subject(session, actor, spec, key)
    published = row["version"] if row else 0
    if draft is not None:
        out = {"definition": draft["definition"], "revision": draft["revision"], "app_key": draft["app_key"],
               "updated_at": draft["updated_at"], "updated_by": draft["updated_by"]}
    else:
        version = spec.version(session, actor.tenant_id, key)
        out = {"definition": version["definition"], "revision": 0, "app_key": row["app_key"],
               "updated_at": version["published_at"], "updated_by": version["published_by"]}
    out["updated_by_name"] = user_names(session, actor.tenant_id, [out["updated_by"]]).get(out["updated_by"])
    out["published_version"] = published
    out["published_keys"] = _published_keys(session, actor.tenant_id, key) if spec.name == "form" else []
    return out


def _current(session: Session, tenant_id: int, kind: str, key: str) -> dict:
    draft = _draft_row(session, tenant_id, kind, key)
    if draft is None:
        return {"revision": 0, "updated_by_name": None, "updated_at": None}
    name = user_names(session, tenant_id, [draft["updated_by"]]).get(draft["updated_by"])
    return {"revision": draft["revision"], "updated_by_name": name, "updated_at": draft["updated_at"]}


def store_draft(session: Session, actor: Actor, spec: Kind, key: str, definition: Any, revision: int,
                app_key: str | None) -> dict:
    """Compare-and-swap the draft to ``definition``: ``{revision, updated_at}``; DraftConflict when stale."""
    if not isinstance(definition, dict):
        raise DefinitionError([Problem("", msg("定义必须是 JSON 对象", "The definition must be a JSON object"))])
    if len(json.dumps(definition, ensure_ascii=False, default=str).encode()) > MAX_DRAFT_BYTES:
        raise DefinitionError([Problem("", msg("草稿太大（上限 2 MB）", "The draft is too large (at most 2 MB)"))])
    now, tenant_id = _now(), actor.tenant_id
    values = dict(definition=definition, updated_at=now, updated_by=actor.user_id)
    if revision == 0:
        if _draft_row(session, tenant_id, spec.name, key) is not None:
            raise DraftConflict(_current(session, tenant_id, spec.name, key))
        try:
            with session.begin_nested():       # a concurrent first save trips the unique key
                session.execute(insert(dd).values(tenant_id=tenant_id, kind=spec.name, key=key, app_key=app_key,
                                                  revision=1, **values))
        except IntegrityError:
            raise DraftConflict(_current(session, tenant_id, spec.name, key)) from None
        return {"revision": 1, "updated_at": now}
    done = session.execute(update(dd).where(and_(dd.c.tenant_id == tenant_id, dd.c.kind == spec.name, dd.c.key == key,
                                                 dd.c.revision == revision))
                           .values(revision=dd.c.revision + 1, **values))
    if done.rowcount != 1:
        raise DraftConflict(_current(session, tenant_id, spec.name, key))
    return {"revision": revision + 1, "updated_at": now}


def save_draft(session: Session, actor: Actor, kind: str, key: str, definition: Any, revision: int) -> dict:
    """Autosave: not validated (work in progress), only a JSON object ≤ 2 MB; DraftConflict when stale."""
    spec = kind_of(kind)
    draft, row = _subject(session, actor, spec, key)
    app_key = draft["app_key"] if draft is not None else row["app_key"]
    return store_draft(session, actor, spec, key, definition, revision, app_key)


def discard_draft(session: Session, actor: Actor, kind: str, key: str, revision: int) -> None:
    """Drop the draft (a never-published form's unpublished row with it); DraftConflict when stale."""
    spec = kind_of(kind)
    draft, row = _subject(session, actor, spec, key)
    if draft is None:
        raise NotFound(msg("“{k}”没有草稿", "'{k}' has no draft", k=key))
    done = session.execute(delete(dd).where(and_(dd.c.id == draft["id"], dd.c.revision == revision)))
    if done.rowcount != 1:
        raise DraftConflict(_current(session, actor.tenant_id, spec.name, key))
    if spec.name == "form" and row is not None and not row["version"]:
        session.execute(delete(fd).where(and_(fd.c.tenant_id == actor.tenant_id, fd.c.key == key,
                                              fd.c.current_version == 0)))


def check_draft(session: Session, actor: Actor, kind: str, key: str, definition: Any = None) -> list[Problem]:
    """What publishing ``definition`` (default: the stored draft) would refuse; writes nothing."""
    spec = kind_of(kind)
    draft, _row = _subject(session, actor, spec, key)
    if definition is None:
        definition = draft["definition"] if draft is not None else spec.version(session, actor.tenant_id, key)["definition"]
    return as_pointers(kind_problems(session, actor, spec.name, key, definition))


def plan_draft(session: Session, actor: Actor, kind: str, key: str, definition: Any = None,
               lang: str | None = None) -> dict:
    """What publishing would do: problems, changes, impact on records and running flows, refusals
    (texts in ``lang``, default the actor's)."""
    from engine.services.design_versions import plan_of
    spec = kind_of(kind)
    draft, _row = _subject(session, actor, spec, key)
    if definition is None:
        definition = draft["definition"] if draft is not None else spec.version(session, actor.tenant_id, key)["definition"]
    found = as_pointers(kind_problems(session, actor, spec.name, key, definition))
    return {"problems": found, **plan_of(session, actor.tenant_id, spec.name, key, definition, lang or actor.lang)}


def publish_draft(session: Session, actor: Actor, kind: str, key: str, revision: int) -> int:
    """Publish the draft as the next version and remove the draft: the version number.

    DraftConflict when ``revision`` is stale; DefinitionError (JSON-pointer paths) when the draft
    is invalid or publishing would lose data (the plan's refusals).
    """
    from engine.services.design_versions import refusals
    spec = kind_of(kind)
    draft, row = _subject(session, actor, spec, key)
    if draft is None:
        raise NotFound(msg("“{k}”没有草稿可发布", "'{k}' has no draft to publish", k=key))
    if draft["revision"] != revision:
        raise DraftConflict(_current(session, actor.tenant_id, spec.name, key))
    definition = draft["definition"]
    found = kind_problems(session, actor, spec.name, key, definition)
    if found:
        raise DefinitionError(as_pointers(found))
    refused = refusals(session, actor.tenant_id, spec.name, key, definition, actor.lang)
    if refused:
        raise DefinitionError(refused, msg("发布会丢失数据，已拒绝", "Publishing would lose data; refused"))
    claimed = session.execute(delete(dd).where(and_(dd.c.id == draft["id"], dd.c.revision == revision)))
    if claimed.rowcount != 1:           # someone saved or published in between
        raise DraftConflict(_current(session, actor.tenant_id, spec.name, key))
    try:
        version = kind_publish(session, actor, spec.name, definition, draft["app_key"])
    except DefinitionError as exc:
        raise DefinitionError(as_pointers(exc.problems), exc.message) from None
    if draft["app_key"] is not None:    # a definition made elsewhere joins the app it was designed in
        session.execute(update(spec.defs).where(and_(spec.defs.c.tenant_id == actor.tenant_id, spec.defs.c.key == key,
                                                     spec.defs.c.app_key.is_(None))).values(app_key=draft["app_key"]))
    return version


from engine.services.design_apps import app_overview, list_designable_apps  # noqa: E402  (re-exported)

__all__ = ["DraftConflict", "app_overview", "check_draft", "create_app", "discard_draft", "get_draft",
           "list_designable_apps", "may_design_app", "new_definition", "plan_draft", "pointer", "publish_draft",
           "require_app_design", "require_definition_design", "save_draft", "store_draft", "user_names"]
