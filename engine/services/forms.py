"""Form use cases: save a draft, publish a version (creating/migrating its record tables), read.

Each function runs inside the caller's transaction (``with session_scope(engine) as s``) and
never commits: publishing writes the version row and the DDL together, so a refused or failed
publish leaves neither behind.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Mapping

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine import access as access_control
from engine.definitions import load_form
from engine.definitions.model import FormDef
from engine.errors import Conflict, PermissionDenied
from engine.i18n import msg
from engine.services import trace as trace_service
from engine.storage import form_store
from engine.storage.record_tables import publish_tables
from engine.types import Actor


def published_forms(session: Session, tenant_id: int) -> dict[str, FormDef]:
    """Every published form of the tenant (current version), by key."""
    return {row["key"]: form_store.load_published(session, tenant_id, row["key"]).form
            for row in form_store.list_published(session, tenant_id)}


def publish_form(session: Session, actor: Actor, definition: Mapping[str, Any], app_key: str | None = None,
                 known_forms: Mapping[str, FormDef] | None = None) -> FormDef:
    """Validate and publish ``definition`` as the form's next version; DefinitionError lists every problem.

    The record tables are created or migrated in the same transaction (new columns and
    sub-tables added, safe widenings applied; unsafe changes refused before any DDL runs).
    ``known_forms`` are treated as published too (an app import publishes forms that
    reference each other, possibly in a cycle).
    """
    known = published_forms(session, actor.tenant_id)
    known.update(known_forms or {})
    form = load_form(dict(definition), known_forms=known)
    tenant_id = actor.tenant_id
    require_design(session, actor, form.key)
    try:
        if form_store.definition_row(session, tenant_id, form.key, lock=True) is None:
            form_store.save_draft(session, tenant_id, form.key, None, app_key)
            session.flush()
    except IntegrityError:
        raise Conflict(msg("表单“{k}”正在被他人同时发布，请重试", "Form '{k}' is being published by someone else; retry",
                           k=form.key)) from None
    previous = form_store.version_row(session, tenant_id, form.key)
    form = replace(form, version=(previous["version"] if previous else 0) + 1)
    conn = session.connection()
    plan = publish_tables(conn, form, tenant_id, form_store.stored_spec(previous))
    form_store.insert_version(session, tenant_id, form, form.to_dict() or dict(definition), plan.spec,
                              plan.changes(conn.dialect.name), actor.user_id, _referenced(form, known))
    trace_service.index_links(session, tenant_id, form.key)      # forward traces read reference columns by value
    return form


def require_design(session: Session, actor: Actor, form_key: str) -> None:
    """Changing a definition needs the ``design`` permission on that form (or its app); a form
    that does not exist yet can be created by administrators (PermissionDenied otherwise)."""
    if actor.unrestricted:
        return
    if form_store.definition_row(session, actor.tenant_id, form_key) is None:
        raise PermissionDenied(msg("只有管理员可以新建表单", "Only an administrator can create a new form"))
    access_control.require(access_control.form_access(session, actor, form_key), "design")


def _referenced(form: FormDef, known: Mapping[str, FormDef]) -> dict[str, dict]:
    """Definitions of the other forms ``form`` references (at any sub-table depth), by key."""
    keys: set[str] = set()
    stack = list(form.fields)
    while stack:
        f = stack.pop()
        stack.extend(f.fields)
        if f.type == "reference" and f.option("form") in known and f.option("form") != form.key:
            keys.add(f.option("form"))
    return {key: known[key].to_dict() for key in sorted(keys)}


def save_draft(session: Session, actor: Actor, form_key: str, draft: Mapping[str, Any] | None,
               app_key: str | None = None) -> None:
    """Keep an unpublished draft of a form (not validated: the designer saves work in progress)."""
    require_design(session, actor, form_key)
    form_store.save_draft(session, actor.tenant_id, form_key, dict(draft) if draft is not None else None, app_key)


def get_form(session: Session, tenant_id: int, key: str, version: int | None = None) -> FormDef:
    """A published definition (newest, or ``version``); NotFound when there is none."""
    return form_store.load_published(session, tenant_id, key, version).form


def list_forms(session: Session, tenant_id: int) -> list[dict]:
    """Key, app and current version of every published form of the tenant."""
    return form_store.list_published(session, tenant_id)
