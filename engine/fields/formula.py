"""Formula fields: a value computed from an expression (``formula``); never typed by users.

The result type is inferred from the expression against the form's scope. Loading a form
records it in ``options["result_type"]`` (an ExprType), which decides the column: a NUMBER
uses ``precision`` like a number field (default 6 digits after the point), TEXT is unbounded,
ids are integers, lists/files/unknown are JSON.
"""
from __future__ import annotations

import math
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from engine.expressions.types import ANY, Kind
from engine.fields.base import Column, FieldType, StorageKind
from engine.fields.choice import CHOICES_SCHEMA
from engine.fields.number import MAX_PRECISION, number_column, to_decimal
from engine.i18n import Msg

DEFAULT_FORMULA_PRECISION = 6
_SIMPLE = {Kind.TEXT: Column(StorageKind.TEXT), Kind.BOOLEAN: Column(StorageKind.BOOLEAN),
           Kind.DATE: Column(StorageKind.DATE), Kind.DATETIME: Column(StorageKind.DATETIME),
           Kind.ID: Column(StorageKind.INTEGER)}


class FormulaType(FieldType):
    """A computed value (mean, OK/NG result, PPM, accept/reject)."""

    type = "formula"
    label = Msg("公式", "Formula")
    group = "advanced"
    is_computed = True
    options_schema = {
        "formula": {"type": "string", "minLength": 1, "maxLength": 4000},
        "precision": {"type": "integer", "minimum": 0, "maximum": MAX_PRECISION},
        "unit": {"type": "string", "maxLength": 20},
        # "on_create": computed until the record is first saved, then kept (the AQL severity a lot
        # was inspected under must not change when the switching state moves on)
        "compute": {"enum": ["always", "on_create"]},
        # labels for the codes a text formula gives ("accept" → 接收 / Accept): shown on pages,
        # prints and charts; the stored value stays the code
        "choices": CHOICES_SCHEMA,
    }
    required_options = ("formula",)

    def expr_type(self, field, ctx=None):
        if field.option("result_type") is not None:
            return field.option("result_type")
        source = field.option("formula")
        if ctx is None or ctx.scope is None or not isinstance(source, str):
            return ANY
        from engine.expressions import check  # late: expressions may import field helpers one day
        result = check(source, ctx.scope)
        return result.type if result.type is not None and not result.errors else ANY

    def storage(self, field, ctx=None):
        kind = self.expr_type(field, ctx).kind
        if kind is Kind.NUMBER:
            precision = field.option("precision")
            return number_column(DEFAULT_FORMULA_PRECISION if precision is None else precision)
        return _SIMPLE.get(kind, Column(StorageKind.JSON))

    def coerce(self, field, value):
        """Normalise a computed value: numbers are rounded to ``precision`` when it is set."""
        precision = field.option("precision")
        if precision is None or isinstance(value, bool) or not isinstance(value, (int, float)):
            return value
        if isinstance(value, float) and not math.isfinite(value):
            return None
        rounded = to_decimal(value).quantize(Decimal(1).scaleb(-precision), rounding=ROUND_HALF_UP)
        return float(rounded) if precision else int(rounded)

    def value_schema(self, field):
        """The schema of the inferred result type (any value while it is unknown)."""
        return result_schema(self.expr_type(field))

    def to_json(self, field, value):
        if isinstance(value, (date, datetime)):
            return value.isoformat()
        return value


_RESULT_SCHEMAS = {Kind.NUMBER: {"type": "number"}, Kind.TEXT: {"type": "string"}, Kind.BOOLEAN: {"type": "boolean"},
                   Kind.DATE: {"type": "string", "format": "date"},
                   Kind.DATETIME: {"type": "string", "format": "date-time"},
                   Kind.ID: {"type": "integer", "minimum": 1}}


def result_schema(result) -> dict:
    """JSON Schema of a value of expression type ``result`` (lists by item type; unknown: any)."""
    kind = getattr(result, "kind", None)
    if kind is Kind.LIST:
        item = result_schema(result.item) if result.item is not None else {}
        return {"type": "array", "items": item} if item else {"type": "array"}
    return dict(_RESULT_SCHEMAS.get(kind, {}))
