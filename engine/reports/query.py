"""A dataset compiled to one SQL query (SQLAlchemy Core) on the form's real tables.

The query reads the grain table (the form's own table, or the sub-table a path goes through)
joined to its ancestors and, for reference paths, LEFT JOINed to the referenced form's table
(with the viewer's read scope of that form in the join, so an unreadable record shows blank).
Every table carries ``tenant_id = :tenant``; the viewer's read scope on the form is part of the
WHERE clause. Dates group by the bucket columns stored with each record
(:mod:`engine.storage.buckets`), so a monthly trend is an index range, not a date function per
row. A Cpk measure adds a CTE of subgroup ranges (or moving ranges) joined back by the groups.

Names never become SQL text: paths resolve to columns of the generated Table objects, and
every literal is a bound parameter.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any, Callable, Mapping

from sqlalchemy import Float, Integer, Table, and_, case, cast, func, literal, select, true, type_coerce
from sqlalchemy.sql.elements import ColumnElement

from engine.definitions.model import FormDef
from engine.expressions import ast
from engine.fields.base import StorageKind
from engine.i18n import Msg, msg
from engine.quality import constants
from engine.reports import conditions
from engine.reports.conditions import ReportInputError
from engine.reports.measures import AGGREGATIONS
from engine.reports.model import MAX_ROWS, Condition, Dataset, Dimension, Measure
from engine.reports.paths import FieldRef, grain_of, resolve, subtables
from engine.storage import buckets

__all__ = ["Column", "Compiled", "DatasetQuery", "ReportInputError", "expression_paths"]

ScopeFor = Callable[[str, Table], "ColumnElement | None"]     # (form key, table) → read-scope clause (None: all)


@dataclass
class Column:
    """One output column: a dimension or a measure (``parts``: how many SQL columns it reads)."""

    key: str
    kind: str                       # "dimension" | "measure"
    label: Msg
    ref: FieldRef | None = None
    dimension: Dimension | None = None
    measure: Measure | None = None
    parts: int = 1


@dataclass
class Compiled:
    stmt: Any
    columns: list[Column]
    grain: tuple[str, ...]
    sort_in_python: bool = False
    limit: int = MAX_ROWS
    refs: dict[str, FieldRef] = field(default_factory=dict)
    sort: tuple = ()


def expression_paths(source: str | None, form: FormDef) -> list[tuple[str, ...]]:
    """Sub-table chains an expression's paths go through (to find the dataset's grain)."""
    tables = subtables(form)
    return [chain for node in conditions.names_in(source) or () if isinstance(node, ast.Path)
            and (chain := tuple(node.parts[:-1])) in tables]


def _expression_depths(source: str | None) -> list[int]:
    """Depth of each table an expression reads: 0 for a name of the record, the chain's length
    for a path through sub-tables (an expression that does not parse counts as the record's)."""
    nodes = conditions.names_in(source)
    if nodes is None:
        return [0]
    return [0 if isinstance(node, ast.Name) else len(node.parts) - 1 for node in nodes]


class DatasetQuery:
    """Compiles one dataset for one viewer; ``form`` is the form as the viewer may see it."""

    def __init__(self, dataset: Dataset, form: FormDef, forms: Mapping[str, FormDef],
                 tables: Mapping[tuple[str, ...], Table], target_tables: Mapping[str, Table], *,
                 tenant_id: int, dialect: str, now: datetime, zone: tzinfo, scope_for: ScopeFor):
        self.ds, self.form, self.forms = dataset, form, forms
        self.tables, self.target_tables = tables, target_tables
        self.tenant_id, self.dialect, self.now, self.zone = tenant_id, dialect, now, zone
        self.scope_for = scope_for
        self.refs: dict[str, FieldRef] = {}
        self.aliases: dict[str, Any] = {}
        self.cte_joins: list[tuple[Any, list]] = []
        self._dims: list[ColumnElement] = []
        self.expression_at = "$.dataset.filter"         # where an expression being compiled comes from (for messages)

    # ------------------------------------------------------------------ paths → columns
    def ref(self, path: str, where: str = "$") -> FieldRef:
        if path not in self.refs:
            try:
                self.refs[path] = resolve(path, self.form, self.forms)
            except ValueError as exc:
                raise ReportInputError(getattr(exc, "message", Msg(str(exc), str(exc))), where) from None
        return self.refs[path]

    def table_of(self, ref: FieldRef):
        if ref.via is None:
            return self.tables[ref.table]
        return self.aliases[ref.via]

    def column(self, path: str) -> ColumnElement:
        ref = self.ref(path)
        return self.table_of(ref).c[ref.column]

    def number(self, path_or_value) -> ColumnElement:
        if not isinstance(path_or_value, str):
            return literal(path_or_value, Float)
        ref = self.ref(path_or_value)
        col = self.table_of(ref).c[ref.column]
        # a decimal column is aggregated as it is stored (SQLite: REAL; PostgreSQL: numeric, whose
        # sums are exact); only the Python result type says float (a cast per row costs more)
        return type_coerce(col, Float) if ref.kind is StorageKind.DECIMAL else col

    def bucket(self, ref: FieldRef, grain: str) -> ColumnElement:
        table = self.table_of(ref)
        name = buckets.bucket_column(ref.column, ref.kind, grain)
        if name in table.c:
            return table.c[name]
        return buckets.sql_bucket(table.c[ref.column], ref.kind, grain, self.dialect, str(self.zone))

    # ------------------------------------------------------------------ building
    def prepare(self) -> tuple[Any, ColumnElement]:
        """Resolve every path, find the grain, build FROM (with joins) and WHERE: (source, where)."""
        ds = self.ds
        for i, d in enumerate(ds.dimensions):
            self.ref(d.field, f"$.dataset.dimensions[{i}].field")
        for i, m in enumerate(ds.measures):
            for name in ("field", "per", "lsl", "usl"):
                value = getattr(m, name)
                if isinstance(value, str):
                    self.ref(value, f"$.dataset.measures[{i}].{name}")
        for i, c in enumerate(ds.filters):
            self.ref(c.field, f"$.dataset.filters[{i}].field")
        chains = [r.table for r in self.refs.values()]
        chains += expression_paths(ds.filter, self.form)
        chains += [p for m in ds.measures for p in expression_paths(m.where, self.form)]
        grain = grain_of(chains)
        if grain is None:
            raise ReportInputError(msg("一个报表的数据只能来自一条子表路径（如同时用了两个不同子表的列）",
                                       "A report's rows come from one sub-table chain; these paths use two different sub-tables"),
                                   "$.dataset")
        self.grain = grain
        self._top_scope = self.scope_for(self.form.key, self.tables[()])
        self.start = self._start_depth(grain)
        self._source = self._from(grain)
        self._where_clause = self._where(grain)
        return self._source, self._where_clause

    def _start_depth(self, grain: tuple[str, ...]) -> int:
        """The shallowest table the query must read. A sub-table's rows carry tenant_id, so when
        nothing above the grain is used (no field of the record, no read scope to apply) the
        grain table is read alone instead of being joined to every ancestor row."""
        if not grain:
            return 0
        depths = [len(grain)]
        for ref in self.refs.values():
            depths.append(0 if ref.via is not None else len(ref.table))
        if self._top_scope is not None:
            depths.append(0)
        for source in [self.ds.filter] + [m.where for m in self.ds.measures]:
            depths += _expression_depths(source)
        return min(depths)

    def record_ids(self):
        """SELECT DISTINCT of the ids of the records behind the dataset's rows (for drill-down)."""
        source, where = self.prepare()
        base = self.tables[self.grain[:self.start]]
        column = base.c.id if self.start == 0 else base.c.record_id
        return select(column.label("id")).select_from(source).where(where).distinct()

    def compile(self) -> Compiled:
        ds = self.ds
        source, where = self.prepare()
        split = self._subgroup_split()
        if split is not None:
            return self._compile_two_level(*split)
        dims = [self._dimension(d) for d in ds.dimensions]
        self._dims = dims
        columns, selected = self._dimension_columns(dims)
        sortable: dict[str, Any] = {}
        for i, m in enumerate(ds.measures):
            self.expression_at = f"$.dataset.measures[{i}].where"
            self._check_grain(m, i)
            parts = AGGREGATIONS.get(m.agg).parts(m, self)
            columns.append(self._measure_column(m, len(parts)))
            selected += [p.label(f"m{i}_{j}") for j, p in enumerate(parts)]
            sortable[m.key] = _sort_expr(m, parts)
        for cte, on in self.cte_joins:
            source = source.outerjoin(cte, and_(*on) if on else true())
        return self._finish(select(*selected).select_from(source).where(where), dims, columns, sortable)

    def _dimension_columns(self, exprs) -> tuple[list[Column], list]:
        columns, selected = [], []
        for i, (d, expr) in enumerate(zip(self.ds.dimensions, exprs)):
            ref = self.refs[d.field]
            columns.append(Column(d.key, "dimension", d.label or _dim_label(ref, d), ref, dimension=d))
            selected.append(expr.label(f"d{i}"))
        return columns, selected

    def _measure_column(self, m: Measure, parts: int) -> Column:
        return Column(m.key, "measure", m.label or _measure_label(m, self.refs), measure=m, parts=parts,
                      ref=self.refs.get(m.field) if m.field else None)

    def _finish(self, stmt, dims, columns, sortable) -> Compiled:
        if dims:
            stmt = stmt.group_by(*dims)
        order, in_python = self._order(dims, sortable)
        if order:
            stmt = stmt.order_by(*order)
        limit = min(self.ds.limit or MAX_ROWS, MAX_ROWS)
        if not in_python:
            stmt = stmt.limit(limit + 1)          # one more: tells whether the result was cut
        return Compiled(stmt, columns, self.grain, in_python, limit, dict(self.refs), self.ds.sort)

    # ------------------------------------------------------------------ two-level plan (Cpk by subgroup)
    def _subgroup_split(self):
        """(inner filters, outer filters, inner expression filter?) when the dataset can be
        aggregated per subgroup first — a Cpk of a sub-table column reads each measurement once:
        the sub-table is grouped by its record (its index order), then the records are joined by
        primary key and the subgroups rolled up per group. None when that plan does not apply."""
        ds, grain = self.ds, self.grain
        if len(grain) != 1 or not any(m.agg == "cpk" and self.refs[m.field].table == grain for m in ds.measures):
            return None
        for m in ds.measures:
            agg = AGGREGATIONS.get(m.agg)
            if agg.rollup is None:
                return None
            for name in ("field", "per", "lsl", "usl"):
                path = getattr(m, name)
                if isinstance(path, str) and (self.refs[path].table != grain or self.refs[path].via):
                    return None
            if m.where and set(_expression_depths(m.where)) - {1}:
                return None
        inner = [c for c in ds.filters if self.refs[c.field].table == grain and not self.refs[c.field].via]
        outer = [c for c in ds.filters if c not in inner]
        depths = set(_expression_depths(ds.filter))
        if depths == {0, 1}:
            return None
        return inner, outer, depths == {1}

    def _top_terms(self, outer_filters, filter_inside: bool) -> list:
        """The conditions on the record itself: read scope, its structured filters, its expression filter."""
        ds, terms = self.ds, []
        if self._top_scope is not None:
            terms.append(self._top_scope)
        terms += [self.structured(c, f"$.dataset.filters[{ds.filters.index(c)}]") for c in outer_filters]
        if ds.filter and ds.filter.strip() and not filter_inside:
            terms.append(self.condition(ds.filter, "$.dataset.filter"))
        return terms

    def _compile_two_level(self, inner_filters, outer_filters, filter_inside: bool) -> Compiled:
        ds, grain = self.ds, self.grain
        row, top = self.tables[grain], self.tables[()]
        inner_where = [row.c.tenant_id == self.tenant_id]
        inner_where += [self.structured(c, f"$.dataset.filters[{ds.filters.index(c)}]") for c in inner_filters]
        if ds.filter and ds.filter.strip() and filter_inside:
            inner_where.append(self.condition(ds.filter, "$.dataset.filter"))
        grain_dims = [i for i, d in enumerate(ds.dimensions) if self.refs[d.field].table == grain]
        inner_cols = [row.c.record_id.label("sg")]
        inner_cols += [self._dimension(ds.dimensions[i]).label(f"g{i}") for i in grain_dims]
        layouts = []
        for i, m in enumerate(ds.measures):
            self.expression_at = f"$.dataset.measures[{i}].where"
            parts = AGGREGATIONS.get(m.agg).subgroup_parts(m, self)
            inner_cols += [p.label(f"p{i}_{j}") for j, p in enumerate(parts)]
            layouts.append(len(parts))
        top_terms = self._top_terms(outer_filters, filter_inside)
        if top_terms:      # only the subgroups of the records the filters keep are aggregated
            inner_where.append(row.c.record_id.in_(
                select(top.c.id).where(and_(top.c.tenant_id == self.tenant_id, *top_terms)).correlate(None)))
        sub = (select(*inner_cols).where(and_(*inner_where))
               .group_by(row.c.record_id, *(self._dimension(ds.dimensions[i]) for i in grain_dims))).subquery("sg")
        needs_top = (self._top_scope is not None or bool(outer_filters) or not filter_inside and bool(ds.filter)
                     or len(grain_dims) < len(ds.dimensions))
        source = sub
        terms = []
        if needs_top:
            source = self._join_references(sub.join(top, and_(top.c.id == sub.c.sg,
                                                              top.c.tenant_id == self.tenant_id)))
            terms += top_terms
        dims = [sub.c[f"g{i}"] if i in grain_dims else self._dimension(d) for i, d in enumerate(ds.dimensions)]
        columns, selected = self._dimension_columns(dims)
        sortable: dict[str, Any] = {}
        for i, m in enumerate(ds.measures):
            parts = AGGREGATIONS.get(m.agg).rolled_up(m, [sub.c[f"p{i}_{j}"] for j in range(layouts[i])])
            columns.append(self._measure_column(m, len(parts)))
            selected += [p.label(f"m{i}_{j}") for j, p in enumerate(parts)]
            sortable[m.key] = _sort_expr(m, parts)
        stmt = select(*selected).select_from(source)
        if terms:
            stmt = stmt.where(and_(*terms))
        return self._finish(stmt, dims, columns, sortable)

    def _from(self, grain: tuple[str, ...]):
        top = self.tables[()]
        source = self.tables[grain[:self.start]]
        for depth in range(self.start + 1, len(grain) + 1):
            child, parent = self.tables[grain[:depth]], self.tables[grain[:depth - 1]]
            link = child.c.record_id == top.c.id if depth == 1 else child.c.parent_id == parent.c.id
            source = source.join(child, and_(link, child.c.tenant_id == self.tenant_id))
        return self._join_references(source)

    def _join_references(self, source):
        """LEFT JOIN the record each reference path goes through, within the viewer's read scope
        on that form (a record they may not read shows blank)."""
        top = self.tables[()]
        for ref in self.refs.values():
            if ref.via is None or ref.via in self.aliases:
                continue
            target = self.target_tables[ref.target].alias(f"ref_{ref.via}")
            self.aliases[ref.via] = target
            on = [target.c.id == top.c[ref.via], target.c.tenant_id == self.tenant_id]
            scope = self.scope_for(ref.target, target)
            if scope is not None:
                on.append(scope)
            source = source.outerjoin(target, and_(*on))
        return source

    def _where(self, grain) -> ColumnElement:
        base = self.tables[grain[:self.start]]
        terms = [base.c.tenant_id == self.tenant_id]
        if self._top_scope is not None:
            terms.append(self._top_scope)
        if self.ds.filter and self.ds.filter.strip():
            terms.append(self.condition(self.ds.filter, "$.dataset.filter"))
        for i, c in enumerate(self.ds.filters):
            terms.append(self.structured(c, f"$.dataset.filters[{i}]"))
        return and_(*terms)

    def _dimension(self, d: Dimension) -> ColumnElement:
        ref = self.refs[d.field]
        if d.bucket:
            return self.bucket(ref, d.bucket)
        if d.bin_width:
            value = (self.number(d.field) - literal(d.bin_origin, Float)) / literal(d.bin_width, Float)
            return func.floor(value) if self.dialect == "postgresql" else \
                cast(value, Integer) - case((value < cast(value, Integer), 1), else_=0)
        return self.table_of(ref).c[ref.column]

    def _check_grain(self, m: Measure, index: int) -> None:
        """A sum/average of a field of a parent table at a sub-table grain would count each parent
        row once per child row: refuse it (a formula field on the form gives the right value)."""
        agg = AGGREGATIONS.get(m.agg)
        if not agg.counts_rows:
            return
        for name in ("field", "per"):
            path = getattr(m, name)
            if isinstance(path, str) and self.refs[path].table != self.grain and self.refs[path].via is None:
                raise ReportInputError(msg(
                    "“{p}”在每条“{g}”行上重复，{a} 会重复计算；请在表单上加一个汇总公式字段，或换用子表的列",
                    "'{p}' repeats on every '{g}' row, so {a} would count it more than once; add a formula field "
                    "that totals it on the form, or use a column of the sub-table",
                    p=path, g=".".join(self.grain), a=m.agg), f"$.dataset.measures[{index}].{name}")

    def _order(self, dims, sortable) -> tuple[list, bool]:
        out, in_python = [], False
        for s in self.ds.sort:
            if any(d.key == s.by for d in self.ds.dimensions):
                i = next(i for i, d in enumerate(self.ds.dimensions) if d.key == s.by)
                expr = dims[i]
            else:
                expr = sortable.get(s.by)
                if expr is None:
                    return [], True
            out.append(expr.desc() if s.desc else expr.asc())
        if not out:
            out = [d.asc() for d in dims]
        return out, in_python

    # ------------------------------------------------------------------ filters (engine.reports.conditions)
    def condition(self, source: str, where: str = "$") -> ColumnElement:
        """An expression of the language as a WHERE term on the dataset's rows."""
        return conditions.expression_condition(self, source, where)

    def structured(self, c: Condition, where: str) -> ColumnElement:
        """A structured condition ``{field, op, value}`` as a WHERE term."""
        return conditions.structured_condition(self, c, where)

    # ------------------------------------------------------------------ Cpk's within sigma
    def within_sigma(self, m: Measure) -> ColumnElement:
        """σ within for ``m.field``, per group: a CTE joined back by the dimensions."""
        ref = self.refs[m.field]
        x = self.number(m.field)
        dims = [d.label(f"g{i}") for i, d in enumerate(self._dims)]
        if ref.table and ref.table == self.grain:
            row = self.tables[self.grain]
            subgroup = row.c.record_id if len(self.grain) == 1 else row.c.parent_id
            sub = (select(*dims, func.count(x).label("n"), (func.max(x) - func.min(x)).label("r"))
                   .select_from(self._source).where(self._where_clause)
                   .group_by(*self._dims, subgroup)).subquery()
            d2 = case(*((sub.c.n == n, constants.d2(n)) for n in range(2, 26)), else_=None)
            cap = (select(*(sub.c[f"g{i}"] for i in range(len(dims))), func.avg(sub.c.r / d2).label("sigma"))
                   .where(sub.c.n.between(2, 25)).group_by(*(sub.c[f"g{i}"] for i in range(len(dims)))))
        else:
            top = self.tables[()]
            lag = func.lag(x).over(partition_by=self._dims or None, order_by=(top.c.created_at, top.c.id))
            sub = (select(*dims, x.label("x"), lag.label("prev")).select_from(self._source)
                   .where(self._where_clause)).subquery()
            cap = (select(*(sub.c[f"g{i}"] for i in range(len(dims))),
                          (func.avg(func.abs(sub.c.x - sub.c.prev)) / constants.d2(2)).label("sigma"))
                   .where(sub.c.prev.is_not(None)).group_by(*(sub.c[f"g{i}"] for i in range(len(dims)))))
        cte = cap.cte(f"within_{len(self.cte_joins)}")
        on = [d.is_not_distinct_from(cte.c[f"g{i}"]) for i, d in enumerate(self._dims)]
        self.cte_joins.append((cte, on))
        return func.max(cte.c.sigma)


def _sort_expr(m: Measure, parts: list):
    """A SQL expression ordering groups by the measure (None: sorted in Python after the query)."""
    if m.agg in ("rate", "ppm", "avg"):
        return cast(parts[0], Float) / func.nullif(parts[1], 0)
    if m.agg == "range":
        return parts[0] - parts[1]
    if m.agg in ("cpk", "ppk", "stddev"):
        return None
    return parts[0]


def _dim_label(ref: FieldRef, d: Dimension) -> Msg:
    if d.bucket:
        names = {"day": ("日", "day"), "week": ("周", "week"), "month": ("月", "month"),
                 "quarter": ("季度", "quarter"), "year": ("年", "year")}[d.bucket]
        return Msg(f"{ref.label.zh}（{names[0]}）", f"{ref.label.en} ({names[1]})")
    return ref.label


def _measure_label(m: Measure, refs: Mapping[str, FieldRef]) -> Msg:
    agg = AGGREGATIONS.get(m.agg).label
    ref = refs.get(m.field) if m.field else None
    if ref is None:
        return agg
    return Msg(f"{ref.label.zh}{agg.zh}", f"{agg.en} of {ref.label.en}")
