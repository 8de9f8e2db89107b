"""Yes/no fields. ``false`` is a value, not a blank: only a missing value is blank."""
from __future__ import annotations

from engine.expressions.types import BOOLEAN
from engine.fields.base import Column, FieldType, StorageKind, invalid, shown
from engine.i18n import Msg

_WORDS = {"true": True, "false": False}


class BooleanType(FieldType):
    """A checkbox (first article?, sample retained?)."""

    type = "boolean"
    label = Msg("是/否", "Yes/No")
    group = "basic"

    def expr_type(self, field, ctx=None):
        return BOOLEAN

    def storage(self, field, ctx=None):
        return Column(StorageKind.BOOLEAN)

    def value_schema(self, field):
        return {"type": "boolean"}

    def is_blank(self, value) -> bool:
        return value is None

    def coerce(self, field, value):
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _WORDS:
            return _WORDS[value.strip().lower()]
        raise invalid("应为 true 或 false，收到 {v}", "Expected true or false, got {v}", v=shown(value))
