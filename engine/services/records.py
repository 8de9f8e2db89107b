"""Record use cases: create, get, update (optimistic lock), delete, query — each in one transaction.

Every function takes the caller's session (``with session_scope(engine) as s``) and never
commits. A record is validated with the published form (create) or with the version it was
written under (update), numbered gap-free, written with its sub-table rows, and audited with
old → new values in the same transaction.

Permissions are enforced here, the one place the UI, the API and imports go through
(:mod:`engine.access`): create needs ``create``; get/query add the read scope to the SQL
WHERE; update/delete need the record inside the update/delete scope; hidden fields are removed
from every record returned; read-only fields keep their stored value. A record outside the
reader's scope is NotFound (its existence is never revealed).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timezone, tzinfo
from typing import Any, Callable, Mapping

from sqlalchemy import and_
from sqlalchemy.orm import Session

from engine import access as access_control
from engine.access import FormAccess

from engine.definitions import form_scope
from engine.definitions.model import FormDef
from engine.errors import Conflict, NotFound, PermissionDenied, QMSError
from engine.expressions import EvalContext
from engine.fields.base import StorageKind
from engine.fields.serial import format_serial, period_key
from engine.forms import validate_record
from engine.i18n import msg
from engine.services import rule_events
from engine.services.names import user_names
from engine.storage import audit, filters, form_store, records
from engine.storage.form_store import PublishedForm
from engine.storage.records import Record
from engine.storage.serials import next_serial
from engine.types import Actor, AuditAction

MAX_PER_PAGE = 500
DEFAULT_PER_PAGE = 50
MAX_PAGE = (2**63 - 1) // MAX_PER_PAGE     # beyond it the offset of a page overflows the database
DEFAULT_STATUS = "active"


class QueryError(QMSError):
    """A query parameter (sort key) that cannot be used."""

    code = "invalid_query"


@dataclass(frozen=True)
class Page:
    """One page of a query: the records and the total number of matches."""

    items: list[Record]
    total: int | None           # None: more than could be counted within the query's count budget
    page: int
    per_page: int

    @property
    def has_next(self) -> bool:
        if self.total is None:
            return len(self.items) == self.per_page
        return self.page * self.per_page < self.total


# ---------------------------------------------------------------------------- helpers

def _now(now: datetime | None) -> datetime:
    return (now or datetime.now(timezone.utc)).astimezone(timezone.utc)


def _ctx(session: Session, actor: Actor, now: datetime, tz: tzinfo | None) -> EvalContext:
    from engine.services.facts import SqlFacts
    return EvalContext(user_id=actor.user_id, now=now, tz=tz, lang=actor.lang, facts=SqlFacts(session, actor.tenant_id))


def _versions(session: Session, tenant_id: int, pub: PublishedForm) -> Callable[[int], FormDef]:
    """form_for(def_version): the definition a record was written under."""
    def form_for(version: int) -> FormDef:
        if version == pub.form.version:
            return pub.form
        return form_store.load_published(session, tenant_id, pub.form.key, version).form
    return form_for


def _read(session: Session, tenant_id: int, pub: PublishedForm, record_id: int, scope=None) -> Record:
    """The record (NotFound when absent, or outside ``scope``: a BoundScope added to the SQL)."""
    if scope is None or scope.is_all:
        row = records.top_row(session, pub.spec, tenant_id, record_id)
    else:
        table = records.top_table(pub.spec)
        rows = records.select_rows(session, pub.spec, tenant_id, and_(table.c.id == record_id, scope.clause(table)),
                                   limit=1) if scope.allows_any else []
        row = rows[0] if rows else None
    if row is None:
        raise NotFound(msg("记录 {i} 不存在", "Record {i} does not exist", i=record_id))
    children = records.child_rows(session, pub.spec, tenant_id, [record_id])
    return records.build_record(_versions(session, tenant_id, pub), pub.spec, row, children)


def _in_scope(session: Session, tenant_id: int, pub: PublishedForm, record_id: int, scope) -> bool:
    if scope.is_all:
        return True
    table = records.top_table(pub.spec)
    return scope.allows_any and bool(records.select_rows(
        session, pub.spec, tenant_id, and_(table.c.id == record_id, scope.clause(table)), limit=1))


def _shown(record: Record, allowed: FormAccess) -> Record:
    """The record without the fields hidden from this reader."""
    hidden = allowed.hidden_fields
    if not hidden:
        return record
    return replace(record, data={k: v for k, v in record.data.items() if k not in hidden},
                   values={k: v for k, v in record.values.items() if k not in hidden})


def _writable(data: Mapping[str, Any], allowed: FormAccess,
              stored: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
    """Input without read-only (and hidden) fields: they keep their stored or default value.

    ``stored`` (a full, non-partial update): the blocked fields are given their stored values.
    """
    blocked = allowed.readonly_fields | allowed.hidden_fields
    if not blocked or not isinstance(data, Mapping):
        return data
    kept = {k: v for k, v in data.items() if k not in blocked}
    if stored is not None:
        kept.update({k: stored[k] for k in blocked if k in stored})
    return kept


def _denied(action: str, record_id: int) -> PermissionDenied:
    zh = {"update": "修改", "delete": "删除"}[action]
    return PermissionDenied(msg("你没有{a}记录 {i} 的权限", "You may not {e} record {i}", a=zh, e=action, i=record_id))


def _lookups(session: Session, tenant_id: int, form: FormDef):
    """lookups(reference_key, record_id) → the referenced record's values (for lookup fields)."""
    def fetch(dotted: str, record_id: Any) -> Mapping | None:
        ref = form.field_at(dotted)
        target = ref.option("form") if ref is not None else None
        if not isinstance(target, str) or not isinstance(record_id, int):
            return None
        try:
            return _read(session, tenant_id, form_store.load_published(session, tenant_id, target), record_id).values
        except NotFound:
            return None
    return fetch


def _assign_serials(session: Session, tenant_id: int, form: FormDef, values: dict, when: datetime,
                    numbering: bool = True) -> str | None:
    """Fill blank serial fields and return the record's serial_no (numbering, else first serial field)."""
    first = None
    for f in form.fields:
        if f.type == "serial" and isinstance(f.option("pattern"), str):
            if not values.get(f.key):
                values[f.key] = _next_number(session, tenant_id, f"field:{form.key}.{f.key}", f.option("pattern"), when)
            first = first or values[f.key]
    if form.numbering and numbering:
        return _next_number(session, tenant_id, f"form:{form.key}", form.numbering, when)
    return first


def _next_number(session: Session, tenant_id: int, scope: str, pattern: str, when: datetime) -> str:
    n = next_serial(session, tenant_id, scope, period_key(pattern, when))
    return format_serial(pattern, when, n)


_PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")


def _title(form: FormDef, data: Mapping, serial_no: str | None) -> str | None:
    """The record title from ``title_template`` (``{field}`` placeholders), else the serial number."""
    if not form.title_template:
        return serial_no
    def fill(m: re.Match) -> str:
        value = serial_no if m.group(1) == "serial_no" else data.get(m.group(1))
        return "" if value is None or isinstance(value, (list, dict)) else str(value)
    return _PLACEHOLDER.sub(fill, form.title_template)[:500] or serial_no


# ---------------------------------------------------------------------------- use cases

def create_record(session: Session, actor: Actor, form_key: str, data: Mapping[str, Any], reason: str | None = None,
                  *, now: datetime | None = None, tz: tzinfo | None = None) -> Record:
    """Validate, number, insert (with sub-table rows) and audit a new record of the published form."""
    tenant_id, now = actor.tenant_id, _now(now)
    pub = form_store.load_published(session, tenant_id, form_key)
    allowed = access_control.form_access(session, actor, form_key)
    access_control.require(allowed, "create")
    values = validate_record(pub.form, _writable(data, allowed), ctx=_ctx(session, actor, now, tz),
                             lookups=_lookups(session, tenant_id, pub.form))
    serial_no = _assign_serials(session, tenant_id, pub.form, values, now.astimezone(tz) if tz else now)
    system = {"serial_no": serial_no, "title": _title(pub.form, records.to_json(pub.form, values), serial_no),
              "created_by": actor.user_id, "created_at": now, "updated_by": actor.user_id, "updated_at": now,
              "version": 1, "status": DEFAULT_STATUS, "def_version": pub.form.version}
    row, children = records.write_new_record(session, pub.form, pub.spec, tenant_id, values, system)
    record = records.build_record(_versions(session, tenant_id, pub), pub.spec, row, children)
    audit.write_entry(session, tenant_id, pub.form, record.id, AuditAction.CREATE.value, actor.user_id,
                      audit.diff(pub.form.fields, None, record.data), pub.form.version, reason, at=now)
    from engine.services import flows
    flows.start_if_configured(session, actor, form_key, record.id, now=now, values=dict(record.values))
    rule_events.record_event(session, actor, "record.created", form_key, record, now=now)
    return _shown(record, allowed)


def get_record(session: Session, actor: Actor, form_key: str, record_id: int) -> Record:
    """A record shown with the definition version it was written under; NotFound if absent."""
    pub = form_store.load_published(session, actor.tenant_id, form_key)
    allowed = access_control.form_access(session, actor, form_key)
    return _shown(_read(session, actor.tenant_id, pub, record_id, allowed.read), allowed)


def update_record(session: Session, actor: Actor, form_key: str, record_id: int, expected_version: int,
                  data: Mapping[str, Any], reason: str | None = None, *, partial: bool = True,
                  upgrade: bool = False, now: datetime | None = None, tz: tzinfo | None = None,
                  granted: FormAccess | None = None) -> Record:
    """Change a record if it is still at ``expected_version`` (else Conflict); audit old → new.

    The record is re-validated with the definition version it was written under, or moved to
    the current version with ``upgrade=True``. ``partial`` (PATCH): fields not in ``data`` keep
    their values; a sub-table given is the full new list of rows (rows matched by ``id``).
    ``granted``: the access a flow step gives its assignee (instead of the form permissions);
    without it, a record whose approval flow is running can only be changed through a task.
    """
    tenant_id, now = actor.tenant_id, _now(now)
    pub = form_store.load_published(session, tenant_id, form_key)
    allowed = granted or access_control.form_access(session, actor, form_key)
    old = _read(session, tenant_id, pub, record_id, allowed.read)
    if granted is None:
        allowed = _flow_guard(session, actor, form_key, record_id, allowed, reason)
    if not _in_scope(session, tenant_id, pub, record_id, allowed.update):
        raise _denied("update", record_id)
    if old.version != expected_version:
        raise _stale(record_id, expected_version, old.version)
    data = _writable(data, allowed, None if partial else old.data)
    form_for = _versions(session, tenant_id, pub)
    form = pub.form if upgrade else form_for(old.def_version)
    values = validate_record(form, data, ctx=_ctx(session, actor, now, tz), old=old.values, partial=partial,
                             lookups=_lookups(session, tenant_id, form))
    system = {"updated_by": actor.user_id, "updated_at": now, "def_version": form.version}
    if upgrade:   # serial fields new in this version get a number; serial_no stays
        _assign_serials(session, tenant_id, form, values, now.astimezone(tz) if tz else now, numbering=False)
    system["title"] = _title(form, records.to_json(form, values), old.serial_no)
    if not records.update_record(session, form, pub.spec, tenant_id, record_id, expected_version, values,
                                 old.values, system):
        raise _stale(record_id, expected_version, None)
    new = _read(session, tenant_id, pub, record_id)
    changes = audit.diff(_diff_fields(form_for, old, new), old.data, new.data)
    audit.write_entry(session, tenant_id, form, record_id, AuditAction.UPDATE.value, actor.user_id,
                      changes, form.version, reason, at=now)
    if changes:
        rule_events.record_event(session, actor, "record.updated", form_key, new, old, set(changes), now)
    return _shown(new, allowed)


def _flow_guard(session: Session, actor: Actor, form_key: str, record_id: int, allowed: FormAccess,
                reason: str | None) -> FormAccess:
    """Edits outside a task while the record is in a flow: none while it runs; the start step's
    field permissions once it is back with the submitter; a reason for an approved record."""
    from engine.services import flows
    instance = flows.latest_instance(session, actor.tenant_id, form_key, record_id)
    if instance is None or instance["state"] in ("rejected", "cancelled"):
        return allowed
    if instance["state"] == "running":
        raise PermissionDenied(msg("记录 {i} 正在审批中，只能通过待办任务修改",
                                   "Record {i} is in approval; it can only be changed through a task", i=record_id))
    if instance["state"] == "approved":
        if not (reason or "").strip():
            raise PermissionDenied(msg("记录 {i} 已审批通过，修改时必须填写原因",
                                       "Record {i} is approved: give a reason for the change", i=record_id))
        return allowed
    start = flows.flow_of(session, instance).start
    blocked = {f.key for f in form_store.load_published(session, actor.tenant_id, form_key).form.fields
               if start.permission(f.key) != "editable"}
    return replace(allowed, readonly_fields=allowed.readonly_fields | blocked)


_STATUS = re.compile(r"^[a-z][a-z0-9_]{0,29}$")


def set_status(session: Session, actor: Actor, form_key: str, record_id: int, status: str,
               reason: str | None = None, *, now: datetime | None = None) -> bool:
    """Set a record's status (``active``, ``frozen``, ``released``…): needs update rights, is audited
    and fires rules like any change. False when the record already has that status."""
    if not isinstance(status, str) or not _STATUS.match(status):
        raise QueryError(msg("状态“{s}”无效：请用小写字母、数字和下划线", "Status '{s}' is not valid: use lowercase "
                             "letters, digits and '_'", s=str(status)[:40]))
    tenant_id, now = actor.tenant_id, _now(now)
    pub = form_store.load_published(session, tenant_id, form_key)
    allowed = access_control.form_access(session, actor, form_key)
    old = _read(session, tenant_id, pub, record_id, allowed.read)
    if not _in_scope(session, tenant_id, pub, record_id, allowed.update):
        raise _denied("update", record_id)
    if old.status == status:
        return False
    _reason_if_approved(session, actor, form_key, record_id, reason)
    if not records.set_status(session, pub.spec, tenant_id, record_id, old.version, status, actor.user_id, now):
        raise _stale(record_id, old.version, None)
    form = _versions(session, tenant_id, pub)(old.def_version)
    audit.write_entry(session, tenant_id, form, record_id, AuditAction.UPDATE.value, actor.user_id,
                      {"status": {"old": old.status, "new": status}}, old.def_version, reason, at=now)
    new = _read(session, tenant_id, pub, record_id)
    rule_events.record_event(session, actor, "record.updated", form_key, new, old, {"status"}, now)
    return True


def _reason_if_approved(session: Session, actor: Actor, form_key: str, record_id: int, reason: str | None) -> None:
    """A change to an approved record needs a reason (PermissionDenied without one)."""
    from engine.services import flows
    instance = flows.latest_instance(session, actor.tenant_id, form_key, record_id)
    if instance is not None and instance["state"] == "approved" and not (reason or "").strip():
        raise PermissionDenied(msg("记录 {i} 已审批通过，修改时必须填写原因",
                                   "Record {i} is approved: give a reason for the change", i=record_id))


def may_update(session: Session, actor: Actor, form_key: str, record_id: int) -> bool:
    """Whether the record is inside the actor's update scope (the record must exist)."""
    pub = form_store.load_published(session, actor.tenant_id, form_key)
    return _in_scope(session, actor.tenant_id, pub, record_id, access_control.form_access(session, actor, form_key).update)


def _diff_fields(form_for: Callable[[int], FormDef], old: Record, new: Record) -> list:
    """Fields to diff: the new version's, plus the old version's that the new one dropped."""
    fields = list(form_for(new.def_version).fields)
    if old.def_version != new.def_version:
        keys = {f.key for f in fields}
        fields += [f for f in form_for(old.def_version).fields if f.key not in keys]
    return fields


def _stale(record_id: int, expected: int, actual: int | None) -> Conflict:
    return Conflict(msg("记录 {i} 已被他人修改（你的版本 {e}，当前版本 {a}），请刷新后再改",
                        "Record {i} was changed by someone else (your version {e}, current {a}); reload and retry",
                        i=record_id, e=expected, a=actual if actual is not None else "?"))


def delete_record(session: Session, actor: Actor, form_key: str, record_id: int,
                  expected_version: int | None = None, reason: str | None = None,
                  *, now: datetime | None = None) -> None:
    """Delete a record and its sub-table rows; the audit entry keeps every old value."""
    tenant_id = actor.tenant_id
    pub = form_store.load_published(session, tenant_id, form_key)
    allowed = access_control.form_access(session, actor, form_key)
    old = _read(session, tenant_id, pub, record_id, allowed.read)
    if not _in_scope(session, tenant_id, pub, record_id, allowed.delete):
        raise _denied("delete", record_id)
    if expected_version is not None and old.version != expected_version:
        raise _stale(record_id, expected_version, old.version)
    from engine.services import flows
    flows.before_record_delete(session, actor, form_key, record_id, reason, now=_now(now))
    form = _versions(session, tenant_id, pub)(old.def_version)
    records.delete_record(session, pub.spec, tenant_id, record_id)
    changes = audit.diff(form.fields, old.data, None)
    changes["_system"] = {k: v for k, v in old.to_json().items() if k != "data"}
    audit.write_entry(session, tenant_id, form, record_id, AuditAction.DELETE.value, actor.user_id, changes,
                      old.def_version, reason, at=_now(now))
    rule_events.record_event(session, actor, "record.deleted", form_key, old, now=_now(now))


def query_records(session: Session, actor: Actor, form_key: str, filter: str | None = None,
                  sort: str | None = None, page: int = 1, per_page: int = DEFAULT_PER_PAGE,
                  *, now: datetime | None = None, tz: tzinfo | None = None,
                  count_budget_ms: int | None = None) -> Page:
    """Records matching ``filter`` (an expression), sorted by ``field``/``-field``, one page, with the total.

    ``count_budget_ms``: count the matches only this long (the total is None when that is not
    enough), so a list page stays fast at any size; without it the total is always exact.

    ExpressionError (with position) for a filter that does not check or cannot run in SQL;
    QueryError for an unknown sort key. ``per_page`` is bounded to 1..500.
    """
    tenant_id = actor.tenant_id
    pub = form_store.load_published(session, tenant_id, form_key)
    allowed = access_control.form_access(session, actor, form_key)
    table = records.top_table(pub.spec)
    # hidden fields can be neither filtered nor sorted on (that would reveal their values)
    visible = replace(pub.form, fields=tuple(f for f in pub.form.fields if f.key not in allowed.hidden_fields))
    where = None if allowed.read.is_all else allowed.read.clause(table)
    if filter and filter.strip():
        condition = filters.compile_filter(filter, table, form_scope(visible), session.get_bind().dialect.name,
                                           _now(now), tz, _choice_codes(visible))
        where = condition if where is None else and_(where, condition)
    try:
        order = filters.order_clause(table, sort, {f.key for f in visible.fields}, session.get_bind().dialect.name)
    except ValueError:
        raise QueryError(msg("不能按“{k}”排序", "Cannot sort by '{k}'", k=str(sort)[:60])) from None
    page, per_page = max(1, int(page or 1)), min(max(1, int(per_page or DEFAULT_PER_PAGE)), MAX_PER_PAGE)
    if page > MAX_PAGE:         # the row offset must stay a 64-bit database integer
        raise QueryError(msg("页码不能大于 {m}", "The page number cannot exceed {m}", m=MAX_PAGE))
    if not allowed.read.allows_any:
        return Page([], 0, page, per_page)
    rows = records.select_rows(session, pub.spec, tenant_id, where, order, per_page, (page - 1) * per_page)
    children = records.child_rows(session, pub.spec, tenant_id, [r["id"] for r in rows])
    form_for = _versions(session, tenant_id, pub)
    items = [_shown(records.build_record(form_for, pub.spec, r, children), allowed) for r in rows]
    if len(items) < per_page and (page == 1 or items):     # the last page: the total is known
        total = (page - 1) * per_page + len(items)
    else:
        total = records.count_rows(session, pub.spec, tenant_id, where, count_budget_ms)
    return Page(items, total, page, per_page)


def record_history(session: Session, actor: Actor, form_key: str, record_id: int) -> list[dict]:
    """The audit entries of a record the actor may read (NotFound otherwise), oldest first.

    Read-only and tenant-scoped. Changes to fields hidden from the reader are left out; each
    entry carries ``actor_name`` (the user's name at the time of reading).
    """
    get_record(session, actor, form_key, record_id)     # NotFound outside the read scope
    hidden = access_control.form_access(session, actor, form_key).hidden_fields
    entries = audit.entries(session, actor.tenant_id, form_key, record_id)
    names = user_names(session, actor.tenant_id, (e["actor_id"] for e in entries))
    return [{"id": e["id"], "action": e["action"], "actor_id": e["actor_id"], "actor_name": names.get(e["actor_id"]),
             "at": records.from_db(StorageKind.DATETIME, e["at"]), "reason": e["reason"],
             "def_version": e["def_version"],
             "changes": {k: v for k, v in (e["changes"] or {}).items() if k not in hidden and not k.startswith("_")}}
            for e in entries]


def _choice_codes(form: FormDef) -> dict[str, tuple[str, ...]]:
    """Option codes of the form's single-choice fields (select, radio), by key."""
    return {f.key: tuple(str(c.get("code")) for c in f.option("choices") or ())
            for f in form.fields if f.type in ("select", "radio")}
