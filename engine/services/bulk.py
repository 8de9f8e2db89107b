"""Bulk edit and bulk delete: one change applied to many records, each through the record services.

Records are chosen by id or by a filter expression (the list filter's language, run by
:func:`engine.services.records.query_records`, so the reader's scope applies: a record the actor
cannot read is never touched, and is reported as not existing). Checked up front, before
anything is written: the form permission, the fields in ``data`` (known, settable in bulk,
writable for this actor, a value their type accepts — all problems at once) and the number of
records (over ``max_records``: refused).

Then each record is written by ``update_record(partial=True)`` / ``delete_record`` at the version
just read (or the version the caller saw, ``versions``) inside its own SAVEPOINT: a record that
fails (permission, validation, in approval, stale) is rolled back and reported with its message,
the others are written. An update that changes nothing is rolled back too (no new version, no
audit entry) and counted as unchanged — compared on what the actor sees, so a formula hidden
from them is not recomputed when nothing they see changes.

Rules fire per record written (the record services fire them). The whole operation runs in
:func:`engine.services.rule_events.batch`, so rules with ``"batch": "once"`` fire once with the
records actually written: a record whose savepoint is rolled back is forgotten (mark/reset).
The caller owns the transaction and commits.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any, Callable, Iterable, Mapping

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine import access
from engine.access import FormAccess
from engine.definitions.model import FieldDef, FormDef
from engine.errors import FieldProblem, NotFound, QMSError, RecordValidationError
from engine.fields import field_type
from engine.fields.base import InvalidValue
from engine.forms import messages
from engine.i18n import Msg, msg
from engine.services import flows, rule_events
from engine.services import records as record_service
from engine.storage import form_store
from engine.storage.records import Record
from engine.types import Actor

MAX_RECORDS = 1000
NOT_IN_BULK = frozenset({"subtable", "attachment", "image", "signature"})   # per-record content
SOURCES = {"update": "bulk_edit", "delete": "bulk_delete"}

__all__ = ["MAX_RECORDS", "BulkReport", "BulkRequestError", "RecordProblem", "bulk_delete", "bulk_update",
           "check_data", "editable_fields"]


class BulkRequestError(QMSError):
    """A bulk request that cannot run at all (no records chosen, too many); nothing was written."""

    code = "invalid_bulk"


@dataclass(frozen=True)
class RecordProblem:
    """Why one record was not written. ``serial_no`` only for records the actor may read."""

    record_id: int
    serial_no: str | None
    message: Msg
    errors: tuple[FieldProblem, ...] = ()

    def to_dict(self, lang: str | None = None) -> dict:
        return {"id": self.record_id, "serial_no": self.serial_no, "message": self.message.get(lang),
                "errors": [e.to_dict(lang) for e in self.errors]}


@dataclass
class BulkReport:
    """What a bulk operation did: counts and the records that failed, in the order tried."""

    action: str                           # "update" | "delete"
    matched: int = 0
    done: int = 0                         # records updated / deleted
    unchanged: int = 0
    problems: list[RecordProblem] = field(default_factory=list)
    batch_id: str | None = None

    @property
    def failed(self) -> int:
        return len(self.problems)

    def to_dict(self, lang: str | None = None) -> dict:
        """The API reply: ``updated``/``deleted``, ``unchanged``, ``failed``, ``errors`` [{id, message}]."""
        done = "updated" if self.action == "update" else "deleted"
        return {done: self.done, "unchanged": self.unchanged, "failed": self.failed, "matched": self.matched,
                "batch_id": self.batch_id, "errors": [p.to_dict(lang) for p in self.problems]}


# ---------------------------------------------------------------------------- what may be set

def _blocked(f: FieldDef, granted: FormAccess) -> Msg | None:
    """Why ``f`` cannot be set in bulk by this actor (None: it can)."""
    label = f.label
    if field_type(f.type).is_computed:
        return msg("「{lz}」是自动计算或生成的，不能设置", "'{le}' is calculated or generated and cannot be set",
                   lz=label.zh, le=label.en)
    if f.type in NOT_IN_BULK or f.fields:
        return msg("「{lz}」不能批量修改，请逐条编辑", "'{le}' cannot be changed in bulk; edit records one by one",
                   lz=label.zh, le=label.en)
    if f.readonly is True or f.key in granted.readonly_fields:
        return msg("「{lz}」对你是只读的", "'{le}' is read-only for you", lz=label.zh, le=label.en)
    return None


def editable_fields(form: FormDef, granted: FormAccess) -> list[FieldDef]:
    """Top-level fields this actor may set in bulk: stored, not computed, not read-only or hidden for them."""
    return [f for f in form.fields if f.key not in granted.hidden_fields and _blocked(f, granted) is None]


def check_data(form: FormDef, granted: FormAccess, data: Any) -> dict[str, Any]:
    """``data`` if every key may be set in bulk and every value fits its type; else
    RecordValidationError listing every problem (a hidden field is reported as unknown)."""
    if not isinstance(data, Mapping) or not data:
        raise RecordValidationError([FieldProblem("", msg("请至少指定一个要修改的字段",
                                                          "Give at least one field to change"))])
    problems = []
    order = {f.key: i for i, f in enumerate(form.fields)}
    for key, value in sorted(data.items(), key=lambda item: order.get(item[0], len(order))):   # form order
        f = form.field(key) if isinstance(key, str) else None
        if f is None or f.key in granted.hidden_fields:
            problems.append(FieldProblem(str(key)[:60], messages.unknown_field(str(key)[:60])))
        elif (why := _blocked(f, granted)) is not None:
            problems.append(FieldProblem(key, why))
        else:
            try:
                field_type(f.type).coerce(f, value)
            except InvalidValue as exc:
                problems.append(FieldProblem(key, messages.bad_value(f.label, exc.message)))
    if problems:
        raise RecordValidationError(problems)
    return dict(data)


# ---------------------------------------------------------------------------- which records

def _too_many(n: int, limit: int) -> BulkRequestError:
    return BulkRequestError(msg("选中了 {n} 条记录，超过单次批量操作的上限 {m} 条：请缩小范围后分批处理",
                                "{n} records are chosen, more than the {m} one bulk operation may change: "
                                "narrow the selection and work in parts", n=n, m=limit))


def _targets(session: Session, actor: Actor, form_key: str, record_ids: Iterable[int] | None,
             filter: str | None, limit: int) -> list[int]:
    """The ids to work on, in order (ids as given, or every record the filter finds for this reader)."""
    if record_ids is not None and filter is not None:
        raise BulkRequestError(msg("请只给出记录 id 或筛选条件之一", "Give either record ids or a filter, not both"))
    if record_ids is not None:
        ids = list(record_ids)
        if not ids or any(not isinstance(i, int) or isinstance(i, bool) or i < 1 for i in ids):
            raise BulkRequestError(msg("记录 id 应为正整数的列表（至少一个）",
                                       "Record ids must be a list of positive integers (at least one)"))
        ids = list(dict.fromkeys(ids))
        if len(ids) > limit:
            raise _too_many(len(ids), limit)
        return ids
    if not isinstance(filter, str) or not filter.strip():
        raise BulkRequestError(msg("请选择记录：给出记录 id 或筛选条件", "Choose the records: give record ids or a filter"))
    return _filtered(session, actor, form_key, filter, limit)


def _filtered(session: Session, actor: Actor, form_key: str, filter: str, limit: int) -> list[int]:
    per_page = record_service.MAX_PER_PAGE
    first = record_service.query_records(session, actor, form_key, filter, sort="id", per_page=per_page)
    if first.total > limit:
        raise _too_many(first.total, limit)
    ids = [r.id for r in first.items]
    page = 1
    while len(ids) < first.total:
        page += 1
        found = record_service.query_records(session, actor, form_key, filter, sort="id", page=page,
                                             per_page=per_page).items
        if not found:
            break
        ids += [r.id for r in found]
    return ids[:limit]


# ---------------------------------------------------------------------------- the operations

def bulk_update(session: Session, actor: Actor, form_key: str, record_ids: list[int] | None, filter: str | None,
                data: Mapping[str, Any], reason: str | None = None, *, max_records: int = MAX_RECORDS,
                versions: Mapping[int, int] | None = None, now: datetime | None = None,
                tz: tzinfo | None = None) -> BulkReport:
    """Set the same field values on every chosen record; see the module docstring.

    ``versions`` (record id → version the caller saw): a record changed since is reported stale.
    PermissionDenied without any update right; RecordValidationError for ``data`` (every field);
    BulkRequestError for the selection; ExpressionError for a bad filter. Nothing is written then.
    """
    pub = form_store.load_published(session, actor.tenant_id, form_key)
    granted = access.form_access(session, actor, form_key)
    access.require(granted, "update")
    data = check_data(pub.form, granted, data)
    ids = _targets(session, actor, form_key, record_ids, filter, max_records)

    def write(old: Record, version: int) -> bool:
        new = record_service.update_record(session, actor, form_key, old.id, version, data, reason,
                                           partial=True, now=now, tz=tz)
        return new.data != old.data or new.status != old.status
    return _each(session, actor, BulkReport("update", matched=len(ids)), form_key, ids, versions, write)


def bulk_delete(session: Session, actor: Actor, form_key: str, record_ids: list[int] | None, filter: str | None,
                reason: str | None = None, *, max_records: int = MAX_RECORDS,
                versions: Mapping[int, int] | None = None, now: datetime | None = None) -> BulkReport:
    """Delete every chosen record (each with its audit entry and rules); see the module docstring.

    PermissionDenied without any delete right; BulkRequestError for the selection.
    """
    form_store.load_published(session, actor.tenant_id, form_key)
    access.require(access.form_access(session, actor, form_key), "delete")
    ids = _targets(session, actor, form_key, record_ids, filter, max_records)

    def write(old: Record, version: int) -> bool:
        record_service.delete_record(session, actor, form_key, old.id, version, reason, now=now)
        return True
    return _each(session, actor, BulkReport("delete", matched=len(ids)), form_key, ids, versions, write)


class _Unchanged(Exception):
    """Raised inside a record's savepoint to undo an update that changed nothing."""


def _each(session: Session, actor: Actor, report: BulkReport, form_key: str, ids: list[int],
          versions: Mapping[int, int] | None, write: Callable[[Record, int], bool]) -> BulkReport:
    """``write`` every record in its own savepoint, within one rule batch; failures are reported."""
    flows.flush_events(session)            # earlier work's flow entries must not be dropped with a record's
    with rule_events.batch(session, actor, SOURCES[report.action]) as current:
        report.batch_id = current.id
        for record_id in ids:
            try:
                old = record_service.get_record(session, actor, form_key, record_id)
            except NotFound as exc:        # absent, or outside the read scope: said the same way
                report.problems.append(RecordProblem(record_id, None, exc.message))
                continue
            mark = current.mark()
            try:
                with session.begin_nested():
                    if not write(old, (versions or {}).get(record_id, old.version)):
                        raise _Unchanged
                    flows.flush_events(session)        # inside the savepoint: kept or undone with it
                report.done += 1
            except _Unchanged:
                _undone(session, current, mark)
                report.unchanged += 1
            except (QMSError, IntegrityError) as exc:
                _undone(session, current, mark)
                report.problems.append(_problem(old, exc))
    return report


def _undone(session: Session, current: rule_events.Batch, mark: int) -> None:
    """The record's savepoint was rolled back: forget what it collected for the batch and the flows."""
    current.reset(mark)
    flows.drop_events(session)


def _problem(old: Record, exc: Exception) -> RecordProblem:
    if isinstance(exc, RecordValidationError):
        text = "; ".join(e.message.zh for e in exc.errors), "; ".join(e.message.en for e in exc.errors)
        return RecordProblem(old.id, old.serial_no, Msg(*text), tuple(exc.errors))
    if isinstance(exc, QMSError):
        return RecordProblem(old.id, old.serial_no, exc.message)
    return RecordProblem(old.id, old.serial_no, msg("记录 {i} 无法保存：与其他记录冲突（如重复的唯一值）",
                                                    "Record {i} could not be saved: it conflicts with another record "
                                                    "(such as a duplicate unique value)", i=old.id))
