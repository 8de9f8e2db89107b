"""Records repository: rows of the generated record tables ⇄ record values (never commits).

Records are written through the newest physical layout of the form (every column ever created)
and read with the definition of the version they were written under (``def_version``). Values
come in as clean Python values (what ``engine.forms.validate_record`` returns: sub-tables as
lists of row dicts, a stored row carries its ``id``) and go out the same way; :func:`to_json`
turns them into JSON-ready data. Every statement is scoped by ``tenant_id`` and parameterised.

Each written row also carries the date buckets of its DATE / DATETIME values (and a new record
those of ``created_at``), computed in the tenant's time zone (:mod:`engine.storage.buckets`);
reading never shows them: a record's values come from its definition's fields only.
"""
from __future__ import annotations

import time
import weakref
from functools import lru_cache
from dataclasses import dataclass, field
from datetime import date, datetime, timezone, tzinfo
from typing import Any, Callable, Iterable, Mapping

from sqlalchemy import Table, and_, bindparam, delete, func, insert, select, text, update
from sqlalchemy.orm import Session
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import UnaryExpression

from engine.definitions.model import FieldDef, FormDef
from engine.fields import field_type
from engine.fields.base import StorageKind
from engine.storage import buckets
from engine.storage.record_tables import TableSpec, sa_tables

SYSTEM_FIELDS = ("serial_no", "title", "status", "flow_state", "created_by", "created_at",
                 "updated_by", "updated_at")


@dataclass(frozen=True)
class Record:
    """A stored record: system values plus ``data`` (JSON-ready, sub-table rows with their ``id``)."""

    id: int
    form_key: str
    version: int
    def_version: int
    serial_no: str | None
    title: str | None
    status: str
    flow_state: str | None
    created_by: int | None
    created_at: datetime
    updated_by: int | None
    updated_at: datetime
    data: dict[str, Any] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)  # Python values

    def to_json(self) -> dict[str, Any]:
        """The record as the REST API shows it."""
        return {"id": self.id, "version": self.version, "def_version": self.def_version,
                "serial_no": self.serial_no, "title": self.title, "status": self.status,
                "flow_state": self.flow_state, "created_by": self.created_by,
                "created_at": self.created_at.isoformat(), "updated_by": self.updated_by,
                "updated_at": self.updated_at.isoformat(), "data": self.data}


_NEVER_REUSED: "weakref.WeakKeyDictionary[object, dict[str, bool]]" = weakref.WeakKeyDictionary()


def ids_never_reused(session: Session, spec: TableSpec) -> bool:
    """Whether the form's table never gives a deleted record's id to a new record.

    True on PostgreSQL (sequences) and for SQLite tables created with AUTOINCREMENT (every record
    table since it was introduced); an older SQLite table may reuse the newest id after a delete.
    The answer is fixed when the table is created, so it is looked up once per database and table.
    """
    bind = session.get_bind()
    if bind.dialect.name != "sqlite":
        return True
    known = _NEVER_REUSED.setdefault(bind.engine.pool, {})
    if spec.name not in known:
        sql = session.execute(text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :n"),
                              {"n": spec.name}).scalar()
        known[spec.name] = "AUTOINCREMENT" in (sql or "").upper()
    return known[spec.name]


# ---------------------------------------------------------------------------- field → column

_KINDS: dict[int, tuple[weakref.ref, dict]] = {}


def field_kinds(form: FormDef) -> dict[tuple[tuple[str, ...], str], StorageKind | None]:
    """Storage kind of every field by (table path, key); cached for the FormDef's lifetime."""
    hit = _KINDS.get(id(form))
    if hit is not None and hit[0]() is form:
        return hit[1]
    kinds: dict[tuple[tuple[str, ...], str], StorageKind | None] = {}

    def visit(fields: Iterable[FieldDef], path: tuple[str, ...]) -> None:
        for f in fields:
            ftype = field_type(f.type)
            if ftype.is_subtable:
                visit(f.fields, path + (f.key,))
                continue
            col = ftype.storage(f)
            kinds[(path, f.key)] = StorageKind(col.kind) if col is not None else None
    visit(form.fields, ())
    _KINDS[id(form)] = (weakref.ref(form, lambda _r, k=id(form): _KINDS.pop(k, None)), kinds)
    return kinds


def to_db(kind: StorageKind, value: Any) -> Any:
    """A clean Python value → what the column takes (datetimes in UTC)."""
    if value is None:
        return None
    if kind is StorageKind.DATETIME and isinstance(value, datetime):
        return value.astimezone(timezone.utc) if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if kind is StorageKind.DATE and isinstance(value, str):
        return date.fromisoformat(value)
    if kind is StorageKind.DATE and isinstance(value, datetime):
        return value.date()
    if kind is StorageKind.DECIMAL and not isinstance(value, bool) and isinstance(value, (int, float)):
        return float(value)
    return value


def from_db(kind: StorageKind | None, value: Any) -> Any:
    """A column value → the clean Python value of a field of ``kind``."""
    if value is None:
        return None
    if kind is StorageKind.DATETIME and isinstance(value, datetime):
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
    if kind is StorageKind.INTEGER and not isinstance(value, bool) and isinstance(value, (int, float)):
        return int(value) if float(value).is_integer() else float(value)
    if kind is StorageKind.DECIMAL and not isinstance(value, bool) and isinstance(value, (int, float)):
        return float(value)
    if kind is StorageKind.BOOLEAN and isinstance(value, int):
        return bool(value)
    return value


def _kind(kinds, spec: TableSpec, path, key) -> StorageKind | None:
    """How to convert a value: by the physical column (every version's values live there), but an
    integer field whose column was widened to DECIMAL still reads back as a whole number."""
    column, wanted = spec.column(key), kinds.get((path, key))
    if column is None:
        return wanted
    if wanted is StorageKind.INTEGER and column.kind is StorageKind.DECIMAL:
        return wanted
    return column.kind


_COLUMN_PLANS: dict[tuple[int, int, tuple], tuple[weakref.ref, TableSpec, tuple]] = {}


def _column_plan(form: FormDef, fields, spec: TableSpec, path) -> tuple[tuple[str, StorageKind | None], ...]:
    """(field key, storage kind) of every stored field of one table level (cached per form and layout)."""
    key = (id(form), id(spec), tuple(path))
    hit = _COLUMN_PLANS.get(key)
    if hit is not None and hit[0]() is form and hit[1] is spec:
        return hit[2]
    kinds = field_kinds(form)
    plan = tuple((f.key, _kind(kinds, spec, path, f.key)) for f in fields
                 if not field_type(f.type).is_subtable and spec.column(f.key) is not None)
    if len(_COLUMN_PLANS) > 2048:
        _COLUMN_PLANS.clear()
    _COLUMN_PLANS[key] = (weakref.ref(form), spec, plan)
    return plan


def _row_values(form: FormDef, fields, spec: TableSpec, path, values: Mapping, zone: Callable[[], tzinfo]) -> dict:
    """Column values of one row: its fields, plus the buckets of its dates (``zone()`` is asked
    only when a date-time needs converting, so a write without one costs no zone lookup)."""
    row = {}
    for key, kind in _column_plan(form, fields, spec, path):
        row[key] = value = to_db(kind, values.get(key))
        if kind in buckets.DATED:
            converts = kind is StorageKind.DATETIME and value is not None
            row.update(buckets.bucket_values(key, kind, value, zone() if converts else timezone.utc))
    return row


def _zone_getter(session: Session, tenant_id: int) -> Callable[[], tzinfo]:
    return lambda: buckets.tenant_zone(session, tenant_id)


@lru_cache(maxsize=1024)
def _insert_returning(table: Table):
    """INSERT … RETURNING every column (built once per table object: statements are immutable)."""
    return insert(table).returning(*table.c)


def _subtables(fields) -> list[FieldDef]:
    return [f for f in fields if field_type(f.type).is_subtable]


# ---------------------------------------------------------------------------- writing

def insert_record(session: Session, form: FormDef, spec: TableSpec, tenant_id: int, values: Mapping,
                  system: Mapping) -> int:
    """Insert the record and its sub-table rows (nested); return the new id."""
    return write_new_record(session, form, spec, tenant_id, values, system)[0]["id"]


def write_new_record(session: Session, form: FormDef, spec: TableSpec, tenant_id: int, values: Mapping,
                     system: Mapping) -> tuple[Mapping, dict]:
    """Insert a record with its sub-table rows; return the rows as stored (like top_row, child_rows).

    RETURNING gives back what the database made of each value (numeric rounding, UTC times), so
    the caller can build the Record without reading it again.
    """
    top, zone = sa_tables(spec)[()], _zone_getter(session, tenant_id)
    row = _row_values(form, form.fields, spec, (), values, zone) | dict(system) | {"tenant_id": tenant_id}
    if "created_at" in system:
        row |= buckets.bucket_values("created_at", StorageKind.DATETIME, system["created_at"], zone())
    stored = session.execute(_insert_returning(top), row).mappings().one()
    children: dict = {}
    _write_children(session, form, spec, tenant_id, stored["id"], [(stored["id"], values, {})], (), form.fields,
                    children)
    return stored, children


def _write_children(session, form, spec, tenant_id, record_id, parents, path, fields, written=None) -> None:
    """Insert, update or delete the sub-table rows under ``parents`` ([(parent id, values, old values)]).

    Rows are matched to stored rows by id. New rows of one table level are inserted with one
    multi-row statement for all parents (RETURNING their ids in parameter order); ``written``
    collects the inserted rows as {path: {parent_id: [rows]}}.
    """
    tables, zone = sa_tables(spec), _zone_getter(session, tenant_id)
    for sub in _subtables(fields):
        sub_path = path + (sub.key,)
        table, sub_spec = tables[sub_path], _spec_at(spec, sub_path)
        new_cols, below, gone = [], [], []
        for parent_id, parent_values, old in parents:
            old_rows = {r["id"]: r for r in (old.get(sub.key) or []) if isinstance(r, Mapping) and r.get("id")}
            kept = set()
            for order, row in enumerate(parent_values.get(sub.key) or []):
                cols = _row_values(form, sub.fields, sub_spec, sub_path, row, zone) | {"row_order": order}
                row_id = row.get("id")
                if row_id in old_rows:
                    kept.add(row_id)
                    session.execute(update(table).where(and_(table.c.id == row_id, table.c.tenant_id == tenant_id,
                                                             table.c.record_id == record_id)).values(cols))
                    below.append([row_id, row, old_rows[row_id]])
                else:
                    new_cols.append(cols | {"tenant_id": tenant_id, "record_id": record_id, "parent_id": parent_id})
                    below.append([None, row, {}])
            gone += [i for i in old_rows if i not in kept]
        _insert_rows(session, table, new_cols, [b for b in below if b[0] is None], written, sub_path)
        if below:
            _write_children(session, form, spec, tenant_id, record_id, [tuple(b) for b in below], sub_path,
                            sub.fields, written)
        if gone:
            _delete_rows(session, tables, sub_path, tenant_id, record_id, gone)


def _insert_rows(session, table: Table, rows: list[dict], slots: list[list], written, path) -> None:
    """One multi-row INSERT … RETURNING; each new id goes into its slot (same order as ``rows``).

    Returned rows are matched to ``rows`` by (parent_id, row_order), unique within one statement,
    rather than by asking for parameter order: SQLite would then insert one row at a time.
    """
    if not rows:
        return
    stored = session.execute(_insert_returning(table), rows).mappings().all()
    by_key = {(r["parent_id"], r["row_order"]): r for r in stored}
    groups = written.setdefault(path, {}) if written is not None else {}
    for slot, cols in zip(slots, rows, strict=True):
        row = by_key[(cols["parent_id"], cols["row_order"])]
        slot[0] = row["id"]
        groups.setdefault(row["parent_id"], []).append(row)


def _delete_rows(session, tables, path, tenant_id, record_id, ids) -> None:
    """Delete rows and their descendants (explicitly, not only by ON DELETE CASCADE)."""
    _delete_descendants(session, tables, path, tenant_id, ids)
    table = tables[path]
    session.execute(delete(table).where(and_(table.c.tenant_id == tenant_id, table.c.record_id == record_id,
                                             table.c.id.in_(ids))))


def _delete_descendants(session, tables, path, tenant_id, parent_ids) -> None:
    """Delete the rows below ``parent_ids`` of ``path``, deepest level first."""
    for child_path, child in tables.items():
        if len(child_path) == len(path) + 1 and child_path[:len(path)] == path:
            ids = list(session.execute(select(child.c.id).where(and_(
                child.c.tenant_id == tenant_id, child.c.parent_id.in_(parent_ids)))).scalars())
            if ids:
                _delete_descendants(session, tables, child_path, tenant_id, ids)
                session.execute(delete(child).where(child.c.id.in_(ids)))


def update_record(session: Session, form: FormDef, spec: TableSpec, tenant_id: int, record_id: int,
                  expected_version: int, values: Mapping, old: Mapping, system: Mapping) -> bool:
    """Optimistic update: False (nothing written) if the stored version is not ``expected_version``."""
    top = sa_tables(spec)[()]
    row = _row_values(form, form.fields, spec, (), values, _zone_getter(session, tenant_id)) | dict(system) \
        | {"version": expected_version + 1}
    result = session.execute(update(top).where(and_(
        top.c.id == record_id, top.c.tenant_id == tenant_id, top.c.version == expected_version)).values(row))
    if result.rowcount != 1:
        return False
    _write_children(session, form, spec, tenant_id, record_id, [(record_id, values, old)], (), form.fields)
    return True


def set_status(session: Session, spec: TableSpec, tenant_id: int, record_id: int, expected_version: int,
               status: str, user_id: int | None, now: datetime) -> bool:
    """Optimistic status change (the version moves on); False if the record changed meanwhile."""
    top = sa_tables(spec)[()]
    result = session.execute(update(top).where(and_(
        top.c.id == record_id, top.c.tenant_id == tenant_id, top.c.version == expected_version)).values(
        status=status, version=expected_version + 1, updated_by=user_id, updated_at=now))
    return result.rowcount == 1


def delete_record(session: Session, spec: TableSpec, tenant_id: int, record_id: int) -> bool:
    """Delete a record with all its sub-table rows; False if it did not exist."""
    tables = sa_tables(spec)
    for path in sorted((p for p in tables if p), key=len, reverse=True):
        t = tables[path]
        session.execute(delete(t).where(and_(t.c.tenant_id == tenant_id, t.c.record_id == record_id)))
    top = tables[()]
    return session.execute(delete(top).where(and_(top.c.id == record_id, top.c.tenant_id == tenant_id))).rowcount == 1


def _spec_at(spec: TableSpec, path: tuple[str, ...]) -> TableSpec:
    for key in path:
        spec = spec.child(key)
    return spec


# ---------------------------------------------------------------------------- reading

@lru_cache(maxsize=1024)
def _top_row_stmt(top: Table):
    return select(top).where(and_(top.c.id == bindparam("record_id"), top.c.tenant_id == bindparam("tenant_id")))


@lru_cache(maxsize=2048)
def _child_rows_stmt(table: Table):
    return (select(table).where(and_(table.c.tenant_id == bindparam("tenant_id"),
                                     table.c.record_id.in_(bindparam("ids", expanding=True))))
            .order_by(table.c.parent_id, table.c.row_order, table.c.id))


def top_row(session: Session, spec: TableSpec, tenant_id: int, record_id: int) -> Mapping | None:
    """The record's own row (system columns and field columns) or None."""
    return session.execute(_top_row_stmt(sa_tables(spec)[()]), {"record_id": record_id, "tenant_id": tenant_id}) \
        .mappings().first()


def child_rows(session: Session, spec: TableSpec, tenant_id: int, record_ids: list[int]) -> dict:
    """All sub-table rows of the records: {path: {parent_id: [rows in row order]}}."""
    out: dict[tuple[str, ...], dict[int, list]] = {}
    if not record_ids:
        return out
    for path, table in sa_tables(spec).items():
        if not path:
            continue
        groups = out.setdefault(path, {})
        for row in session.execute(_child_rows_stmt(table), {"tenant_id": tenant_id, "ids": list(record_ids)}).mappings():
            groups.setdefault(row["parent_id"], []).append(row)
    return out


def build_record(form_for: Callable[[int], FormDef], spec: TableSpec, row: Mapping, children: dict) -> Record:
    """A Record from its row, read with the definition of the row's ``def_version``."""
    form = form_for(row["def_version"])
    values = _values(form, form.fields, spec, (), row, children)
    system = {k: row[k] for k in SYSTEM_FIELDS}
    for k in ("created_at", "updated_at"):
        system[k] = from_db(StorageKind.DATETIME, system[k])
    return Record(id=row["id"], form_key=form.key, version=row["version"], def_version=row["def_version"],
                  data=to_json(form, values), values=values, **system)


def _values(form, fields, spec, path, row, children) -> dict:
    kinds, out = field_kinds(form), {}
    for f in fields:
        if field_type(f.type).is_subtable:
            sub_path, sub_spec = path + (f.key,), spec.child(f.key)
            rows = children.get(sub_path, {}).get(row["id"], [])
            out[f.key] = [{"id": r["id"], **_values(form, f.fields, sub_spec, sub_path, r, children)} for r in rows]
        elif f.key in row:
            out[f.key] = from_db(_kind(kinds, spec, path, f.key), row[f.key])
    return out


def to_json(form: FormDef, values: Mapping) -> dict:
    """Clean Python values → JSON-ready data (each field type decides; rows keep their ``id``)."""
    return _json(form.fields, values)


def _json(fields, values: Mapping) -> dict:
    out = {}
    if "id" in values:
        out["id"] = values["id"]
    for f in fields:
        if f.key not in values:
            continue
        ftype, value = field_type(f.type), values[f.key]
        if ftype.is_subtable:
            out[f.key] = [_json(f.fields, r) for r in (value or [])]
        else:
            out[f.key] = None if value is None else ftype.to_json(f, value)
    return out


# ---------------------------------------------------------------------------- querying

def select_rows(session: Session, spec: TableSpec, tenant_id: int, where=None, order_by=(),
                limit: int | None = None, offset: int = 0) -> list[Mapping]:
    """Top rows of one page (tenant-scoped; ``where``/``order_by`` are SQLAlchemy clauses)."""
    top = sa_tables(spec)[()]
    stmt = select(top).where(top.c.tenant_id == tenant_id)
    if where is not None:
        stmt = stmt.where(where)
    # ties broken by id in the direction of the last sort key, so one index serves the whole order
    tie = top.c.id.desc() if order_by and _descending(order_by[-1]) else top.c.id.asc()
    stmt = stmt.order_by(*order_by, tie).offset(offset)
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.execute(stmt).mappings())


def _descending(clause) -> bool:
    """Whether an ORDER BY term (possibly wrapped in NULLS FIRST/LAST) sorts descending."""
    while isinstance(clause, UnaryExpression):
        if clause.modifier is operators.desc_op:
            return True
        clause = clause.element
    return False


def count_rows(session: Session, spec: TableSpec, tenant_id: int, where=None,
               budget_ms: int | None = None) -> int | None:
    """How many top rows match; with ``budget_ms``, None when counting would take longer.

    A count has to visit every match, and with a filter and a read scope that no single index
    covers it visits table rows too: at a million records that is hundreds of milliseconds, while
    the page itself needs only 50 rows. A list page therefore counts within a budget and says
    "many" when it runs out (the database stops the statement; nothing else is affected).
    """
    top = sa_tables(spec)[()]
    stmt = select(func.count()).select_from(top).where(top.c.tenant_id == tenant_id)
    if where is not None:
        stmt = stmt.where(where)
    if budget_ms is None:
        return session.execute(stmt).scalar_one()
    return _within(session, stmt, max(1, int(budget_ms)))


def _within(session: Session, stmt, budget_ms: int):
    """The scalar result of ``stmt``, or None when it runs longer than ``budget_ms``."""
    from sqlalchemy.exc import OperationalError
    conn = session.connection()
    if conn.dialect.name == "sqlite":
        raw = conn.connection.driver_connection
        deadline = time.perf_counter() + budget_ms / 1000
        raw.set_progress_handler(lambda: int(time.perf_counter() > deadline), 2000)
        try:
            return session.execute(stmt).scalar_one()
        except OperationalError as exc:
            if "interrupted" not in str(exc):
                raise
            return None
        finally:
            raw.set_progress_handler(None, 0)
    nested = session.begin_nested()      # PostgreSQL: a statement timeout that ends with the savepoint
    try:
        session.execute(text(f"SET LOCAL statement_timeout = {budget_ms}"))
        return session.execute(stmt).scalar_one()
    except OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) != "57014":     # query_canceled
            raise
        return None
    finally:
        nested.rollback()


def top_table(spec: TableSpec) -> Table:
    """The SQLAlchemy table of the form's own rows (for building filters and sort keys)."""
    return sa_tables(spec)[()]
