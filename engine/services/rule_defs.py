"""Rule definitions: publish (checked, versioned, immutable), enable/disable, list, and find the
rules an event may fire.

Publishing a rule on a form needs the ``design`` permission on that form; rules without a form
(schedules, inbound webhooks) and every webhook secret are for administrators. A run always uses
the version that was current when its event happened (the outbox row names it).
"""
from __future__ import annotations

import hashlib
import secrets
import weakref
from datetime import datetime, timezone
from typing import Any, Mapping

from sqlalchemy import and_, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.definitions.model import FormDef
from engine.errors import Conflict, DefinitionError, NotFound, PermissionDenied, Problem
from engine.i18n import msg
from engine.rules import RuleDef, build_rule, check_rule
from engine.services.forms import require_design
from engine.storage import form_store
from engine.storage.rule_tables import rule_definitions as rdefs
from engine.storage.rule_tables import rule_outbox, rule_versions as rvers
from engine.types import Actor

HOOK_TOKEN_BYTES = 24


def _now() -> datetime:
    return datetime.now(timezone.utc)


def published_forms(session: Session, tenant_id: int) -> dict[str, FormDef]:
    """Every published form of the tenant (newest version), by key."""
    return {row["key"]: form_store.load_published(session, tenant_id, row["key"]).form
            for row in form_store.list_published(session, tenant_id)}


def published_flows(session: Session, tenant_id: int) -> dict[str, Any]:
    """Every published flow of the tenant (newest version), by key."""
    from engine.services import flow_defs
    return {row["key"]: flow_defs.load_flow_version(session, tenant_id, row["key"])
            for row in flow_defs.list_flows(session, tenant_id)}


def require_rule_design(session: Session, actor: Actor, form_key: str | None) -> None:
    """Rules on a form: its ``design`` permission; rules without one: administrators only."""
    if form_key is None:
        if not actor.unrestricted:
            raise PermissionDenied(msg("只有管理员可以管理不属于表单的规则", "Only an administrator can manage rules "
                                       "that belong to no form"))
        return
    require_design(session, actor, form_key)


def check(session: Session, tenant_id: int, definition: Any) -> list[Problem]:
    """Every problem of ``definition`` against the tenant's published forms and flows."""
    return check_rule(definition, published_forms(session, tenant_id), published_flows(session, tenant_id))


def publish_rule(session: Session, actor: Actor, definition: Mapping[str, Any], app_key: str | None = None,
                 *, now: datetime | None = None) -> RuleDef:
    """Check and publish ``definition`` as the rule's next version; DefinitionError lists every problem."""
    data = dict(definition) if isinstance(definition, Mapping) else definition
    problems = check(session, actor.tenant_id, data)
    if problems:
        raise DefinitionError(problems)
    rule = build_rule(data)
    require_rule_design(session, actor, rule.form)
    now = now or _now()
    row = session.execute(select(rdefs).where(and_(rdefs.c.tenant_id == actor.tenant_id, rdefs.c.key == rule.key))
                          .with_for_update()).mappings().first()
    if row is not None and row["form_key"] != rule.form:
        require_rule_design(session, actor, row["form_key"])      # moving a rule away needs the old form too
    version = (row["current_version"] if row else 0) + 1
    values = dict(form_key=rule.form, trigger_type=rule.trigger.type, enabled=rule.enabled, current_version=version,
                  updated_at=now, updated_by=actor.user_id, next_run_at=_first_run(session, actor.tenant_id, rule, now),
                  app_key=app_key if app_key is not None else (row["app_key"] if row else None))
    try:
        if row is None:
            session.execute(insert(rdefs).values(tenant_id=actor.tenant_id, key=rule.key, **values))
        else:
            session.execute(update(rdefs).where(rdefs.c.id == row["id"]).values(**values))
        session.execute(insert(rvers).values(tenant_id=actor.tenant_id, rule_key=rule.key, version=version,
                                             definition=rule.to_dict(), published_at=now, published_by=actor.user_id))
        session.flush()
    except IntegrityError:
        raise Conflict(msg("规则“{k}”正在被他人同时发布，请重试", "Rule '{k}' is being published by someone else; retry",
                           k=rule.key)) from None
    form_store.forget_newest(session)
    return load_rule_version(session, actor.tenant_id, rule.key, version)


def _first_run(session: Session, tenant_id: int, rule: RuleDef, now: datetime) -> datetime | None:
    if rule.trigger.type != "schedule":
        return None
    from engine.rules.schedule import next_run
    return next_run(rule.trigger.option("cron"), now, schedule_zone(session, tenant_id, rule))


def schedule_zone(session: Session, tenant_id: int, rule: RuleDef) -> str:
    """The rule's own time zone, else the tenant's (its work calendar's)."""
    if rule.trigger.option("timezone"):
        return rule.trigger.option("timezone")
    from engine.services.flows import calendar_of
    return calendar_of(session, tenant_id).timezone


_CACHE: "weakref.WeakKeyDictionary[object, dict]" = weakref.WeakKeyDictionary()
_VERSION = select(rvers.c.definition).where(and_(
    rvers.c.tenant_id == bindparam("tenant_id"), rvers.c.rule_key == bindparam("key"),
    rvers.c.version == bindparam("version")))


def load_rule_version(session: Session, tenant_id: int, key: str, version: int | None = None) -> RuleDef:
    """A published rule version (default: the current one). Versions are immutable, so they are cached."""
    if version is None:
        row = _definition_row(session, tenant_id, key)
        if row is None or row["current_version"] == 0:
            raise NotFound(msg("规则“{k}”不存在", "Rule '{k}' does not exist", k=key))
        version = row["current_version"]
    cache = _CACHE.setdefault(session.get_bind().engine.pool, {})
    hit = cache.get((tenant_id, key, version))
    if hit is None:
        definition = session.execute(_VERSION, {"tenant_id": tenant_id, "key": key, "version": version}).scalar()
        if definition is None:
            raise NotFound(msg("规则“{k}”没有版本 {v}", "Rule '{k}' has no version {v}", k=key, v=version))
        hit = build_rule(definition, version)
        if len(cache) > 2048:
            cache.clear()
        cache[(tenant_id, key, version)] = hit
    return hit


def _definition_row(session: Session, tenant_id: int, key: str):
    return session.execute(select(rdefs).where(and_(rdefs.c.tenant_id == tenant_id, rdefs.c.key == key))).mappings().first()


_ENABLED_OF_FORM = (select(rdefs.c.key, rdefs.c.current_version)
                    .where(and_(rdefs.c.tenant_id == bindparam("tenant_id"), rdefs.c.form_key == bindparam("form_key"),
                                rdefs.c.enabled, rdefs.c.current_version > 0)).order_by(rdefs.c.key))
_RULES_SEEN = "qms.rules_of_form"      # session.info memo, like form_store's newest versions


def rules_of_form(session: Session, tenant_id: int, form_key: str) -> list[RuleDef]:
    """The enabled rules listening to a form (current versions); no query when the form has none."""
    if not form_store.has_rules(session, tenant_id, form_key):
        return []
    seen = session.info.setdefault(_RULES_SEEN, {})
    if (tenant_id, form_key) not in seen:
        rows = session.execute(_ENABLED_OF_FORM, {"tenant_id": tenant_id, "form_key": form_key}).all()
        seen[(tenant_id, form_key)] = [load_rule_version(session, tenant_id, k, v) for k, v in rows]
    return seen[(tenant_id, form_key)]


def set_enabled(session: Session, actor: Actor, key: str, enabled: bool) -> None:
    """Switch a rule on or off (its definition stays as published)."""
    row = _definition_row(session, actor.tenant_id, key)
    if row is None:
        raise NotFound(msg("规则“{k}”不存在", "Rule '{k}' does not exist", k=key))
    require_rule_design(session, actor, row["form_key"])
    values: dict[str, Any] = {"enabled": bool(enabled), "updated_at": _now(), "updated_by": actor.user_id}
    if enabled and row["trigger_type"] == "schedule":      # no burst of missed runs after a pause
        values["next_run_at"] = _first_run(session, actor.tenant_id, load_rule_version(session, actor.tenant_id, key), _now())
    session.execute(update(rdefs).where(rdefs.c.id == row["id"]).values(**values))
    form_store.forget_newest(session)
    session.info.pop(_RULES_SEEN, None)


def _last_runs(session: Session, tenant_id: int):
    latest = (select(rule_outbox.c.rule_key, func.max(rule_outbox.c.id).label("id"))
              .where(rule_outbox.c.tenant_id == tenant_id).group_by(rule_outbox.c.rule_key).subquery())
    rows = session.execute(select(rule_outbox.c.rule_key, rule_outbox.c.status, rule_outbox.c.created_at,
                                  rule_outbox.c.error).join(latest, rule_outbox.c.id == latest.c.id)).mappings()
    return {r["rule_key"]: dict(r) for r in rows}


def list_rules(session: Session, actor: Actor, app_key: str | None = None) -> list[dict]:
    """Rules of the tenant (optionally of one app) with their last run's status, for admins and designers."""
    where = and_(rdefs.c.tenant_id == actor.tenant_id, rdefs.c.current_version > 0)
    if app_key is not None:
        where = and_(where, rdefs.c.app_key == app_key)
    rows = session.execute(select(rdefs).where(where).order_by(rdefs.c.app_key, rdefs.c.key)).mappings().all()
    last = _last_runs(session, actor.tenant_id)
    out = []
    for row in rows:
        if not _may_see(session, actor, row["form_key"]):
            continue
        rule = load_rule_version(session, actor.tenant_id, row["key"], row["current_version"])
        out.append({"key": row["key"], "label": rule.label, "app_key": row["app_key"], "form": row["form_key"],
                    "trigger": row["trigger_type"], "enabled": row["enabled"], "version": row["current_version"],
                    "next_run_at": row["next_run_at"], "has_hook": row["hook_token_hash"] is not None,
                    "last_run": last.get(row["key"])})
    return out


def app_rules(session: Session, tenant_id: int, app_key: str) -> list[RuleDef]:
    """The current version of every rule of an app (for its export), by key."""
    rows = session.execute(select(rdefs.c.key, rdefs.c.current_version).where(and_(
        rdefs.c.tenant_id == tenant_id, rdefs.c.app_key == app_key, rdefs.c.current_version > 0))
        .order_by(rdefs.c.key)).all()
    return [load_rule_version(session, tenant_id, k, v) for k, v in rows]


def _may_see(session: Session, actor: Actor, form_key: str | None) -> bool:
    try:
        require_rule_design(session, actor, form_key)
        return True
    except (PermissionDenied, NotFound):
        return False


def get_rule(session: Session, actor: Actor, key: str) -> dict:
    """One rule's current definition and state (NotFound for rules the actor may not design)."""
    row = _definition_row(session, actor.tenant_id, key)
    if row is None or row["current_version"] == 0 or not _may_see(session, actor, row["form_key"]):
        raise NotFound(msg("规则“{k}”不存在", "Rule '{k}' does not exist", k=key))
    rule = load_rule_version(session, actor.tenant_id, key, row["current_version"])
    return {"key": key, "version": row["current_version"], "enabled": row["enabled"], "app_key": row["app_key"],
            "definition": rule.to_dict(), "next_run_at": row["next_run_at"], "has_hook": row["hook_token_hash"] is not None,
            "hook_signed": bool(row["hook_secret"])}


# ---- inbound webhooks ------------------------------------------------------------------------------

def hook_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_hook_token(session: Session, actor: Actor, key: str, secret: str | None = None) -> str:
    """A new secret URL token for a webhook rule (shown once; the old URL stops working). ``secret``:
    an optional HMAC-SHA256 key callers sign the body with (header ``X-QMS-Signature: sha256=<hex>``)."""
    if not actor.unrestricted:
        raise PermissionDenied(msg("只有管理员可以管理 Webhook 地址", "Only an administrator can manage webhook URLs"))
    row = _definition_row(session, actor.tenant_id, key)
    if row is None or row["trigger_type"] != "webhook":
        raise NotFound(msg("Webhook 规则“{k}”不存在", "Webhook rule '{k}' does not exist", k=key))
    if secret is not None and not 16 <= len(secret) <= 128:
        raise DefinitionError([Problem("$.secret", msg("签名密钥应为 16–128 个字符", "The signing secret must have "
                                                       "16 to 128 characters"))])
    token = secrets.token_urlsafe(HOOK_TOKEN_BYTES)
    session.execute(update(rdefs).where(rdefs.c.id == row["id"]).values(
        hook_token_hash=hook_hash(token), hook_secret=secret or None, updated_at=_now(), updated_by=actor.user_id))
    return token


def rule_for_hook(session: Session, token: str) -> dict | None:
    """(tenant_id, key, version, secret, enabled) of the webhook rule with this URL token, or None."""
    if not token or len(token) > 100:
        return None
    row = session.execute(select(rdefs.c.tenant_id, rdefs.c.key, rdefs.c.current_version, rdefs.c.hook_secret,
                                 rdefs.c.enabled).where(rdefs.c.hook_token_hash == hook_hash(token))).mappings().first()
    return dict(row) if row is not None else None
