"""Flow definitions: publish (checked, versioned, immutable) and load the version an instance runs on.

Publishing needs the ``design`` permission on the flow's form. At most one flow per form starts
by itself when a record is created (``auto_start``); publishing a second one is refused.
"""
from __future__ import annotations

import weakref
from datetime import datetime, timezone
from typing import Any, Mapping

from sqlalchemy import and_, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.errors import Conflict, DefinitionError, NotFound, Problem
from engine.flows.definition import check_flow, load_flow
from engine.flows.model import FlowDef
from engine.i18n import msg
from engine.services.forms import require_design
from engine.storage import form_store
from engine.storage.flow_tables import flow_definitions as fdefs
from engine.storage.flow_tables import flow_versions as fvers
from engine.types import Actor


def publish_flow(session: Session, actor: Actor, definition: Mapping[str, Any], app_key: str | None = None) -> FlowDef:
    """Check and publish ``definition`` as the flow's next version; DefinitionError lists every problem."""
    data = dict(definition) if isinstance(definition, Mapping) else definition
    form_key = data.get("form") if isinstance(data, dict) else None
    try:
        form = form_store.load_published(session, actor.tenant_id, form_key).form if isinstance(form_key, str) else None
    except NotFound:
        form = None
    if form is None:
        raise DefinitionError(check_flow(data, None) or [Problem("$.form", msg(
            "流程所属的表单不存在或尚未发布", "The flow's form does not exist or is not published"))])
    require_design(session, actor, form.key)
    flow = load_flow(data, form)
    _check_automatic_actions(session, actor.tenant_id, data, form)
    _refuse_second_auto_start(session, actor.tenant_id, flow)
    now = datetime.now(timezone.utc)
    row = session.execute(select(fdefs).where(and_(fdefs.c.tenant_id == actor.tenant_id, fdefs.c.key == flow.key))
                          .with_for_update()).mappings().first()
    try:
        if row is None:
            session.execute(insert(fdefs).values(tenant_id=actor.tenant_id, key=flow.key, form_key=form.key,
                                                 app_key=app_key, current_version=0, updated_at=now))
            session.flush()
    except IntegrityError:
        raise Conflict(msg("流程“{k}”正在被他人同时发布，请重试", "Flow '{k}' is being published by someone else; retry",
                           k=flow.key)) from None
    version = (row["current_version"] if row else 0) + 1
    session.execute(insert(fvers).values(tenant_id=actor.tenant_id, flow_key=flow.key, version=version,
                                         form_key=form.key, definition=dict(data), published_at=now,
                                         published_by=actor.user_id))
    session.execute(update(fdefs).where(and_(fdefs.c.tenant_id == actor.tenant_id, fdefs.c.key == flow.key))
                    .values(current_version=version, form_key=form.key, updated_at=now))
    form_store.forget_newest(session)
    session.info.pop(_HEADS_SEEN, None)
    forget_auto_flow(session, actor.tenant_id, form.key)
    return load_flow_version(session, actor.tenant_id, flow.key, version)


def _check_automatic_actions(session: Session, tenant_id: int, data: Mapping[str, Any], form) -> None:
    """The actions of automatic nodes are rule actions: checked like a rule's, against the flow's form."""
    from engine.services import flow_automation, rule_defs
    nodes = [(i, n) for i, n in enumerate(data.get("nodes") or ()) if isinstance(n, Mapping) and n.get("type") == "automatic"]
    if not nodes:
        return
    forms, flows = rule_defs.published_forms(session, tenant_id), rule_defs.published_flows(session, tenant_id)
    problems = [p for i, n in nodes
                for p in flow_automation.action_problems(n.get("actions") or [], form, forms, flows, f"$.nodes[{i}].actions")]
    if problems:
        raise DefinitionError(problems)


def _refuse_second_auto_start(session: Session, tenant_id: int, flow: FlowDef) -> None:
    if not flow.auto_start:
        return
    other = auto_flow_for(session, tenant_id, flow.form)
    if other is not None and other.key != flow.key:
        raise DefinitionError([Problem("$.auto_start", msg(
            "表单“{f}”已有自动发起的流程“{o}”；请把本流程的 auto_start 设为 false",
            "Form '{f}' already starts flow '{o}' by itself; set auto_start to false here", f=flow.form, o=other.key))])


_CACHE: "weakref.WeakKeyDictionary[object, dict]" = weakref.WeakKeyDictionary()
_HEADS_SEEN = "qms.flow_heads"          # session.info: version rows looked up in this unit of work
_OF_KEY = and_(fvers.c.tenant_id == bindparam("tenant_id"), fvers.c.flow_key == bindparam("key"))
_NEWEST_HEAD = select(fvers.c.id, fvers.c.version).where(_OF_KEY).order_by(fvers.c.version.desc()).limit(1)
_HEAD_OF = select(fvers.c.id, fvers.c.version).where(and_(_OF_KEY, fvers.c.version == bindparam("version")))


def load_flow_version(session: Session, tenant_id: int, key: str, version: int | None = None) -> FlowDef:
    """A published flow (newest, or ``version``); NotFound when there is none. Versions are immutable,
    so a loaded one is kept (per database) by its row id."""
    cache = _CACHE.setdefault(session.get_bind().engine.pool, {})
    if version is not None and (tenant_id, key, version) in cache:      # published versions never change
        return cache[(tenant_id, key, version)]
    seen = session.info.setdefault(_HEADS_SEEN, {})
    head = seen.get((tenant_id, key, version))
    if head is None:
        head = session.execute(_HEAD_OF if version is not None else _NEWEST_HEAD,
                               {"tenant_id": tenant_id, "key": key, "version": version}).first()
        if head is not None:
            seen[(tenant_id, key, version)] = head
    if head is None:
        raise NotFound(msg("流程“{k}”不存在或尚未发布", "Flow '{k}' does not exist or is not published", k=key))
    hit = cache.get(head.id)
    if hit is None:
        row = session.execute(select(fvers).where(fvers.c.id == head.id)).mappings().one()
        form = form_store.load_published(session, tenant_id, row["form_key"]).form
        hit = _versioned(load_flow(row["definition"], form), row["version"])
        if len(cache) > 1024:
            cache.clear()
        cache[head.id] = cache[(tenant_id, key, hit.version)] = hit
    return hit


def _versioned(flow: FlowDef, version: int) -> FlowDef:
    from dataclasses import replace
    return replace(flow, version=version)


def auto_flow_for(session: Session, tenant_id: int, form_key: str) -> FlowDef | None:
    """The flow that starts by itself on new records of ``form_key`` (newest version), if any."""
    rows = session.execute(_OF_FORM, {"tenant_id": tenant_id, "form_key": form_key}).all()
    for key, version in rows:
        flow = load_flow_version(session, tenant_id, key, version)
        if flow.auto_start:
            _remembered(session)[(tenant_id, form_key)] = flow
            return flow
    return None


# the auto-start flow per form as last read here; whoever uses it confirms in the same statement
# that its version is still the current one (a publish elsewhere changes it), see flows.start_if_configured
_AUTO: "weakref.WeakKeyDictionary[object, dict]" = weakref.WeakKeyDictionary()


def _remembered(session: Session) -> dict:
    return _AUTO.setdefault(session.get_bind().engine.pool, {})


def remembered_auto_flow(session: Session, tenant_id: int, form_key: str) -> FlowDef | None:
    """The form's auto-start flow as last read by this process, unconfirmed (None: not known)."""
    return _remembered(session).get((tenant_id, form_key))


def forget_auto_flow(session: Session, tenant_id: int, form_key: str) -> None:
    _remembered(session).pop((tenant_id, form_key), None)


_OF_FORM = (select(fdefs.c.key, fdefs.c.current_version)
            .where(and_(fdefs.c.tenant_id == bindparam("tenant_id"), fdefs.c.form_key == bindparam("form_key"),
                        fdefs.c.current_version > 0)).order_by(fdefs.c.key))


def list_flows(session: Session, tenant_id: int) -> list[dict]:
    """Key, form and current version of every published flow of the tenant."""
    rows = session.execute(select(fdefs.c.key, fdefs.c.form_key, fdefs.c.app_key, fdefs.c.current_version).where(
        and_(fdefs.c.tenant_id == tenant_id, fdefs.c.current_version > 0)).order_by(fdefs.c.key)).mappings()
    return [dict(r) for r in rows]
