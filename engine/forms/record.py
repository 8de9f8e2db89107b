"""Validate submitted record data against its form: the steps after the input tree is built.

1. build  (:mod:`engine.forms.tree`): shape, coercion, partial merge, readonly of stored rows
2. defaults: new records and new rows (no stored row matched) get their defaults; readonly
   fields of new ones take the default whatever was submitted
3. lookups: changed reference ids must exist; lookup fields copy the target's value (without a
   ``lookups`` callable, or when an unchanged reference's target is gone, the stored value stays)
4. formulas: every level, in the plan's dependency order (innermost rows first); a formula
   that cannot be computed is a problem on that field
5. checks: visible, required, min/max, length, pattern, validation rules — in form order.
   Hidden fields (and everything in a hidden sub-table) and readonly fields are not checked;
   a value the field type refuses is reported even when hidden.

Problem paths name the field through its sub-tables with **0-based** row indexes:
``lot_size``, ``characteristics[2].usl``, ``characteristics[0].readings[3].value``; a problem
with the whole payload has the path ``""``.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

from engine.errors import NotFound, RecordValidationError
from engine.forms import messages
from engine.forms.checks import check_value, is_visible
from engine.forms.plan import ExprProp, FieldPlan, FormPlan, coerce, flag, plan_for, run
from engine.forms.tree import Node, Problems, TreeBuilder

Lookups = Callable[[str, Any], "Mapping[str, Any] | None"]


def validate_record(form, data: Any, ctx: Any = None, old: Mapping[str, Any] | None = None,
                    partial: bool = False, lookups: Lookups | None = None) -> dict[str, Any]:
    """Clean values of every stored field of ``form``, or RecordValidationError with ALL problems.

    ``data``: field key → JSON value; sub-tables are lists of row objects (nested sub-tables
    inside rows); a row may carry the ``id`` of a stored row to update it. ``old``: the stored
    record in the same shape (rows with their ``id``), for updates. ``partial`` (PATCH): only
    submitted fields are validated and changed, the rest come from ``old``; formulas are
    recomputed over the merged values. ``lookups(reference_key, record_id)`` returns the target
    record's values or None; ``reference_key`` is dotted through sub-tables (``items.part``).
    Computed fields (formula, lookup, serial) are ignored on input. Problem paths use 0-based
    row indexes: ``characteristics[0].readings[3].value``.
    """
    values, problems = _process(plan_for(form), data, ctx, old, partial, lookups, check=True)
    if problems:
        raise RecordValidationError(problems)
    return values


def compute_formulas(form, values: Mapping[str, Any], ctx: Any = None) -> dict[str, Any]:
    """A copy of already-clean ``values`` with every formula (at every level) recomputed.

    Nothing is validated; a formula that cannot be computed becomes blank (None); row ids and
    lookup values are kept as given.
    """
    if not isinstance(values, Mapping):
        values = {}
    result, _problems = _process(plan_for(form), {}, ctx, values, True, None, check=False)
    return result


def blank_record(form, ctx: Any = None) -> dict[str, Any]:
    """Values for a new-record page: defaults applied, formulas computed, sub-tables empty."""
    result, _problems = _process(plan_for(form), {}, ctx, None, False, None, check=False)
    return result


def _process(plan: FormPlan, data: Any, ctx: Any, old: Any, partial: bool,
             lookups: Lookups | None, check: bool) -> tuple[dict[str, Any], list]:
    problems = Problems()
    builder = TreeBuilder(ctx, problems, partial)
    root = builder.build(plan.root, data, old if isinstance(old, Mapping) else None)
    nodes = _apply_defaults(builder.nodes, ctx)
    _resolve_lookups(nodes, lookups)
    _compute(plan, nodes, ctx)
    if check:
        _check(nodes, ctx, problems)
    return root.values, problems.sorted()


# --- 2. defaults -----------------------------------------------------------------------------

def _apply_defaults(nodes: list[Node], ctx: Any) -> list[Node]:
    """Fill defaults of new nodes (parents first, so a row default may read its parent's)."""
    alive = []
    for node in nodes:
        parent = node.parent
        if parent is not None and (parent.dropped or node.sub_key in parent.cleared):
            node.dropped = True
            continue
        alive.append(node)
        if node.old is None:
            for fp in node.table.fields:
                if not fp.computed:
                    _default_field(node, fp, ctx)
    return alive


def _default_field(node: Node, fp: FieldPlan, ctx: Any) -> None:
    key = fp.key
    if fp.quiet and key not in node.locked:
        return
    if key not in node.locked:
        locked, error = flag(fp.props["readonly"], node.env, ctx, on_error=True)
        if locked:
            node.locked.add(key)
            node.given.discard(key)
            node.bad.pop(key, None)       # whatever was submitted is ignored anyway
        if error is not None:
            node.bad[key] = messages.condition_failed(fp.label, error)
    if fp.table is not None:
        if key in node.locked and node.values.get(key):
            node.values[key] = []
            node.cleared.add(key)
        return
    if key in node.locked or (key not in node.bad and fp.ftype.is_blank(node.values.get(key))):
        node.values[key] = _default(node, fp, ctx)


def _default(node: Node, fp: FieldPlan, ctx: Any) -> Any:
    prop = fp.props["default"]
    if isinstance(prop, ExprProp):   # a computed default is normalised like typed input
        value, error = run(prop, node.env, ctx)
        if error is None:
            value, error = coerce(fp, value)
        if error is not None:
            node.bad[fp.key] = messages.condition_failed(fp.label, error)
        return value
    if isinstance(prop, (list, dict)):   # never share a mutable constant between records
        return type(prop)(prop)
    return prop


# --- 3. lookups ------------------------------------------------------------------------------

def _resolve_lookups(nodes: list[Node], lookups: Lookups | None) -> None:
    """Check changed reference ids exist and pull lookup values through them."""
    cache: dict[tuple[str, Any], Any] = {}

    def fetch(ref: FieldPlan, record_id: Any) -> Any:
        if lookups is None or record_id is None or isinstance(record_id, (list, dict)):
            return None
        key = (ref.dotted, record_id)
        if key not in cache:
            try:
                cache[key] = lookups(ref.dotted, record_id)
            except NotFound:
                cache[key] = None
        return cache[key]

    for node in nodes:
        for fp in node.table.references:
            record_id = node.values.get(fp.key)
            changed = node.old is None or node.old.get(fp.key) != record_id
            if lookups is None or record_id is None or not changed or fp.key in node.bad \
                    or fp.key in node.locked:
                continue
            if fetch(fp, record_id) is None:
                node.bad[fp.key] = messages.missing_record(fp.label, record_id)
        for fp in node.table.lookups:
            _lookup_value(node, fp, fetch)


def _lookup_value(node: Node, fp: FieldPlan, fetch: Callable) -> None:
    """The target's field value; the stored value while the reference is unchanged but unknown."""
    ref = _find(node, fp.field.option("reference"))
    record_id = node.env.get(ref.key) if ref is not None else None
    old_id = node.old_env.get(ref.key) if ref is not None and node.old_env is not None else None
    target = fetch(ref, record_id) if ref is not None else None
    if isinstance(target, Mapping):
        node.values[fp.key] = target.get(fp.field.option("field"))
    elif record_id is None or record_id != old_id:
        node.values[fp.key] = None
    # else: keep the stored value (no lookups callable, or the target is gone)


def _find(node: Node, key: Any) -> FieldPlan | None:
    """The reference field a lookup names: in its own row first, then the enclosing levels."""
    table = node.table
    while table is not None:
        fp = table.by_key.get(key)
        if fp is not None:
            return fp if fp.field.type == "reference" else None
        table = table.parent
    return None


# --- 4. formulas -----------------------------------------------------------------------------

def _compute(plan: FormPlan, nodes: list[Node], ctx: Any) -> None:
    by_table: dict[int, list[Node]] = {}
    for node in nodes:
        by_table.setdefault(id(node.table), []).append(node)
    for table, fp in plan.tasks:
        for node in by_table.get(id(table), ()):
            if fp.field.option("compute") == "on_create" and node.old is not None and node.old.get(fp.key) is not None:
                node.values[fp.key] = node.old[fp.key]       # kept as computed when the record was created
                continue
            value, error = run(fp.formula, node.env, ctx)
            # A run-time failure depends on the data (#DIV/0! while readings are still missing):
            # the formula is blank, like an empty cell, and the record can still be saved. Design
            # errors never get here: the definition checker type-checks every formula.
            value, error = (None, None) if error is not None else coerce(fp, value)
            node.values[fp.key] = value
            if error is not None:
                node.bad[fp.key] = messages.formula_failed(fp.label, error)


# --- 5. checks -------------------------------------------------------------------------------

def _check(nodes: list[Node], ctx: Any, problems: Problems) -> None:
    for node in nodes:
        parent = node.parent
        node.skip = parent is not None and (parent.skip or node.sub_key in parent.hidden)
        for fp in node.table.fields:
            for message in _field_problems(node, fp, ctx):
                problems.add(node.order + (fp.index,), node.prefix + fp.key, message)


def _field_problems(node: Node, fp: FieldPlan, ctx: Any) -> list:
    key = fp.key
    if key in node.bad:
        return [node.bad[key]]
    if node.skip or key in node.locked or fp.kind == "serial":
        return []
    if (not fp.computed and key not in node.given) or not fp.has_rules:
        return []
    out: list = []
    if not is_visible(fp, node.env, ctx, out):
        if fp.table is not None:
            node.hidden.add(key)
        return out
    return out + check_value(fp, node.values.get(key), node.env, ctx)
