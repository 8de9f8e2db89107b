"""People and organisation: a user or a department, by id (``multiple`` → a list of ids)."""
from __future__ import annotations

from engine.expressions.types import id_of, list_of
from engine.fields.base import Column, FieldType, StorageKind, invalid, shown
from engine.i18n import Msg

MAX_ID = 2**63 - 1
ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": MAX_ID}


def parse_id(value) -> int:
    """A positive integer id (a JSON number or a string of digits)."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_ID:
        raise invalid("应为正整数 ID，收到 {v}", "Expected a positive whole-number id, got {v}", v=shown(value))
    return value


def is_multiple(field) -> bool:
    """Whether the field holds a list (``multiple`` option)."""
    return bool(field.option("multiple", False)) if hasattr(field, "option") else False


class UserType(FieldType):
    """A user of the platform (inspector, approver, owner)."""

    type = "user"
    label = Msg("人员", "User")
    group = "people"
    tag = "user"
    options_schema = {"multiple": {"type": "boolean", "default": False}}

    def expr_type(self, field, ctx=None):
        single = id_of(self.tag)
        return list_of(single) if is_multiple(field) else single

    def storage(self, field, ctx=None):
        return Column(StorageKind.JSON if is_multiple(field) else StorageKind.INTEGER)

    def value_schema(self, field):
        if is_multiple(field):
            return {"type": "array", "items": dict(ID_SCHEMA), "uniqueItems": True}
        return dict(ID_SCHEMA)

    def coerce(self, field, value):
        if value is None or value == "" or value == []:
            return None
        if not is_multiple(field):
            return parse_id(value)
        items = value if isinstance(value, (list, tuple)) else [value]
        result: list[int] = []
        for item in items:
            ident = parse_id(item)
            if ident not in result:
                result.append(ident)
        return result


class DepartmentType(UserType):
    """A department (responsible department, issuing department)."""

    type = "department"
    label = Msg("部门", "Department")
    tag = "department"
