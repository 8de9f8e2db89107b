"""Numbers: ``precision`` = digits after the point (0 = integer), optional ``unit``.

Input may be a JSON number or a numeric string ("12.5", " 3 "). Decimals are rounded half-up
to ``precision`` digits (as a quality engineer rounds a measurement); an integer field
(precision 0) refuses a fractional value instead of silently rounding a count. Magnitudes must
fit the column: fewer than 18 digits before the point.
"""
from __future__ import annotations

import math
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from engine.expressions.types import NUMBER
from engine.fields.base import Column, FieldType, StorageKind, invalid, shown
from engine.i18n import Msg

MAX_PRECISION = 10
INTEGER_DIGITS = 18
_NUMERIC = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def precision_of(field, default: int = 0) -> int:
    """The field's ``precision`` option as an int within 0..MAX_PRECISION."""
    value = field.option("precision", default) if hasattr(field, "option") else default
    if not isinstance(value, int) or isinstance(value, bool):
        return default
    return min(max(value, 0), MAX_PRECISION)


def number_column(precision: int) -> Column:
    """INTEGER for precision 0, else DECIMAL(18 + precision, precision)."""
    if precision == 0:
        return Column(StorageKind.INTEGER)
    return Column(StorageKind.DECIMAL, precision=INTEGER_DIGITS + precision, scale=precision)


def to_decimal(value) -> Decimal:
    """JSON number or numeric string → Decimal, or InvalidValue naming the input."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise invalid("应为数字，收到 {v}", "Expected a number, got {v}", v=shown(value))
    if isinstance(value, float) and not math.isfinite(value):
        raise invalid("“{v}”不是有效的数字", "'{v}' is not a valid number", v=value)
    text = value.strip() if isinstance(value, str) else str(value)
    if isinstance(value, str) and not _NUMERIC.match(text):
        raise invalid("“{v}”不是有效的数字", "'{v}' is not a valid number", v=shown(value))
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise invalid("“{v}”不是有效的数字", "'{v}' is not a valid number", v=shown(value)) from None
    if not number.is_finite() or abs(number) >= Decimal(10) ** INTEGER_DIGITS:
        raise invalid("数值 {v} 超出范围（整数部分最多 {n} 位）",
                      "The number {v} is out of range (at most {n} digits before the point)",
                      v=shown(value), n=INTEGER_DIGITS)
    return number


def round_number(number: Decimal, precision: int, original) -> int | float:
    """Round half-up to ``precision`` digits; precision 0 refuses fractions."""
    if precision == 0:
        if number != number.to_integral_value():
            raise invalid("应为整数，收到 {v}", "Expected a whole number, got {v}", v=shown(original))
        return int(number)
    return float(number.quantize(Decimal(1).scaleb(-precision), rounding=ROUND_HALF_UP))


class NumberType(FieldType):
    """An integer or decimal number with a precision and an optional unit (mm, kg, pcs)."""

    type = "number"
    label = Msg("数字", "Number")
    group = "basic"
    supports = frozenset({"range"})
    options_schema = {
        "precision": {"type": "integer", "minimum": 0, "maximum": MAX_PRECISION, "default": 0},
        "unit": {"type": "string", "maxLength": 20},
    }

    def expr_type(self, field, ctx=None):
        return NUMBER

    def storage(self, field, ctx=None):
        return number_column(precision_of(field))

    def coerce(self, field, value):
        if value is None or (isinstance(value, str) and value.strip() == ""):
            return None
        return round_number(to_decimal(value), precision_of(field), value)

    def value_schema(self, field):
        schema = {"type": "integer" if precision_of(field) == 0 else "number"}
        for key, value in (("minimum", getattr(field, "min", None)), ("maximum", getattr(field, "max", None))):
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                schema[key] = value
        unit = field.option("unit") if hasattr(field, "option") else None
        if isinstance(unit, str) and unit:
            schema["x-unit"] = unit
        return schema
