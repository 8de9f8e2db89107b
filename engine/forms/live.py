"""The live state of a form while it is being filled (the form page asks for it as the user types):
read-only flags of every field, per field path (``characteristics[1].readings[0].value``).

The page sends what the user has typed so far; values are coerced leniently (a value that does
not fit yet counts as blank — the save reports it), formulas are computed by the engine
(:func:`engine.forms.compute_formulas`) and the conditions are evaluated with the same compiled
expressions the engine validates with (:func:`engine.forms.plan.plan_for`). The page only
displays the result; the server decides again on save.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

from engine.definitions.model import FormDef
from engine.forms import compute_formulas
from engine.forms.plan import Env, FieldPlan, TablePlan, coerce, flag, plan_for

MAX_ROWS = 2000          # rows looked at per sub-table in one live request
Lookup = Callable[[FieldPlan, Any], "Mapping[str, Any] | None"]


def clean_draft(table: TablePlan, data: Any) -> dict[str, Any]:
    """Typed values of a draft: each value coerced by its field type, unfit values blank."""
    data = data if isinstance(data, Mapping) else {}
    out: dict[str, Any] = {}
    for fp in table.fields:
        raw = data.get(fp.key)
        if fp.table is not None:
            rows = raw if isinstance(raw, list) else []
            out[fp.key] = [clean_draft(fp.table, r) for r in rows[:MAX_ROWS]]
        elif fp.kind == "input":
            value, error = coerce(fp, raw)
            out[fp.key] = None if error is not None else value
        else:
            out[fp.key] = None
    return out


def fill_lookups(table: TablePlan, values: dict, fetch: Lookup, env: Env | None = None) -> None:
    """Lookup fields take the referenced record's value (``fetch(reference_plan, id)``)."""
    env = Env(values) if env is None else env.inner(values)
    for fp in table.fields:
        if fp.kind == "lookup":
            ref = _reference(table, fp.field.option("reference"))
            target = fetch(ref, env.get(ref.key)) if ref is not None and env.get(ref.key) is not None else None
            values[fp.key] = target.get(fp.field.option("field")) if isinstance(target, Mapping) else None
        elif fp.table is not None:
            for row in values.get(fp.key) or ():
                fill_lookups(fp.table, row, fetch, env)


def _reference(table: TablePlan | None, key: Any) -> FieldPlan | None:
    while table is not None:
        fp = table.by_key.get(key)
        if fp is not None:
            return fp if fp.field.type == "reference" else None
        table = table.parent
    return None


def form_state(form: FormDef, data: Any, ctx: Any, fetch: Lookup | None = None,
               hidden: frozenset[str] = frozenset(), readonly: frozenset[str] = frozenset()) -> dict[str, Any]:
    """{"values": computed field values, "visible", "required", "readonly"} by field path.

    ``hidden`` / ``readonly``: top-level keys the user's role hides or locks; hidden fields
    are left out of the answer entirely (their values must not leak through a formula).
    """
    plan = plan_for(form)
    values = clean_draft(plan.root, data)
    if fetch is not None:
        fill_lookups(plan.root, values, fetch)
    values = compute_formulas(form, values, ctx)
    state: dict[str, dict] = {"values": {}, "visible": {}, "required": {}, "readonly": {}}
    _walk(plan.root, values, Env(values), "", ctx, state, hidden, readonly)
    return state


def _walk(table: TablePlan, values: Mapping, env: Env, prefix: str, ctx: Any, state: dict,
          hidden: frozenset[str], locked: frozenset[str]) -> None:
    for fp in table.fields:
        if not prefix and fp.key in hidden:
            continue
        path = prefix + fp.key
        state["visible"][path] = flag(fp.props["visible"], env, ctx, on_error=True)[0]
        state["required"][path] = flag(fp.props["required"], env, ctx, on_error=False)[0]
        state["readonly"][path] = (fp.computed or (not prefix and fp.key in locked)
                                   or flag(fp.props["readonly"], env, ctx, on_error=False)[0])
        if fp.table is not None:
            for i, row in enumerate(values.get(fp.key) or ()):
                _walk(fp.table, row, env.inner(row), f"{path}[{i}].", ctx, state, hidden, locked)
        elif fp.kind in ("formula", "lookup"):     # serial numbers are given by storage on save
            value = values.get(fp.key)
            state["values"][path] = fp.ftype.to_json(fp.field, value) if value is not None else None
