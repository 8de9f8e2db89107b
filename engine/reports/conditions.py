"""Conditions of a report's dataset as SQL: expressions of the language over the dataset's rows
(the record's fields, and the grain's sub-table row as ``defects.class``) and structured
conditions ``{field, op, value}`` — the shape dashboards' shared filters take.

Every value is checked against the column's type first and becomes a bound parameter; a bad one
is a ReportInputError naming the field and the path of the condition. A day compared with a
date-time covers the whole day in the tenant's time zone.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import and_, false, func, not_, or_, true
from sqlalchemy.sql.elements import ColumnElement

from engine.definitions.model import FormDef
from engine.errors import ExpressionError, QMSError
from engine.expressions import ast, check, parse
from engine.expressions.types import Kind, Scope
from engine.fields.base import StorageKind
from engine.i18n import Msg, msg
from engine.reports.model import Condition
from engine.reports.paths import FieldRef
from engine.storage.filters import FilterCompiler, filter_scope, kind_of, not_in_filter


class ReportInputError(QMSError):
    """A dataset or a filter value that cannot run (bilingual ``message``; ``path`` names where)."""

    code = "invalid_report_input"

    def __init__(self, message: Msg, path: str = "$"):
        super().__init__(message)
        self.path = path


def names_in(source: str | None) -> list | None:
    """The names and paths an expression reads (``ast.Name`` / ``ast.Path`` nodes): [] for no
    expression, None for one that does not parse (its error comes when it is compiled)."""
    if not source:
        return []
    try:
        tree = parse(source)
    except ExpressionError:
        return None
    return [node for node in ast.walk(tree) if isinstance(node, (ast.Name, ast.Path))]


def expression_condition(q, source: str, where: str = "$") -> ColumnElement:
    """An expression of the language as a WHERE term on the dataset's rows."""
    scope = filter_scope(_row_scope(_scope_of(q.form, q.forms), q.grain))
    try:
        tree = parse(source)
        result = check(source, scope)
        if result.errors:
            raise result.errors[0]
        if result.type is not None and result.type.kind not in (Kind.BOOLEAN, Kind.ANY, Kind.BLANK):
            raise ExpressionError(msg("条件的结果应为真/假，而不是 {t}", "A condition must be true or false, not {t}",
                                      t=str(result.type)), tree.line, tree.column)
        return _RowFilter(q).condition(tree)
    except ExpressionError as exc:
        exc.report_path = where if where != "$" else q.expression_at
        raise


def structured_condition(q, c: Condition, where: str) -> ColumnElement:
    """A structured condition ``{field, op, value, bucket?}`` as a WHERE term (ReportInputError naming it)."""
    ref = q.ref(c.field, where + ".field")
    col = q.bucket(ref, c.bucket) if c.bucket else q.table_of(ref).c[ref.column]
    kind = "bucket" if c.bucket else ref.kind
    op = c.op
    if op == "blank":
        return or_(col.is_(None), col == "") if ref.kind is StorageKind.TEXT and not c.bucket else col.is_(None)
    if op == "not_blank":
        return and_(col.is_not(None), col != "") if ref.kind is StorageKind.TEXT and not c.bucket else col.is_not(None)
    if op in ("in", "not_in"):
        values = c.value if isinstance(c.value, (list, tuple)) else [c.value]
        if len(values) > 1000:
            raise ReportInputError(msg("in 最多 1000 个值", "'in' takes at most 1000 values"), where + ".value")
        parsed = [filter_value(q, v, ref, kind, where) for v in values if v not in (None, "")]
        hit = col.in_(parsed) if parsed else false()
        return hit if op == "in" else or_(col.is_(None), not_(hit))
    if op == "between":
        if not isinstance(c.value, (list, tuple)) or len(c.value) != 2:
            raise ReportInputError(msg("between 需要 [起, 止] 两个值", "'between' needs two values [from, to]"),
                                   where + ".value")
        low, high = c.value
        terms = []
        if low not in (None, ""):
            terms.append(_compare(q, col, ">=", low, ref, kind, where))
        if high not in (None, ""):
            terms.append(_compare(q, col, "<=", high, ref, kind, where))
        return and_(*terms) if terms else true()
    if op == "contains":
        finder = func.strpos if q.dialect == "postgresql" else func.instr
        return func.coalesce(finder(func.lower(col), str(c.value or "").lower()), 0) > 0
    return _compare(q, col, op, c.value, ref, kind, where)


def _compare(q, col, op: str, raw, ref: FieldRef, kind, where: str) -> ColumnElement:
    value = filter_value(q, raw, ref, kind, where)
    if kind is StorageKind.DATETIME and isinstance(value, date) and not isinstance(value, datetime):
        # a day against a timestamp: the day's whole span in the tenant's zone
        start = datetime.combine(value, time(), q.zone).astimezone(timezone.utc)
        end = start + timedelta(days=1)
        return {">=": col >= start, ">": col >= end, "<=": col < end, "<": col < start,
                "=": and_(col >= start, col < end), "!=": or_(col < start, col >= end, col.is_(None))}[op]
    if op == "!=":
        return or_(col != value, col.is_(None))
    return {"=": col == value, ">": col > value, ">=": col >= value, "<": col < value, "<=": col <= value}[op]


def filter_value(q, raw, ref: FieldRef, kind, where: str):
    """A filter value in the column's type (ReportInputError naming the field otherwise)."""
    def bad():
        return ReportInputError(msg("“{fz}”的筛选值“{v}”无效", "Invalid filter value '{v}' for '{fe}'",
                                    fz=ref.label.zh, fe=ref.label.en, v=str(raw)[:40]), where + ".value")
    try:
        if kind == "bucket" or kind is StorageKind.INTEGER:
            if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
                raise bad()
            return int(raw)
        if kind is StorageKind.DECIMAL:
            if isinstance(raw, bool):
                raise bad()
            return float(raw)
        if kind is StorageKind.BOOLEAN:
            if isinstance(raw, bool):
                return raw
            if str(raw).lower() in ("true", "1", "yes"):
                return True
            if str(raw).lower() in ("false", "0", "no"):
                return False
            raise bad()
        if kind is StorageKind.DATE:
            return raw if isinstance(raw, date) and not isinstance(raw, datetime) else date.fromisoformat(str(raw)[:10])
        if kind is StorageKind.DATETIME:
            if isinstance(raw, datetime):
                return raw
            text = str(raw)
            if len(text) == 10:
                return date.fromisoformat(text)
            parsed = datetime.fromisoformat(text)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=q.zone)
        if isinstance(raw, (dict, list)):
            raise bad()
        return str(raw)
    except (TypeError, ValueError, OverflowError):
        raise bad() from None


def _scope_of(form: FormDef, forms):
    from engine.definitions.scopes import form_scope
    return form_scope(form, forms)


def _row_scope(scope: Scope, grain: tuple[str, ...]) -> Scope:
    """``scope`` with the sub-tables on the grain chain seen as one row (``defects.code`` is a value)."""
    if not grain:
        return scope
    fields = []
    for key, member in scope.fields:
        if key == grain[0] and isinstance(member, Scope):
            member = Scope(_row_scope(member, grain[1:]).fields, None, member.labels, record=True)
        fields.append((key, member))
    return Scope(tuple(fields), scope.parent, scope.labels)


class _RowFilter(FilterCompiler):
    """FilterCompiler over the dataset's joined rows: names are the record's columns, paths
    (``defects.class``) the grain chain's columns."""

    def __init__(self, q):
        super().__init__(q.tables[()], q.dialect, q.now, q.zone, _choices(q.form))
        self.q = q

    def expr(self, node):
        if isinstance(node, ast.Path):
            chain, key = tuple(node.parts[:-1]), node.parts[-1]
            table = self.q.tables.get(chain)
            if table is None or key not in table.c or chain != self.q.grain[:len(chain)]:
                raise not_in_filter(node, ".".join(node.parts))
            return table.c[key], kind_of(table.c[key])
        return super().expr(node)


def _choices(form: FormDef) -> dict[str, tuple[str, ...]]:
    return {f.key: tuple(str(c.get("code")) for c in f.option("choices") or ())
            for f in form.fields if f.type in ("select", "radio")}

