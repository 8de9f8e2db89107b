"""Sub-tables: repeating rows with their own columns (``fields``), stored in a child table.

Sub-tables may nest (lot → characteristics → readings); the definition checks limit the depth.
In expressions a sub-table is ROWS: ``items.qty`` is the list of a column's values.
"""
from __future__ import annotations

from typing import Iterator

from engine.errors import Problem
from engine.expressions.types import ExprType, Kind, Scope
from engine.fields.base import FieldType, invalid, shown
from engine.i18n import Msg, msg

MAX_ROWS = 10_000


class SubtableType(FieldType):
    """Repeating rows (characteristics, defects, readings); ``min_rows``/``max_rows`` optional."""

    type = "subtable"
    label = Msg("子表", "Sub-table")
    group = "layout"
    is_subtable = True
    options_schema = {
        "min_rows": {"type": "integer", "minimum": 0, "maximum": MAX_ROWS},
        "max_rows": {"type": "integer", "minimum": 1, "maximum": MAX_ROWS},
    }

    def expr_type(self, field, ctx=None):
        """ROWS with the columns' scope (formula columns typed only when loaded or given ``ctx``)."""
        from engine.fields import FIELD_TYPES  # late: the registry imports this module
        columns = []
        for column in field.fields:
            if isinstance(column.type, str) and column.type in FIELD_TYPES:
                member = FIELD_TYPES.get(column.type).expr_type(column)
                columns.append((column.key, member.rows if member.kind is Kind.ROWS else member))   # nested: a Scope
        return ExprType(Kind.ROWS, rows=Scope.of(columns))

    def storage(self, field, ctx=None):
        return None

    def is_blank(self, value) -> bool:
        return value is None or value == []

    def coerce(self, field, value):
        if value is None:
            return []
        if not isinstance(value, (list, tuple)) or not all(isinstance(row, dict) for row in value):
            raise invalid("子表应为行对象的列表，收到 {v}", "A sub-table must be a list of row objects, got {v}",
                          v=shown(value))
        limit = field.option("max_rows") or MAX_ROWS
        if len(value) > limit:
            raise invalid("子表最多 {n} 行，收到 {m} 行", "At most {n} rows, got {m}", n=limit, m=len(value))
        return [dict(row) for row in value]

    def to_json(self, field, value):
        return [dict(row) for row in value] if isinstance(value, (list, tuple)) else value

    def json_schema(self, field, lang="en"):
        """An array of row objects: each column's schema (labels in ``lang``) and a read-only row ``id``."""
        from engine.fields import FIELD_TYPES  # late: the registry imports this module
        columns: dict = {"id": {"type": "integer", "readOnly": True}}
        for column in field.fields:
            if isinstance(column.type, str) and column.type in FIELD_TYPES:
                columns[column.key] = FIELD_TYPES.get(column.type).json_schema(column, lang)
        schema = super().json_schema(field, lang)
        schema["items"] = {"type": "object", "properties": columns}
        return schema

    def value_schema(self, field):
        schema = {"type": "array", "items": {"type": "object"}, "maxItems": field.option("max_rows") or MAX_ROWS}
        low = field.option("min_rows")
        if isinstance(low, int) and low > 0:
            schema["minItems"] = low
        return schema

    def check(self, field, ctx) -> Iterator[Problem]:
        low, high = field.option("min_rows"), field.option("max_rows")
        if isinstance(low, int) and isinstance(high, int) and low > high:
            yield Problem(f"{ctx.path}.min_rows", msg("最少行数 {a} 大于最多行数 {b}",
                                                      "min_rows {a} is greater than max_rows {b}", a=low, b=high))

