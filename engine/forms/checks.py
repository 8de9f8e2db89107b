"""The rules one value must satisfy: required, min/max, length, pattern, validation expressions.

Each property is a constant or a compiled expression evaluated on the record's values (inside a
sub-table row: the row, then its enclosing rows and the form). A condition that evaluates to
blank counts as false (not required, not visible, not readonly); a bound that is blank is not
enforced; a validation rule passes when its expression is true *or blank* (Excel-style: a rule
about an empty value does not fire). A property that cannot be evaluated is reported on the
field instead of crashing the save.
"""
from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from typing import Any

from engine.forms import messages
from engine.forms.plan import Env, ExprProp, FieldPlan, flag, run
from engine.i18n import Msg


def resolve(fp: FieldPlan, prop: Any, env: Env, ctx: Any, out: list[Msg]) -> Any:
    """A property's value: the constant, or the expression's result (None + a message on failure)."""
    if not isinstance(prop, ExprProp):
        return prop
    value, error = run(prop, env, ctx)
    if error is not None:
        out.append(messages.condition_failed(fp.label, error))
    return value


def check_value(fp: FieldPlan, value: Any, env: Env, ctx: Any) -> list[Msg]:
    """Every rule ``value`` breaks (the caller has already skipped hidden/readonly fields)."""
    out: list[Msg] = []
    blank = fp.ftype.is_blank(value)
    if blank and not fp.computed and resolve(fp, fp.props["required"], env, ctx, out):
        out.append(messages.required(fp.label))
        return out
    if not blank:
        _bounds(fp, value, env, ctx, out)
    if not blank or fp.table is not None:   # "at least 2 rows" holds for an empty sub-table too
        _lengths(fp, value if value is not None else [], env, ctx, out)
    if not blank:
        _pattern(fp, value, env, ctx, out)
    _rules(fp, env, ctx, out)
    return out


def is_visible(fp: FieldPlan, env: Env, ctx: Any, out: list[Msg]) -> bool:
    """Whether the field is shown (hidden fields are neither required nor validated)."""
    shown, error = flag(fp.props["visible"], env, ctx, on_error=True)
    if error is not None:
        out.append(messages.condition_failed(fp.label, error))
    return shown


def _comparable(value: Any) -> bool:
    return isinstance(value, (int, float, dt.date)) and not isinstance(value, bool)


def _less(a: Any, b: Any) -> bool:
    """``a < b``, False when the two cannot be compared (e.g. a date bound on a number)."""
    try:
        return bool(a < b)
    except TypeError:
        return False


def _bounds(fp: FieldPlan, value: Any, env, ctx, out: list[Msg]) -> None:
    if not _comparable(value):
        return
    low = resolve(fp, fp.props["min"], env, ctx, out)
    if _comparable(low) and _less(value, low):
        out.append(messages.too_small(fp.label, low))
    high = resolve(fp, fp.props["max"], env, ctx, out)
    if _comparable(high) and _less(high, value):
        out.append(messages.too_large(fp.label, high))


def _count(value: Any) -> int | None:
    if isinstance(value, (str, list, tuple)):
        return len(value)
    return None


def _lengths(fp: FieldPlan, value: Any, env, ctx, out: list[Msg]) -> None:
    count = _count(value)
    if count is None:
        return
    unit = "chars" if isinstance(value, str) else "rows" if fp.table is not None else "items"
    low = resolve(fp, fp.props["min_length"], env, ctx, out)
    if _comparable(low) and not isinstance(low, dt.date) and count < low:
        out.append(messages.too_short(fp.label, _whole(low), unit))
    high = resolve(fp, fp.props["max_length"], env, ctx, out)
    if _comparable(high) and not isinstance(high, dt.date) and count > high:
        out.append(messages.too_long(fp.label, _whole(high), unit))


def _whole(n: float) -> int | float:
    return int(n) if float(n).is_integer() else n


@lru_cache(maxsize=512)
def _regex(pattern: str) -> re.Pattern | None:
    try:
        return re.compile(pattern)
    except (re.error, RecursionError, OverflowError):
        return None   # the definition checker reports a bad pattern; don't punish the user


def _pattern(fp: FieldPlan, value: Any, env, ctx, out: list[Msg]) -> None:
    if not isinstance(value, str):
        return
    pattern = resolve(fp, fp.props["pattern"], env, ctx, out)
    if not isinstance(pattern, str) or not pattern:
        return
    regex = _regex(pattern)
    if regex is not None and regex.fullmatch(value) is None:
        out.append(messages.bad_format(fp.label))


def _rules(fp: FieldPlan, env, ctx, out: list[Msg]) -> None:
    for expr, message in fp.validations:
        result, error = run(expr, env, ctx)
        if error is not None:
            out.append(messages.condition_failed(fp.label, error))
        elif not (result is None or result == "" or result == [] or bool(result)):
            out.append(message)
