"""Record tables generated from published form definitions, and their migrations.

One table per (tenant, form) — ``t1_iqc`` — with system columns and one typed column per scalar
field; one child table per sub-table at any depth — ``t1_iqc__characteristics__readings`` —
with ``record_id`` (the top record), ``parent_id`` (the parent row, ON DELETE CASCADE) and
``row_order``.

A :class:`TableSpec` tree describes the *physical* layout. Publishing builds the spec the new
definition wants, reflects what the database really has (the stored spec of the previous
version only fills in what reflection cannot see: SQLite keeps the declared type when we widen
a column, because its type affinity accepts the wider values without an ALTER), plans the
migration (:func:`plan_migration`) and applies it (:func:`apply_migration`). Removed fields and
sub-tables keep their columns/tables; labels never reach names. Unsafe changes raise a
DefinitionError that names the field, before any DDL runs.

Every DATE / DATETIME column (and ``created_at`` of a form's own table) also has date-bucket
columns (:mod:`engine.storage.buckets`). They are derived from the spec, never stored in it:
:func:`_table` adds them, reflection skips them, and planning adds the ones a table lacks — for
a new date field (empty, nothing to fill) or an existing column without them (filled from the
stored values in the tenant's time zone).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Iterator

from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import (BigInteger, Column, Connection, DateTime, ForeignKey, Index, Integer, MetaData,
                        PrimaryKeyConstraint, String, Table, inspect)

from engine.definitions.model import FormDef
from engine.errors import DefinitionError, Problem
from engine.fields import field_type
from engine.i18n import Msg, msg
from engine.storage import buckets, naming
from engine.storage.columns import ColumnSpec, reflected_spec, same_type, sa_type, widen
from engine.storage.platform import IdType

SYSTEM_COLUMNS = ("id", "tenant_id", "serial_no", "title", "created_by", "created_at", "updated_by",
                  "updated_at", "version", "status", "flow_state", "def_version")
CHILD_SYSTEM_COLUMNS = ("id", "tenant_id", "record_id", "parent_id", "row_order")
RESERVED = frozenset(SYSTEM_COLUMNS + CHILD_SYSTEM_COLUMNS)
SYSTEM_INDEXED = ("tenant_id", "created_at", "created_by", "updated_at", "status", "serial_no")  # created_by: "own" read scopes


@dataclass(frozen=True)
class TableSpec:
    """A record table (``path`` = () for the form's own table) with its field columns and children."""

    name: str
    path: tuple[str, ...]
    columns: tuple[ColumnSpec, ...] = ()
    children: tuple["TableSpec", ...] = ()

    def column(self, name: str) -> ColumnSpec | None:
        return next((c for c in self.columns if c.name == name), None)

    def child(self, key: str) -> "TableSpec | None":
        return next((c for c in self.children if c.path[-1] == key), None)

    def walk(self) -> Iterator["TableSpec"]:
        """This table and all descendants, parents before children."""
        yield self
        for child in self.children:
            yield from child.walk()

    def to_json(self) -> dict:
        return {"name": self.name, "path": list(self.path), "columns": [c.to_json() for c in self.columns],
                "children": [c.to_json() for c in self.children]}

    @classmethod
    def from_json(cls, data: dict) -> "TableSpec":
        return cls(data["name"], tuple(data["path"]), tuple(ColumnSpec.from_json(c) for c in data["columns"]),
                   tuple(cls.from_json(c) for c in data.get("children", ())))


# ---------------------------------------------------------------------------- spec of a definition

def form_spec(form: FormDef, tenant_id: int) -> TableSpec:
    """The tables a form definition wants (field keys re-checked, system names refused)."""
    return _spec_of(form.key, tenant_id, (), form.fields, "$")


def _spec_of(form_key: str, tenant_id: int, path: tuple[str, ...], fields, json_path: str) -> TableSpec:
    columns, children = [], []
    for i, f in enumerate(fields):
        where = f"{json_path}.fields[{i}]"
        name = naming.safe_sql_name(naming.check_key(f.key, where + ".key"))
        if name in RESERVED:
            raise DefinitionError([Problem(where + ".key", msg(
                "字段标识“{k}”是系统列名，请换一个", "Field key '{k}' is a system column name; choose another", k=name))])
        ftype = field_type(f.type)
        if ftype.is_subtable:
            children.append(_spec_of(form_key, tenant_id, path + (f.key,), f.fields, where))
            continue
        storage = ftype.storage(f)
        if storage is not None:
            columns.append(ColumnSpec.of_field(name, storage, indexed=bool(f.indexed)))
    return TableSpec(naming.record_table_name(tenant_id, form_key, path), path, tuple(columns), tuple(children))


def field_paths(form: FormDef) -> dict[tuple[tuple[str, ...], str], str]:
    """JSON path of every field, keyed by (table path, field key), for error messages."""
    out: dict[tuple[tuple[str, ...], str], str] = {}

    def visit(fields, path, json_path):
        for i, f in enumerate(fields):
            out[(path, f.key)] = f"{json_path}.fields[{i}]"
            visit(f.fields, path + (f.key,), f"{json_path}.fields[{i}]")
    visit(form.fields, (), "$")
    return out


# ---------------------------------------------------------------------------- reflection

def current_spec(conn: Connection, desired: TableSpec, stored: TableSpec | None) -> TableSpec | None:
    """What the database has now for the tables of ``desired`` and ``stored`` (None: nothing yet)."""
    insp = inspect(conn)
    existing = set(insp.get_table_names())
    known = {t.path: t for t in stored.walk()} if stored else {}
    wanted = {t.path: t.name for t in desired.walk()} | {p: t.name for p, t in known.items()}
    return _reflect((), wanted, existing, known, insp)


def _reflect(path, wanted, existing, known, insp) -> TableSpec | None:
    name = wanted.get(path)
    if name is None or name not in existing:
        return None
    stored = known.get(path)
    columns = []
    reserved = CHILD_SYSTEM_COLUMNS if path else SYSTEM_COLUMNS
    indexed = {i["column_names"][-1] for i in insp.get_indexes(name)
               if len(i["column_names"]) == 1 or (len(i["column_names"]) == 2 and i["column_names"][0] == "tenant_id")}
    for col in insp.get_columns(name):
        if col["name"] in reserved or buckets.is_bucket_name(col["name"]):
            continue
        spec = reflected_spec(col["name"], col["type"])
        if spec is None:
            continue
        remembered = stored.column(spec.name) if stored else None
        if remembered is not None:
            wider = widen(spec, remembered)
            if wider is not None and same_type(wider, remembered):
                spec = remembered   # widened without ALTER (SQLite) or simply equal
        columns.append(replace(spec, indexed=spec.name in indexed))
    kids = sorted({p[len(path)] for p in wanted if len(p) == len(path) + 1 and p[:len(path)] == path})
    children = [c for k in kids if (c := _reflect(path + (k,), wanted, existing, known, insp)) is not None]
    return TableSpec(name, path, tuple(columns), tuple(children))


# ---------------------------------------------------------------------------- planning

@dataclass
class MigrationPlan:
    """What publishing changes: ``spec`` is the resulting physical layout.

    ``add_buckets``: bucket columns to add to existing tables; ``refill``: (table, source column)
    whose new buckets must be computed from values already stored.
    """

    spec: TableSpec
    create_tables: list[TableSpec] = field(default_factory=list)
    add_columns: list[tuple[str, ColumnSpec]] = field(default_factory=list)
    widen_columns: list[tuple[str, ColumnSpec, ColumnSpec]] = field(default_factory=list)
    add_indexes: list[tuple[str, str]] = field(default_factory=list)
    add_buckets: list[tuple[str, ColumnSpec]] = field(default_factory=list)
    refill: list[tuple[str, str]] = field(default_factory=list)

    def changes(self, dialect: str) -> list[dict]:
        """A JSON log of the plan (stored with the form version)."""
        out = [{"op": "create_table", "table": t.name} for t in self.create_tables]
        out += [{"op": "add_column", "table": t, "column": c.name, "type": c.describe()} for t, c in self.add_columns]
        out += [{"op": "widen_column", "table": t, "column": new.name, "from": old.describe(), "to": new.describe(),
                 "altered": dialect != "sqlite"} for t, old, new in self.widen_columns]
        out += [{"op": "add_index", "table": t, "column": c} for t, c in self.add_indexes]
        out += [{"op": "add_bucket", "table": t, "column": c.name, "type": c.describe()} for t, c in self.add_buckets]
        out += [{"op": "refill_buckets", "table": t, "column": c} for t, c in self.refill]
        return out


def plan_migration(form: FormDef, current: TableSpec | None, desired: TableSpec) -> MigrationPlan:
    """Merge ``desired`` into ``current``; raise DefinitionError naming every unsafe change."""
    problems: list[Problem] = []
    plan = MigrationPlan(spec=desired)
    plan.spec = _merge(current, desired, plan, problems, field_paths(form))
    if problems:
        raise DefinitionError(problems, msg("表单有 {n} 处改动无法安全迁移已有数据",
                                            "{n} change(s) cannot be applied safely to the stored records",
                                            n=len(problems)))
    return plan


def _merge(cur: TableSpec | None, want: TableSpec, plan: MigrationPlan, problems: list, paths: dict) -> TableSpec:
    """The physical table after merging ``want`` into ``cur``; steps go to ``plan``, refusals to ``problems``."""
    if cur is None:
        plan.create_tables.append(want)
        return want
    columns = {c.name: c for c in cur.columns}
    for col in want.columns:
        merged = _merge_column(cur, columns.get(col.name), col, plan, problems, paths.get((want.path, col.name), "$"))
        if merged is not None:
            columns[col.name] = merged
    children = {c.path[-1]: c for c in cur.children}
    for kid in want.children:
        key = kid.path[-1]
        if key in columns and cur.child(key) is None:
            problems.append(_problem(paths.get((want.path, key), "$"), key, "普通字段不能改成子表",
                                     "a single-value field cannot become a sub-table"))
            continue
        children[key] = _merge(cur.child(key), kid, plan, problems, paths)
    return TableSpec(cur.name, cur.path, tuple(columns.values()), tuple(children.values()))


def _merge_column(cur: TableSpec, old: ColumnSpec | None, col: ColumnSpec, plan: MigrationPlan,
                  problems: list, where: str) -> ColumnSpec | None:
    """The column after the change (None: refused, recorded in ``problems``)."""
    if cur.child(col.name) is not None:
        problems.append(_problem(where, col.name, "子表不能改成普通字段（会丢失子表的行）",
                                 "a sub-table cannot become a single-value field (its rows would be lost)"))
        return None
    if old is None:
        plan.add_columns.append((cur.name, col))
        plan.add_buckets += [(cur.name, b) for b in buckets.bucket_specs(col)]   # empty: nothing to fill
        return col
    merged = widen(old, col)
    if merged is None:
        problems.append(_problem(where, col.name, f"已存数据类型为 {old.describe()}，不能改为 {col.describe()}",
                                 f"stored values are {old.describe()} and cannot become {col.describe()}"))
        return None
    if not same_type(old, merged):
        plan.widen_columns.append((cur.name, old, merged))
    if merged.indexed and not old.indexed:
        plan.add_indexes.append((cur.name, col.name))
    return replace(merged, indexed=merged.indexed or old.indexed)


def _problem(where: str, key: str, zh: str, en: str) -> Problem:
    return Problem(where, Msg(f"字段“{key}”：{zh}", f"Field '{key}': {en}"))


def plan_buckets(conn: Connection, plan: MigrationPlan) -> None:
    """Add to ``plan`` the bucket columns that existing tables lack for columns they already have.

    Tables the plan creates get their buckets from :func:`_table`, and columns it adds got theirs
    in :func:`plan_migration`; what remains is a date column stored without buckets (a table made
    before buckets existed, or a bucket dropped by hand): its buckets are added and refilled.
    """
    insp = inspect(conn)
    existing = set(insp.get_table_names())
    created = {t.name for spec in plan.create_tables for t in spec.walk()}
    added = {(t, c.name) for t, c in plan.add_columns}
    planned = {(t, c.name) for t, c in plan.add_buckets}
    for table in plan.spec.walk():
        if table.name in created or table.name not in existing:
            continue
        have = {c["name"] for c in insp.get_columns(table.name)}
        for source in buckets.source_columns(table.columns, not table.path):
            if (table.name, source.name) in added or source.name not in have:   # new: buckets planned already
                continue
            missing = [b for b in buckets.bucket_specs(source)
                       if b.name not in have and (table.name, b.name) not in planned]
            if missing:
                plan.add_buckets += [(table.name, b) for b in missing]
                plan.refill.append((table.name, source.name))


# ---------------------------------------------------------------------------- SQLAlchemy tables

@lru_cache(maxsize=512)
def sa_tables(spec: TableSpec) -> dict[tuple[str, ...], Table]:
    """SQLAlchemy Tables of a spec tree, keyed by path (cached: specs are immutable)."""
    metadata = MetaData()
    out: dict[tuple[str, ...], Table] = {}
    for t in spec.walk():
        parent = out.get(t.path[:-1]) if t.path else None
        out[t.path] = _table(metadata, t, parent, out.get(()))
    return out


def _table(metadata: MetaData, spec: TableSpec, parent: Table | None, top: Table | None) -> Table:
    name = naming.safe_sql_name(spec.name)
    cols: list = [Column("id", IdType, primary_key=True, autoincrement=True),
                  Column("tenant_id", BigInteger, nullable=False)]
    if parent is None:
        cols += [Column("serial_no", String(64)), Column("title", String(500)),
                 Column("created_by", BigInteger), Column("created_at", DateTime(timezone=True), nullable=False),
                 Column("updated_by", BigInteger), Column("updated_at", DateTime(timezone=True), nullable=False),
                 Column("version", Integer, nullable=False), Column("status", String(40), nullable=False),
                 Column("flow_state", String(255)), Column("def_version", Integer, nullable=False)]
        indexed = list(SYSTEM_INDEXED)
    else:
        cols += [Column("record_id", BigInteger, ForeignKey(top.c.id, ondelete="CASCADE",
                                                            name=naming.fk_name(name, "record_id")), nullable=False),
                 Column("parent_id", BigInteger, ForeignKey(parent.c.id, ondelete="CASCADE",
                                                            name=naming.fk_name(name, "parent_id")), nullable=False),
                 Column("row_order", Integer, nullable=False)]
        indexed = ["tenant_id", "record_id", "parent_id"]
    cols += [Column(naming.safe_sql_name(c.name), sa_type(c)) for c in spec.columns]
    indexed += [c.name for c in spec.columns if c.indexed]
    dated = [b for src in buckets.source_columns(spec.columns, parent is None) for b in buckets.bucket_specs(src)]
    cols += [Column(naming.safe_sql_name(b.name), sa_type(b)) for b in dated]
    # a record table never hands out a deleted record's id again (SQLite's AUTOINCREMENT; PostgreSQL
    # sequences already behave so): one id's timeline never mixes two records
    table = Table(name, metadata, *cols, PrimaryKeyConstraint("id", name=naming.pk_name(name)),
                  sqlite_autoincrement=parent is None)
    for col in indexed:
        for index, columns in indexes_for(name, parent is None, col):
            Index(index, *(table.c[c] for c in columns))
    for b in dated:
        if b.indexed:
            index, columns = bucket_index(name, b.name)
            Index(index, *(table.c[c] for c in columns))
    return table


OWNER_SCOPED = ("created_at", "updated_at")    # system columns lists sort and filter by


def indexes_for(table: str, top: bool, column: str) -> list[tuple[str, list[str]]]:
    """(index name, columns) of the indexes that serve ``column``.

    On a form's own table every index leads with tenant_id: each query carries
    ``tenant_id = ?``, so a filter or a sort key is then one index range, counted without
    touching the table. Filterable fields and dates also get ``(tenant_id, created_by, column)``:
    the "own records" read scope is part of every query of a restricted user, and without it a
    filter plus that scope would visit table rows for every match — restricted users would wait
    many times longer than admins. (A record table belongs to one tenant; the column is defence
    in depth.)
    """
    if not top:
        return [(naming.index_name(table, column), [column])]
    if column == "tenant_id":
        return [(naming.index_name(table, column), [column])]
    out = [(naming.index_name(table, column), ["tenant_id", column])]
    if column not in SYSTEM_INDEXED or column in OWNER_SCOPED:
        out.append((naming.index_name(table, f"{column}__own"), ["tenant_id", "created_by", column]))
    return out


def bucket_index(table: str, column: str) -> tuple[str, list[str]]:
    """(index name, columns) of a bucket column's index: tenant first, like every record-table index."""
    return naming.index_name(table, column), ["tenant_id", column]


# ---------------------------------------------------------------------------- applying

def apply_migration(conn: Connection, plan: MigrationPlan) -> None:
    """Run the plan's DDL on ``conn`` (inside the caller's transaction)."""
    tables = sa_tables(plan.spec)
    by_name = {t.name: t for t in tables.values()}
    for spec in plan.create_tables:   # parents come before their children
        for t in spec.walk():
            by_name[t.name].create(conn)
    ops = Operations(MigrationContext.configure(conn))
    top = plan.spec.name
    for table, col in plan.add_columns:
        ops.add_column(table, Column(naming.safe_sql_name(col.name), sa_type(col)))
        if col.indexed:
            for index, columns in indexes_for(table, table == top, col.name):
                ops.create_index(index, table, columns)
    if conn.dialect.name != "sqlite":   # SQLite's type affinity already accepts the wider values
        for table, old, new in plan.widen_columns:
            ops.alter_column(table, new.name, type_=sa_type(new), existing_type=sa_type(old))
    for table, col in plan.add_indexes:
        for index, columns in indexes_for(table, table == top, col):
            ops.create_index(index, table, columns)
    for table, b in plan.add_buckets:
        ops.add_column(table, Column(naming.safe_sql_name(b.name), sa_type(b)))
        if b.indexed:
            index, columns = bucket_index(table, b.name)
            ops.create_index(index, table, columns)


def ensure_index(conn: Connection, table_name: str, columns: tuple[str, ...]) -> bool:
    """Index ``columns`` (in this order) of a record table unless an index already leads with them.

    For the report publisher: what a dashboard groups or filters by. Idempotent; True when an
    index was created. Names are checked like every generated name and must be columns of the
    table; anything else is a DefinitionError naming it, before any DDL runs.
    """
    columns = tuple(columns)
    _check_index_request(conn, table_name, columns)
    indexes = inspect(conn).get_indexes(table_name)
    if any(tuple(i["column_names"][:len(columns)]) == columns for i in indexes):
        return False
    name = naming.index_name(table_name, "__".join(columns))
    if any(i["name"] == name for i in indexes):     # same joined text, other columns ("a__m" vs "a", "m")
        digest = hashlib.sha256("\0".join(columns).encode("utf-8")).hexdigest()[:naming.HASH_LENGTH]
        name = naming.index_name(table_name, "__".join(columns) + "__" + digest)
    Operations(MigrationContext.configure(conn)).create_index(name, table_name, list(columns))
    if conn.dialect.name == "sqlite":
        # SQLite plans from sqlite_stat1: an index without statistics looks like a poor choice (or a
        # falsely good one) to its planner until the next ANALYZE; PostgreSQL plans from table stats
        conn.exec_driver_sql(f'ANALYZE "{naming.safe_sql_name(name)}"')
    return True


def _check_index_request(conn: Connection, table_name: str, columns: tuple[str, ...]) -> None:
    def bad(path: str, zh: str, en: str, **kw) -> DefinitionError:
        return DefinitionError([Problem(path, msg(zh, en, **kw))])
    if not isinstance(table_name, str) or not naming.SQL_NAME_RE.match(table_name) \
            or table_name not in inspect(conn).get_table_names():
        raise bad("$.table", "数据表“{t}”不存在", "Table '{t}' does not exist", t=str(table_name)[:70])
    if not columns or len(set(columns)) != len(columns):
        raise bad("$.columns", "索引需要一个或多个互不相同的列", "An index needs one or more distinct columns")
    have = {c["name"] for c in inspect(conn).get_columns(table_name)}
    for i, col in enumerate(columns):
        if not isinstance(col, str) or not naming.SQL_NAME_RE.match(col) or col not in have:
            raise bad(f"$.columns[{i}]", "数据表“{t}”没有列“{c}”", "Table '{t}' has no column '{c}'",
                      t=table_name, c=str(col)[:70])


def publish_tables(conn: Connection, form: FormDef, tenant_id: int, stored: TableSpec | None) -> MigrationPlan:
    """Create or migrate the record tables of ``form`` for a new published version."""
    desired = form_spec(form, tenant_id)
    plan = plan_migration(form, current_spec(conn, desired, stored), desired)
    plan_buckets(conn, plan)
    apply_migration(conn, plan)
    if plan.refill:
        buckets.refill_buckets(conn, plan.spec, buckets.zone_of(conn, tenant_id), only=set(plan.refill))
    return plan
