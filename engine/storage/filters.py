"""Record filters: an expression of the language (``?filter=``) → a SQLAlchemy WHERE clause.

The expression is type-checked against the form first (same messages as everywhere), then
translated for the subset that SQL can answer on the record table itself:

* names of scalar fields and system columns (``status``, ``created_at``, ``serial_no`` …);
* literals; ``TODAY()``, ``NOW()``, ``DATE(y, m, d)`` become constants at query time;
* ``= != < <= > >=``, ``AND OR NOT`` (operators or functions), ``+ - * /``, unary ``-`` and ``%``,
  ``&`` (text join), ``ISBLANK(x)``, ``CONTAINS(text, part)`` (ignoring case, as in formulas),
  ``UPPER``, ``LOWER``, ``ABS``.

Blank follows the language's comparison rule: a blank takes the other side's zero ("" / 0 /
FALSE; also in arithmetic), text compares case-insensitively, a blank date sorts before every
date; ``ISBLANK(x)`` is true for NULL (and "" for text). Anything else (sub-table columns, other functions) is an
ExpressionError "cannot be used in a filter" at its position. Names become columns of the
table, never SQL text, and every literal is a bound parameter.
"""
from __future__ import annotations

from datetime import date, datetime, time, timezone, tzinfo
from typing import Any, Mapping

from sqlalchemy import (JSON, Boolean, Column, Date, DateTime, Float, Integer, Numeric, String, Table, and_, cast, false,
                        func, literal, not_, or_, true)
from sqlalchemy.sql.elements import BindParameter, ColumnElement, False_, True_

from engine.errors import ExpressionError
from engine.expressions import ast, check, parse
from engine.expressions.types import DATETIME, NUMBER, TEXT, ExprType, Kind, Scope, id_of
from engine.i18n import msg

SYSTEM_TYPES: dict[str, ExprType] = {
    "id": id_of("record"), "serial_no": TEXT, "title": TEXT, "status": TEXT, "flow_state": TEXT,
    "created_by": id_of("user"), "created_at": DATETIME, "updated_by": id_of("user"),
    "updated_at": DATETIME, "version": NUMBER, "def_version": NUMBER,
}
_ZERO = {"num": 0, "text": "", "bool": False}
_COMPARE = {"=": "__eq__", "!=": "__ne__", "<": "__lt__", "<=": "__le__", ">": "__gt__", ">=": "__ge__"}
_ARITH = {"+": "__add__", "-": "__sub__", "*": "__mul__"}


def filter_scope(form_scope: Scope) -> Scope:
    """The form's scope plus the system columns it lacks (field keys never clash with them)."""
    return Scope.of({k: t for k, t in SYSTEM_TYPES.items() if form_scope.lookup(k) is None}, parent=form_scope)


_NOT_CONSTANT = object()


def not_in_filter(node: ast.Node, what: str) -> ExpressionError:
    return ExpressionError(msg("“{w}”不能用于筛选条件", "'{w}' cannot be used in a filter", w=what),
                           node.line, node.column)


class FilterCompiler:
    """Translates one checked AST into a WHERE clause on ``table``."""

    def __init__(self, table: Table, dialect: str, now: datetime, tz: tzinfo | None = None,
                 choices: Mapping[str, tuple[str, ...]] | None = None):
        self.table = table
        self.choices = choices or {}
        self.dialect = dialect
        self.now = now.astimezone(timezone.utc)
        self.tz = tz
        self.today = now.astimezone(tz).date() if tz else now.date()
        self.non_blank: set[str] = set()     # columns an enclosing AND already requires to be non-blank

    def conjunction(self, parts) -> ColumnElement:
        """``AND`` of ``parts``; a ``NOT ISBLANK(field)`` among them lets the date comparisons
        beside it drop their blank cases, so ``x >= a AND x <= b`` is a plain index range."""
        known = {k for p in parts if (k := _required_key(p)) is not None} - self.non_blank
        self.non_blank |= known
        try:
            return and_(*[self.condition(p) for p in parts])
        finally:
            self.non_blank -= known

    def condition(self, node: ast.Node) -> ColumnElement:
        value, kind = self.expr(node)
        if kind == "blank":
            return false()
        return value if kind == "bool" else value.is_(True)

    def expr(self, node: ast.Node) -> tuple[Any, str]:
        """(SQL expression, kind) — kind: num text bool date datetime blank json literal other."""
        if isinstance(node, ast.Literal):
            return self.constant(node.value)
        if isinstance(node, ast.Name):
            return self.column(node)
        if isinstance(node, ast.Unary):
            return self.unary(node)
        if isinstance(node, ast.Binary):
            return self.binary(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        what = ".".join(node.parts) if isinstance(node, ast.Path) else type(node).__name__
        raise not_in_filter(node, what)

    def constant(self, value: Any) -> tuple[Any, str]:
        if value is None or value == "":
            return None, "blank"
        if isinstance(value, bool):
            return literal(value), "bool"
        if isinstance(value, (int, float)):
            return literal(value), "num"
        if isinstance(value, datetime):
            return literal(value.astimezone(timezone.utc)), "datetime"
        if isinstance(value, date):
            return literal(value), "date"
        return literal(str(value)), "text"

    def column(self, node: ast.Name) -> tuple[Any, str]:
        col = self.table.c.get(node.key)
        if col is None or node.key in ("tenant_id",):
            raise not_in_filter(node, node.key)
        return col, kind_of(col)

    def unary(self, node: ast.Unary) -> tuple[Any, str]:
        if node.op == "NOT":
            return not_(self.condition(node.operand)), "bool"
        value, kind = self.number(node.operand)
        if node.op == "-":
            return -value, "num"
        if node.op == "%":
            return value / 100.0, "num"
        return value, "num"

    def number(self, node: ast.Node) -> tuple[Any, str]:
        value, kind = self.expr(node)
        if kind == "blank":
            return literal(0), "num"
        if kind != "num":
            raise not_in_filter(node, _describe(node))
        return _zeroed(value, "num"), kind

    def binary(self, node: ast.Binary) -> tuple[Any, str]:
        op = node.op
        if op == "AND":
            return self.conjunction(_conjuncts(node)), "bool"
        if op == "OR":
            return or_(self.condition(node.left), self.condition(node.right)), "bool"
        if op in _COMPARE:
            return self.compare(node), "bool"
        if op == "&":
            return func.coalesce(self.text(node.left), "") + func.coalesce(self.text(node.right), ""), "text"
        left, right = self.number(node.left)[0], self.number(node.right)[0]
        if op in _ARITH:
            return getattr(left, _ARITH[op])(right), "num"
        if op == "/":
            return cast(left, Float) / func.nullif(right, 0), "num"   # x/0 is blank, never an SQL error
        raise not_in_filter(node, op)

    def text(self, node: ast.Node) -> Any:
        value, kind = self.expr(node)
        if kind == "blank":
            return literal("")
        if kind not in ("text", "num"):
            raise not_in_filter(node, _describe(node))
        return value

    def compare(self, node: ast.Binary) -> ColumnElement:
        """Excel rules: blank takes the other side's zero ("" / 0 / FALSE), text compares
        case-insensitively, a blank date sorts before every date."""
        coded = self.choice_compare(node)
        if coded is not None:
            return coded
        (left, lk), (right, rk) = self.expr(node.left), self.expr(node.right)
        op = _COMPARE[node.op]
        if "json" in (lk, rk):
            raise not_in_filter(node, _describe(node.left if lk == "json" else node.right))
        if lk == rk == "blank":
            return true() if node.op in ("=", "<=", ">=") else false()
        kind = rk if lk == "blank" else lk
        if kind in _ZERO:
            left, right = (_zeroed(side, kind) for side in (left, right))
            if kind == "text":
                left, right = func.lower(left), func.lower(right)
            return getattr(left, op)(right)
        left, right = _align(left, lk, right, rk)
        return self.dates_compare(node.op, left, right, self.non_blank)

    def choice_compare(self, node: ast.Binary) -> ColumnElement | None:
        """``choice = "text"`` as ``col IN (matching codes)``: the same case-insensitive answer
        as the general rule, but on the bare column, so its index serves the query."""
        if node.op not in ("=", "!="):
            return None
        for name, other in ((node.left, node.right), (node.right, node.left)):
            if isinstance(name, ast.Name) and name.key in self.choices and isinstance(other, ast.Literal) \
                    and isinstance(other.value, str) and other.value != "" and name.key in self.table.c:
                col = self.table.c[name.key]
                codes = [c for c in self.choices[name.key] if c.lower() == other.value.lower()]
                matches = col.in_(codes) if codes else false()
                return matches if node.op == "=" else or_(col.is_(None), not_(matches))
        return None

    @staticmethod
    def dates_compare(op: str, left: Any, right: Any, non_blank: set[str] = frozenset()) -> ColumnElement:
        """``left op right`` where a blank (NULL) date counts as earlier than any date.

        Sides known not to be blank (literals, columns in ``non_blank``) add no blank cases.
        """
        holds = {"=": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
                 "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}[op]
        if left is None and right is None:
            return true() if holds(0, 0) else false()
        null_l, null_r = _nullness(left, non_blank), _nullness(right, non_blank)
        terms = []
        if left is not None and right is not None:
            terms.append(getattr(left, _COMPARE[op])(right))
        # the blank cases: (left blank?, right blank?) with the values a blank date compares as
        for blanks, (a, b) in (((True, True), (0, 0)), ((True, False), (0, 1)), ((False, True), (1, 0))):
            if not holds(a, b):
                continue
            parts, possible = [], True
            for blank, nullness in zip(blanks, (null_l, null_r)):
                if isinstance(nullness, (True_, False_)):     # known: no SQL needed, maybe impossible
                    possible = possible and (blank == isinstance(nullness, True_))
                else:
                    parts.append(nullness if blank else not_(nullness))
            if possible:
                terms.append(and_(*parts) if parts else true())
        return or_(*terms) if terms else false()

    def is_blank(self, value: Any, kind: str) -> ColumnElement:
        if kind == "text":
            return or_(value.is_(None), value == "")
        return value.is_(None)

    def call(self, node: ast.Call) -> tuple[Any, str]:
        name, args = node.name, node.args
        if name == "AND" and args:
            return self.conjunction([c for a in args for c in _conjuncts(a)]), "bool"
        if name == "OR" and args:
            return or_(*[self.condition(a) for a in args]), "bool"
        if name == "NOT" and len(args) == 1:
            return not_(self.condition(args[0])), "bool"
        if name == "ISBLANK" and len(args) == 1:
            value, kind = self.expr(args[0])
            return (true(), "bool") if kind == "blank" else (self.is_blank(value, kind), "bool")
        if name == "CONTAINS" and len(args) == 2:
            return self.contains(self.text(args[0]), self.text(args[1])), "bool"
        if name in ("UPPER", "LOWER") and len(args) == 1:
            return getattr(func, name.lower())(self.text(args[0])), "text"
        if name == "ABS" and len(args) == 1:
            return func.abs(self.number(args[0])[0]), "num"
        if name == "TODAY" and not args:
            return literal(self.today), "date"
        if name == "NOW" and not args:
            return literal(self.now), "datetime"
        if name == "DATE" and len(args) == 3 and all(isinstance(a, ast.Literal) for a in args):
            return self.date_literal(node)
        folded = self.fold(node)
        if folded is not _NOT_CONSTANT:
            return self.constant(folded)
        raise not_in_filter(node, name + "()")

    def fold(self, node: ast.Node) -> Any:
        """The value of a call whose arguments are all constants (``DATEADD(TODAY(), -1, "m")``,
        ``DATE(YEAR(TODAY()), MONTH(TODAY()), 1)``), computed once at query time; else _NOT_CONSTANT."""
        from engine.errors import EvaluationError
        from engine.expressions import EvalContext
        from engine.expressions.functions import FUNCTIONS
        if isinstance(node, ast.Literal):
            return node.value
        if isinstance(node, ast.Unary) and node.op == "-":
            value = self.fold(node.operand)
            return -value if isinstance(value, (int, float)) and not isinstance(value, bool) else _NOT_CONSTANT
        if not isinstance(node, ast.Call) or node.name not in FUNCTIONS:
            return _NOT_CONSTANT
        args = [self.fold(a) for a in node.args]
        if any(a is _NOT_CONSTANT for a in args):
            return _NOT_CONSTANT
        spec = FUNCTIONS.get(node.name)
        try:
            if spec.context:
                return spec.impl(EvalContext(now=self.now, tz=self.tz), *args)
            return spec.impl(*args)
        except (EvaluationError, TypeError, ValueError, ArithmeticError) as exc:
            message = getattr(exc, "message", None) or msg("{f}() 无法计算", "{f}() cannot be computed", f=node.name)
            raise ExpressionError(message, node.line, node.column) from None

    def contains(self, text: Any, part: Any) -> ColumnElement:
        finder = func.strpos if self.dialect == "postgresql" else func.instr
        return func.coalesce(finder(func.lower(text), func.lower(part)), 0) > 0

    def date_literal(self, node: ast.Call) -> tuple[Any, str]:
        try:
            return literal(date(*(int(a.value) for a in node.args))), "date"
        except (TypeError, ValueError):
            raise ExpressionError(msg("DATE() 的年月日不是有效日期", "DATE() has no valid year, month and day"),
                                  node.line, node.column) from None


def _zeroed(side: Any, kind: str) -> Any:
    """A blank operand as the kind's zero; a column wrapped in COALESCE(col, zero)."""
    if side is None:
        return literal(_ZERO[kind])
    if isinstance(side, BindParameter):
        return side
    return func.coalesce(side, _ZERO[kind])


def kind_of(col) -> str:
    """The filter kind of a column (num text bool date datetime json other)."""
    t = col.type
    for cls, kind in ((Boolean, "bool"), (Integer, "num"), (Numeric, "num"), (DateTime, "datetime"),
                      (Date, "date"), (JSON, "json"), (String, "text")):
        if isinstance(t, cls):
            return kind
    return "other"


def _align(left, lk, right, rk):
    """Give bound literals the column's type, and compare a DATETIME column with a date at 00:00 UTC."""
    if lk == "datetime" and rk == "date" and isinstance(right, BindParameter):
        right = literal(datetime.combine(right.value, time(), timezone.utc))
    if rk == "datetime" and lk == "date" and isinstance(left, BindParameter):
        left = literal(datetime.combine(left.value, time(), timezone.utc))
    return left, right


def _describe(node: ast.Node) -> str:
    if isinstance(node, ast.Name):
        return node.key
    if isinstance(node, ast.Path):
        return ".".join(node.parts)
    if isinstance(node, ast.Call):
        return node.name + "()"
    return getattr(node, "op", type(node).__name__)


def compile_filter(source: str, table: Table, scope: Scope, dialect: str, now: datetime,
                   tz: tzinfo | None = None, choices: Mapping[str, tuple[str, ...]] | None = None) -> ColumnElement:
    """A WHERE clause for ``source``; ExpressionError (with position) when it cannot be one.

    ``choices``: option codes of the form's single-choice fields by key (select, radio), so an
    equality on them can use the column's index.
    """
    tree = parse(source)
    result = check(source, filter_scope(scope))
    if result.errors:
        raise result.errors[0]
    if result.type is not None and result.type.kind not in (Kind.BOOLEAN, Kind.ANY, Kind.BLANK):
        raise ExpressionError(msg("筛选条件的结果应为真/假，而不是 {t}", "A filter must be true or false, not {t}",
                                  t=str(result.type)), tree.line, tree.column)
    return FilterCompiler(table, dialect, now, tz, choices).condition(tree)



def _nullness(side: Any, non_blank: set[str]) -> ColumnElement:
    """``side IS NULL`` — known false for a literal and for a column required non-blank, so
    ``date >= DATE(…)`` stays a plain, index-friendly range instead of carrying ``OR … IS NULL``."""
    if side is None:
        return true()
    if isinstance(side, BindParameter) and side.value is not None and side.callable is None:
        return false()
    if isinstance(side, Column) and side.key in non_blank:
        return false()
    return side.is_(None)


def _conjuncts(node: ast.Node) -> list[ast.Node]:
    """The operands of a chain of ``&&``/``AND`` operators (flattened)."""
    if isinstance(node, ast.Binary) and node.op == "AND":
        return _conjuncts(node.left) + _conjuncts(node.right)
    return [node]


def _required_key(node: ast.Node) -> str | None:
    """``field`` when ``node`` is ``NOT ISBLANK(field)`` (function or operator form)."""
    inner = node.args[0] if isinstance(node, ast.Call) and node.name == "NOT" and len(node.args) == 1 else \
        node.operand if isinstance(node, ast.Unary) and node.op == "NOT" else None
    if isinstance(inner, ast.Call) and inner.name == "ISBLANK" and len(inner.args) == 1 \
            and isinstance(inner.args[0], ast.Name):
        return inner.args[0].key
    return None


SORTABLE_SYSTEM = ("id", "serial_no", "title", "status", "created_at", "updated_at", "version")


def order_clause(table: Table, sort: str | None, field_keys, dialect: str = "") -> list:
    """ORDER BY for ``"field"`` / ``"-field"`` (a scalar field or a system column); ValueError otherwise.

    Blanks come last on every database. ``NULLS LAST`` is written only where it is not already
    the database's order (SQLite: ascending; PostgreSQL: descending): an explicit one that
    changes nothing still keeps SQLite from reading the rows in index order.
    """
    if not sort:
        return [table.c.id.desc()]
    key = sort[1:] if sort.startswith(("-", "+")) else sort
    if (key not in field_keys and key not in SORTABLE_SYSTEM) or key not in table.c \
            or kind_of(table.c[key]) == "json":
        raise ValueError(key)
    col = table.c[key]
    descending = sort.startswith("-")
    order = col.desc() if descending else col.asc()
    nulls_already_last = (dialect == "sqlite" and descending) or (dialect == "postgresql" and not descending)
    return [order if nulls_already_last else order.nulls_last()]
