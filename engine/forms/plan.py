"""The validation plan of a form: everything about a :class:`FormDef` that does not depend on data.

Built once per ``FormDef`` object and cached for that object's lifetime, so a save only does
the data-dependent work: field types are resolved, every expression-valued property is
compiled against its scope (the form's, or the sub-table row's), constant bounds and defaults
are coerced, and the order in which formulas are computed is fixed.

Formula order: every formula of every sub-table level is one *task* ("compute ``mean`` in every
``characteristics`` row"). A task depends on the formulas it names — resolved row-first, then
outward, exactly as the expression runtime resolves names — and naming a sub-table depends on
every formula inside it. Tasks are sorted so dependencies come first; among independent tasks
deeper levels come first (readings → characteristics → lot), then definition order.
"""
from __future__ import annotations

import math
import weakref
from dataclasses import dataclass, field as dc_field
from typing import Any, Mapping, NamedTuple

from engine.definitions import form_scope, row_scope
from engine.definitions.model import Expr, FieldDef, FormDef
from engine.errors import ExpressionError
from engine.expressions import compile_expression
from engine.fields import field_type
from engine.fields.base import FieldType
from engine.i18n import Msg

#: Expression-valued properties a field may carry (each a constant or ``{"expr": ...}``).
PROPS = ("required", "default", "readonly", "visible", "min", "max", "min_length",
         "max_length", "pattern")
#: Properties whose constant is a value of the field itself, so it is coerced like input.
_VALUE_PROPS = ("default", "min", "max")


@dataclass(frozen=True, eq=False)
class ExprProp:
    """An expression property: the compiled expression, or the error that stopped compiling."""

    source: str
    code: Any = None                 # an engine.expressions.Compiled; None when compiling failed
    error: ExpressionError | None = None
    names: frozenset = frozenset()


@dataclass(eq=False)
class FieldPlan:
    """One field with its type and its properties ready to use (constants or :class:`ExprProp`)."""

    key: str
    index: int
    field: FieldDef
    ftype: FieldType
    label: Msg
    dotted: str                      # key through the sub-tables: "items.part"
    kind: str                        # "input", "subtable", "formula", "lookup", "serial"
    props: dict[str, Any]
    validations: tuple[tuple[ExprProp, Msg], ...] = ()
    formula: ExprProp | None = None
    table: "TablePlan | None" = None
    computed: bool = False           # formula, lookup, serial: never taken from input
    has_rules: bool = True           # any rule that could fail (else the checks are skipped)
    quiet: bool = False              # no default and never readonly: nothing to do for defaults

    def settle(self) -> "FieldPlan":
        """Precompute the flags that let the per-save loops skip plain fields quickly."""
        p = self.props
        self.computed = self.kind in ("formula", "lookup", "serial")
        self.has_rules = (bool(self.validations) or p["required"] not in (False, None)
                          or p["visible"] is not True
                          or any(p[n] is not None for n in ("min", "max", "min_length", "max_length", "pattern")))
        self.quiet = p["default"] is None and p["readonly"] in (False, None)
        return self


@dataclass(eq=False)
class TablePlan:
    """The fields of the form (``path == ()``) or of one (nested) sub-table row."""

    path: tuple[str, ...]
    fields: tuple[FieldPlan, ...]
    by_key: dict[str, FieldPlan]
    parent: "TablePlan | None" = None
    references: tuple[FieldPlan, ...] = ()
    lookups: tuple[FieldPlan, ...] = ()


@dataclass(eq=False)
class FormPlan:
    """The whole plan: the root table and the formula tasks in evaluation order."""

    root: TablePlan
    tasks: tuple[tuple[TablePlan, FieldPlan], ...] = dc_field(default=())


_PLANS: dict[int, tuple[weakref.ref, FormPlan]] = {}


def plan_for(form: FormDef) -> FormPlan:
    """The (cached) plan of ``form``; the cache entry goes away with the FormDef object."""
    key = id(form)
    hit = _PLANS.get(key)
    if hit is not None and hit[0]() is form:
        return hit[1]
    plan = build_plan(form)
    ref = weakref.ref(form, lambda _r, k=key: _PLANS.pop(k, None))
    _PLANS[key] = (ref, plan)
    return plan


def build_plan(form: FormDef) -> FormPlan:
    """Resolve types, compile expressions and order formulas (no caching)."""
    root = _table(form, (), form.fields, form_scope(form), None)
    return FormPlan(root=root, tasks=tuple(_order_tasks(root)))


def _table(form: FormDef, path: tuple[str, ...], fields, scope, parent) -> TablePlan:
    table = TablePlan(path=path, fields=(), by_key={}, parent=parent)
    plans = [_field(form, table, i, f, scope) for i, f in enumerate(fields)]
    table.fields = tuple(plans)
    table.by_key = {p.key: p for p in plans}
    table.references = tuple(p for p in plans if p.field.type == "reference")
    table.lookups = tuple(p for p in plans if p.kind == "lookup")
    return table


def _field(form: FormDef, table: TablePlan, index: int, f: FieldDef, scope) -> FieldPlan:
    ftype = field_type(f.type)
    kind = _kind(f, ftype)
    dotted = ".".join(table.path + (f.key,))
    props = {name: _prop(f, ftype, name, getattr(f, name), scope) for name in PROPS}
    if props["visible"] is None:
        props["visible"] = True
    if ftype.is_subtable:   # the sub-table's own row limits count like min/max_length
        props["min_length"] = _first(props["min_length"], f.option("min_rows"))
        props["max_length"] = _first(props["max_length"], f.option("max_rows"))
    plan = FieldPlan(key=f.key, index=index, field=f, ftype=ftype, label=f.label,
                     dotted=dotted, kind=kind, props=props,
                     validations=tuple((_compile(r.expr, scope), r.message) for r in f.validations))
    if kind == "formula":
        plan.formula = _compile(f.option("formula") or "", scope)
    if kind == "subtable":
        path = table.path + (f.key,)
        plan.table = _table(form, path, f.fields, row_scope(form, path), table)
    return plan.settle()


def _first(*values: Any) -> Any:
    return next((v for v in values if v is not None), None)


def _kind(f: FieldDef, ftype: FieldType) -> str:
    if ftype.is_subtable:
        return "subtable"
    if not ftype.is_computed:
        return "input"
    if f.type == "lookup":
        return "lookup"
    if f.type == "formula" or f.option("formula") is not None:
        return "formula"
    return "serial"   # any other computed type is produced by storage and kept as stored


def _prop(f: FieldDef, ftype: FieldType, name: str, value: Any, scope) -> Any:
    if isinstance(value, Expr):
        return _compile(value.source, scope)
    if name in _VALUE_PROPS and value is not None and not ftype.is_subtable:
        try:
            return ftype.coerce(f, value)
        except (ValueError, TypeError, ArithmeticError):
            return value   # the definition checker owns this; keep the raw constant
    return value


def _compile(source: str, scope) -> ExprProp:
    try:
        code = compile_expression(source, scope)
    except ExpressionError as exc:
        return ExprProp(source=source, error=exc)
    return ExprProp(source=source, code=code, names=frozenset(getattr(code, "names", ()) or ()))


# --- formula order -------------------------------------------------------------------------

def _all_tasks(table: TablePlan) -> list[tuple[TablePlan, FieldPlan]]:
    """Formula tasks of ``table`` and everything below it, deepest level first."""
    out: list[tuple[TablePlan, FieldPlan]] = []
    for fp in table.fields:
        if fp.table is not None:
            out.extend(_all_tasks(fp.table))
    out.extend((table, fp) for fp in table.fields if fp.kind == "formula")
    return out


def _dependencies(table: TablePlan, fp: FieldPlan) -> list[tuple[TablePlan, FieldPlan]]:
    deps: list[tuple[TablePlan, FieldPlan]] = []
    for name in sorted(fp.formula.names if fp.formula else ()):
        level: TablePlan | None = table
        while level is not None and name not in level.by_key:
            level = level.parent
        if level is None:
            continue
        target = level.by_key[name]
        if target.kind == "formula":
            deps.append((level, target))
        elif target.table is not None:
            deps.extend(_all_tasks(target.table))
    return deps


def _order_tasks(root: TablePlan) -> list[tuple[TablePlan, FieldPlan]]:
    """Depth-first topological order; a cycle (rejected by the definition checker) is cut."""
    ordered: list[tuple[TablePlan, FieldPlan]] = []
    state: dict[int, str] = {}

    def visit(task: tuple[TablePlan, FieldPlan]) -> None:
        mark = state.get(id(task[1]))
        if mark is not None:
            return
        state[id(task[1])] = "visiting"
        for dep in _dependencies(*task):
            visit(dep)
        state[id(task[1])] = "done"
        ordered.append(task)

    for task in _all_tasks(root):
        visit(task)
    return ordered


class Env(NamedTuple):
    """What an expression sees: ``data`` (the form's values, or a row's) and the enclosing
    levels' values, nearest first (the compiled code reads each name at its static level)."""

    data: Mapping[str, Any]
    parents: tuple[Mapping[str, Any], ...] = ()

    def get(self, key: str) -> Any:
        """A name's value, row first then outward (as expressions resolve it)."""
        if key in self.data:
            return self.data[key]
        for level in self.parents:
            if key in level:
                return level[key]
        return None

    def inner(self, row: Mapping[str, Any]) -> "Env":
        """The environment of a row nested in this level."""
        return Env(row, (self.data,) + self.parents)


def run(expr: ExprProp, env: Env, ctx: Any) -> tuple[Any, Msg | None]:
    """Evaluate ``expr``: (value, None), or (None, message) when it cannot be evaluated."""
    if expr.code is None:
        return None, expr.error.message if expr.error else Msg("表达式无效", "Invalid expression")
    try:
        return expr.code.evaluate(env.data, ctx, env.parents), None
    except ExpressionError as exc:
        return None, exc.message


def coerce(fp: FieldPlan, value: Any) -> tuple[Any, Msg | None]:
    """``value`` normalised by the field's type: (value, None), or (None, why it does not fit)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None, _UNFIT
    try:
        return fp.ftype.coerce(fp.field, value), None
    except (ValueError, TypeError, ArithmeticError, RecursionError) as exc:
        return None, exc.args[0] if exc.args and isinstance(exc.args[0], Msg) else _UNFIT


_UNFIT = Msg("值的类型或格式不符合该字段", "the value does not fit this field's type")


def flag(prop: Any, env: Env, ctx: Any, on_error: bool) -> tuple[bool, Msg | None]:
    """A yes/no property (required, visible, readonly): a constant, or an expression whose
    blank result counts as false; ``on_error`` is the answer when it cannot be evaluated."""
    if not isinstance(prop, ExprProp):
        return bool(prop), None
    value, error = run(prop, env, ctx)
    return (on_error if error is not None else bool(value)), error


def describe(form_plan: FormPlan) -> Mapping[str, Any]:
    """A small summary for debugging and tests: the formula order as dotted keys."""
    return {"formulas": [fp.dotted for _t, fp in form_plan.tasks]}
