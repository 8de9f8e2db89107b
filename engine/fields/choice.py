"""Choice fields: select and radio (one option code), multiselect (a list of codes).

Options are ``choices: [{"code", "label": {"zh-CN", "en"}, "color"?}]``; the stored value and
the value seen by expressions is the *code* (``"NG"``), never the label, so renaming a label
never changes data or formulas.
"""
from __future__ import annotations

from typing import Iterator

from engine.errors import Problem
from engine.expressions.types import TEXT, list_of
from engine.fields.base import LABEL_REF, Column, FieldType, StorageKind, invalid, shown
from engine.i18n import Msg, msg

CODE_LENGTH = 64
CHOICES_SCHEMA = {
    "type": "array",
    "minItems": 1,
    "items": {
        "type": "object",
        "required": ["code", "label"],
        "properties": {
            "code": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$",
                     "x-message": {"zh-CN": "选项编码只能包含字母、数字、下划线、点和横线，且以字母或数字开头（最多 64 个字符）",
                                   "en": "An option code may contain letters, digits, '_', '.' and '-', "
                                         "starting with a letter or digit (at most 64 characters)"}},
            "label": LABEL_REF,
            "color": {"type": "string", "pattern": "^#[0-9A-Fa-f]{6}$"},
        },
        "additionalProperties": False,
    },
}


def codes_of(field) -> list[str]:
    """The option codes of a choice field, in order (malformed entries skipped)."""
    choices = field.option("choices", ()) if hasattr(field, "option") else ()
    if not isinstance(choices, (list, tuple)):
        return []
    return [c["code"] for c in choices if hasattr(c, "get") and isinstance(c.get("code"), str)]


def check_code(field, value) -> str:
    """``value`` if it is one of the field's option codes, else InvalidValue listing them."""
    codes = codes_of(field)
    if isinstance(value, str) and value in codes:
        return value
    raise invalid("“{v}”不是该字段的选项编码；可选：{codes}",
                  "'{v}' is not an option code of this field; choose one of: {codes}",
                  v=shown(value), codes=", ".join(codes[:20]) or "-")


class SelectType(FieldType):
    """A drop-down with one choice (result OK/NG, disposition)."""

    type = "select"
    label = Msg("下拉单选", "Drop-down")
    group = "choice"
    options_schema = {"choices": CHOICES_SCHEMA}
    required_options = ("choices",)

    def expr_type(self, field, ctx=None):
        return TEXT

    def storage(self, field, ctx=None):
        return Column(StorageKind.TEXT, length=CODE_LENGTH)

    def coerce(self, field, value):
        if value is None or value == "":
            return None
        return check_code(field, value)

    def value_schema(self, field):
        return {"type": "string", "enum": codes_of(field)}

    def check(self, field, ctx) -> Iterator[Problem]:
        seen: set[str] = set()
        choices = field.option("choices", ())
        for i, choice in enumerate(choices if isinstance(choices, (list, tuple)) else ()):
            code = choice.get("code") if hasattr(choice, "get") else None
            if not isinstance(code, str):
                continue
            if code in seen:
                yield Problem(f"{ctx.path}.choices[{i}].code",
                              msg("选项编码“{c}”重复", "The option code '{c}' is used twice", c=code))
            seen.add(code)


class RadioType(SelectType):
    """Radio buttons with one choice (inspection level, defect class)."""

    type = "radio"
    label = Msg("单选按钮", "Radio buttons")


class MultiselectType(SelectType):
    """Several choices (defect types found); the value is a list of codes, duplicates dropped."""

    type = "multiselect"
    label = Msg("多选", "Multi-select")

    def expr_type(self, field, ctx=None):
        return list_of(TEXT)

    def storage(self, field, ctx=None):
        return Column(StorageKind.JSON)

    def coerce(self, field, value):
        if value is None or value == "" or value == []:
            return None
        if not isinstance(value, (list, tuple)):
            raise invalid("应为选项编码的列表，收到 {v}", "Expected a list of option codes, got {v}", v=shown(value))
        result: list[str] = []
        for item in value:
            code = check_code(field, item)
            if code not in result:
                result.append(code)
        return result

    def to_json(self, field, value):
        return list(value) if isinstance(value, (list, tuple)) else value

    def value_schema(self, field):
        return {"type": "array", "items": {"type": "string", "enum": codes_of(field)}, "uniqueItems": True}
