"""Repository of form definitions and their immutable published versions (never commits).

A published version stores the definition JSON, the name of the record table and the physical
layout of the record tables *after* that publish (:class:`~engine.storage.record_tables.TableSpec`):
records are always written through the newest layout (it holds every column ever created),
and read with the definition of the version they were written under.
"""
from __future__ import annotations

import json
import weakref
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from functools import lru_cache

from sqlalchemy import and_, bindparam, event, func, insert, select, update
from sqlalchemy.orm import Session

from engine.definitions import load_form
from engine.definitions.model import FormDef
from engine.errors import NotFound
from engine.i18n import msg
from engine.storage import buckets
from engine.storage.platform import form_definitions as fd
from engine.storage.platform import form_versions as fv
from engine.storage.record_tables import TableSpec


@dataclass(frozen=True)
class PublishedForm:
    """A form as records need it: the definition of ``form.version`` and the newest table layout."""

    form: FormDef
    spec: TableSpec
    current_version: int


@lru_cache(maxsize=256)
def _parse(definition_json: str, version: int, targets_json: str = "{}") -> FormDef:
    """Load a stored definition once per distinct text (FormDef is immutable, so sharing is safe).

    ``targets_json`` holds the referenced forms as they were at publish time, so lookups through
    references get their target's type back without reading the other forms' current versions.
    """
    targets = {key: load_form(data) for key, data in json.loads(targets_json).items()}
    return replace(load_form(json.loads(definition_json), known_forms=targets or None), version=version)


@lru_cache(maxsize=256)
def _parse_spec(spec_json: str) -> TableSpec:
    return TableSpec.from_json(json.loads(spec_json))


def _canonical(data) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False)


def form_from_row(definition: dict, version: int, targets: dict | None = None) -> FormDef:
    return _parse(_canonical(definition), version, _canonical(targets or {}))


def not_found(form_key: str) -> NotFound:
    return NotFound(msg("表单“{k}”不存在或尚未发布", "Form '{k}' does not exist or is not published", k=form_key))


def definition_row(session: Session, tenant_id: int, form_key: str, lock: bool = False):
    """The form_definitions row (or None); ``lock`` serialises concurrent publishes."""
    stmt = select(fd).where(and_(fd.c.tenant_id == tenant_id, fd.c.key == form_key))
    if lock:
        stmt = stmt.with_for_update()
    return session.execute(stmt).mappings().first()


def version_row(session: Session, tenant_id: int, form_key: str, version: int | None = None):
    """A form_versions row: ``version`` or the newest; None when there is none."""
    stmt = select(fv).where(and_(fv.c.tenant_id == tenant_id, fv.c.form_key == form_key))
    stmt = stmt.where(fv.c.version == version) if version is not None else stmt.order_by(fv.c.version.desc())
    return session.execute(stmt.limit(1)).mappings().first()


def stored_spec(row) -> TableSpec | None:
    """The table layout stored with a version row (None for no row)."""
    return None if row is None else _parse_spec(_canonical(row["storage"]["tables"]))


# Loaded forms per database (keyed by the engine's connection pool, so test databases never mix)
_LOADED: "weakref.WeakKeyDictionary[object, dict]" = weakref.WeakKeyDictionary()
_LOADED_MAX = 512
_NEWEST_SEEN = "qms.newest_versions"     # session.info: newest version rows read in this unit of work


@event.listens_for(Session, "after_rollback")
def _forget_newest(session: Session) -> None:
    """A rolled-back publish must not stay visible through the per-session memo."""
    session.info.pop(_NEWEST_SEEN, None)


def _flow_count():
    from engine.storage.flow_tables import flow_definitions as flows
    return (select(func.count()).select_from(flows)
            .where(and_(flows.c.tenant_id == bindparam("tenant_id"), flows.c.form_key == bindparam("form_key"),
                        flows.c.current_version > 0)).scalar_subquery())


def _rule_count():
    from engine.storage.rule_tables import rule_definitions as rules
    return (select(func.count()).select_from(rules)
            .where(and_(rules.c.tenant_id == bindparam("tenant_id"), rules.c.form_key == bindparam("form_key"),
                        rules.c.enabled, rules.c.current_version > 0)).scalar_subquery())


# the newest version row, and (in the same round trip) whether any published flow or enabled rule
# listens to the form — so a write to a form without either costs no further query — and the
# tenant's time zone (the date buckets a write stores are local days)
_NEWEST = (select(fv.c.id, fv.c.version, fv.c.published_at, _flow_count().label("flows"),
                  _rule_count().label("rules"), buckets.zone_subquery().label("zone"))
           .where(and_(fv.c.tenant_id == bindparam("tenant_id"), fv.c.form_key == bindparam("form_key")))
           .order_by(fv.c.version.desc()).limit(1))


def has_flows(session: Session, tenant_id: int, form_key: str) -> bool:
    """Whether a published flow runs on the form (known from :func:`load_published` in this session)."""
    load_published(session, tenant_id, form_key)
    return bool(session.info[_NEWEST_SEEN][(tenant_id, form_key)].flows)


def has_rules(session: Session, tenant_id: int, form_key: str) -> bool:
    """Whether an enabled rule listens to the form (known from :func:`load_published` in this session)."""
    load_published(session, tenant_id, form_key)
    return bool(session.info[_NEWEST_SEEN][(tenant_id, form_key)].rules)


def forget_newest(session: Session) -> None:
    """Drop this session's memo of newest versions (after publishing a form, a flow or a rule)."""
    session.info.pop(_NEWEST_SEEN, None)


def load_published(session: Session, tenant_id: int, form_key: str, version: int | None = None) -> PublishedForm:
    """The definition of ``version`` (default: newest) with the newest table layout; NotFound if absent.

    Each unit of work (session) asks the database once which version is newest (one small indexed
    query; publishing in the session forgets the answer), so a version published by another
    process is used by the next request; only the immutable definition and layout of a
    known version row are reused. The row's id and publish time are part of the cache key, so a
    rebuilt database with the same keys and numbers never gets an old definition.
    """
    newest = session.info.setdefault(_NEWEST_SEEN, {})
    latest = newest.get((tenant_id, form_key))
    if latest is None:
        latest = session.execute(_NEWEST, {"tenant_id": tenant_id, "form_key": form_key}).first()
        if latest is None:
            raise not_found(form_key)
        newest[(tenant_id, form_key)] = latest
        buckets.remember_zone(session, tenant_id, latest.zone)
    key = (tenant_id, form_key, latest.version if version is None else version, latest.id, latest.published_at)
    bind = session.get_bind()
    try:
        loaded = _LOADED.setdefault(getattr(bind, "pool", None) or bind.engine.pool, {})
    except (AttributeError, TypeError):      # no weak-referenceable pool: no caching
        loaded = {}
    hit = loaded.get(key)
    if hit is None:
        hit = _load_published(session, tenant_id, form_key, version)
        if len(loaded) >= _LOADED_MAX:
            loaded.clear()
        loaded[key] = hit
    return hit


def _load_published(session: Session, tenant_id: int, form_key: str, version: int | None) -> PublishedForm:
    latest = version_row(session, tenant_id, form_key)
    if latest is None:
        raise not_found(form_key)
    row = latest if version in (None, latest["version"]) else version_row(session, tenant_id, form_key, version)
    if row is None:
        raise NotFound(msg("表单“{k}”没有版本 {v}", "Form '{k}' has no version {v}", k=form_key, v=version))
    form = form_from_row(row["definition"], row["version"], row["targets"])
    return PublishedForm(form, stored_spec(latest), latest["version"])


def save_draft(session: Session, tenant_id: int, form_key: str, draft: dict | None, app_key: str | None = None) -> None:
    """Create the form_definitions row or replace its draft."""
    now = datetime.now(timezone.utc)
    if definition_row(session, tenant_id, form_key) is None:
        session.execute(insert(fd).values(tenant_id=tenant_id, key=form_key, app_key=app_key, draft=draft,
                                          current_version=0, updated_at=now))
        return
    values = {"draft": draft, "updated_at": now}
    if app_key is not None:
        values["app_key"] = app_key
    session.execute(update(fd).where(and_(fd.c.tenant_id == tenant_id, fd.c.key == form_key)).values(**values))


def insert_version(session: Session, tenant_id: int, form: FormDef, definition: dict, spec: TableSpec,
                   changes: list[dict], published_by: int | None, targets: dict | None = None) -> None:
    """Record version ``form.version`` (with the referenced forms' definitions) and make it current."""
    now = datetime.now(timezone.utc)
    session.info.pop(_NEWEST_SEEN, None)
    session.execute(insert(fv).values(
        tenant_id=tenant_id, form_key=form.key, version=form.version, definition=definition,
        table_name=spec.name, storage={"tables": spec.to_json(), "changes": changes}, targets=targets or None,
        published_at=now, published_by=published_by))
    session.execute(update(fd).where(and_(fd.c.tenant_id == tenant_id, fd.c.key == form.key))
                    .values(current_version=form.version, updated_at=now))


def list_published(session: Session, tenant_id: int) -> list[dict]:
    """Key, app, current version of every published form of a tenant."""
    stmt = (select(fd.c.key, fd.c.app_key, fd.c.current_version)
            .where(and_(fd.c.tenant_id == tenant_id, fd.c.current_version > 0)).order_by(fd.c.key))
    return [dict(r) for r in session.execute(stmt).mappings()]


def count_versions(session: Session, tenant_id: int, form_key: str) -> int:
    stmt = select(func.count()).select_from(fv).where(and_(fv.c.tenant_id == tenant_id, fv.c.form_key == form_key))
    return session.execute(stmt).scalar_one()
