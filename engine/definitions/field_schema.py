"""Builds ``schemas/field.schema.json`` from the field-type registry.

A new field type therefore needs no schema edit: register it, run
``python -m engine.definitions.field_schema`` and commit the regenerated file (a test fails
while the shipped file differs from what this module builds).
"""
from __future__ import annotations

import json
from pathlib import Path

from engine.fields import FIELD_TYPES

SCHEMA_FILE = Path(__file__).with_name("schemas") / "field.schema.json"
BASE = "https://qms.example.com/schemas/"
_LABEL = {"$ref": "common.schema.json#/$defs/label"}
_TEXT = {"$ref": "common.schema.json#/$defs/text"}
_EXPR = {"$ref": "common.schema.json#/$defs/expr"}


def _either(constant: dict, zh: str, en: str) -> dict:
    """A constant of the given shape or an ``{"expr": …}`` object."""
    return {"anyOf": [constant, _EXPR], "x-message": {"zh-CN": zh, "en": en}}


def common_properties() -> dict:
    """JSON Schemas of the properties every field may have."""
    flag = _either({"type": "boolean"}, "应为 true/false 或 {\"expr\": \"…\"}", "Expected true/false or {\"expr\": \"…\"}")
    bound = _either({"type": ["number", "string"]}, "应为数字、日期文本或 {\"expr\": \"…\"}",
                    "Expected a number, a date string or {\"expr\": \"…\"}")
    length = _either({"type": "integer", "minimum": 0, "maximum": 100000}, "应为 0 到 100000 的整数或 {\"expr\": \"…\"}",
                     "Expected a whole number from 0 to 100000 or {\"expr\": \"…\"}")
    return {
        "key": {"$ref": "common.schema.json#/$defs/identifier"},
        "type": {"enum": FIELD_TYPES.keys(), "x-message": {
            "zh-CN": "未知的字段类型；可用类型：" + "、".join(FIELD_TYPES.keys()),
            "en": "Unknown field type; known types: " + ", ".join(FIELD_TYPES.keys())}},
        "label": _LABEL,
        "required": flag,
        "readonly": flag,
        "visible": flag,
        "default": {"description": "A constant of the field's type or {\"expr\": …}.",
                    "if": {"type": "object"}, "then": _EXPR},
        "min": bound,
        "max": bound,
        "min_length": length,
        "max_length": length,
        "pattern": _either({"type": "string", "minLength": 1, "maxLength": 500},
                           "应为正则表达式文本或 {\"expr\": \"…\"}", "Expected a regular expression or {\"expr\": \"…\"}"),
        "validations": {"type": "array", "maxItems": 50, "items": {
            "type": "object", "required": ["expr", "message"],
            "properties": {"expr": {"type": "string", "minLength": 1, "maxLength": 4000}, "message": _TEXT},
            "additionalProperties": False}},
        "help": _TEXT,
        "indexed": {"type": "boolean"},
    }


def _type_rule(key: str) -> dict:
    """``if type == key then`` only the common properties and this type's options are allowed."""
    kind = FIELD_TYPES.get(key)
    properties: dict = {name: True for name in common_properties()}
    properties.update(kind.options_schema)
    required = list(kind.required_options)
    if kind.is_subtable:
        properties["fields"] = {"type": "array", "minItems": 1, "maxItems": 200, "items": {"$ref": "#"}}
        required.append("fields")
    then: dict = {"properties": properties, "additionalProperties": False}
    if required:
        then["required"] = required
    return {"if": {"properties": {"type": {"const": key}}, "required": ["type"]}, "then": then}


def build() -> dict:
    """The field schema for the currently registered field types."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": BASE + "field.schema.json",
        "title": "Field definition",
        "description": "GENERATED from the field-type registry by `python -m engine.definitions.field_schema`; "
                       "do not edit.",
        "type": "object",
        "required": ["key", "type", "label"],
        "properties": common_properties(),
        "allOf": [_type_rule(key) for key in FIELD_TYPES.keys()],
    }


def render() -> str:
    """The schema as the text of the shipped file."""
    return json.dumps(build(), ensure_ascii=False, indent=2) + "\n"


def main() -> None:
    SCHEMA_FILE.write_text(render(), encoding="utf-8")
    print(f"wrote {SCHEMA_FILE}")


if __name__ == "__main__":
    main()
