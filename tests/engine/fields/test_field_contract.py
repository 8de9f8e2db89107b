"""Contract tests over every registered field type: a new type is covered automatically."""
from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator

from engine.definitions.builder import build_field
from engine.definitions.identifiers import IDENTIFIER
from engine.expressions.types import ExprType
from engine.fields import FIELD_TYPES, field_type
from engine.fields.base import Column, FieldType, InvalidValue
from engine.registry import RegistryError

GROUPS = {"basic", "choice", "people", "media", "advanced", "layout"}
# Required options of each type, for a minimal field. A new type with required options adds one line.
MINIMAL_OPTIONS = {
    "select": {"choices": [{"code": "OK", "label": {"zh-CN": "合格", "en": "OK"}}]},
    "multiselect": {"choices": [{"code": "OK", "label": {"zh-CN": "合格", "en": "OK"}}]},
    "radio": {"choices": [{"code": "OK", "label": {"zh-CN": "合格", "en": "OK"}}]},
    "serial": {"pattern": "NCR-{YYYY}-{0000}"},
    "reference": {"form": "supplier"},
    "lookup": {"reference": "supplier", "field": "name"},
    "formula": {"formula": "1 + 1"},
    "subtable": {"fields": [{"key": "qty", "type": "number", "label": {"zh-CN": "数量", "en": "Quantity"}}]},
}
TYPES = FIELD_TYPES.keys()


def minimal_field(key: str):
    return build_field({"key": "f", "type": key, "label": {"zh-CN": "字段", "en": "Field"}, **MINIMAL_OPTIONS.get(key, {})})


def test_registry_holds_every_product_type():
    expected = {"text", "textarea", "number", "date", "datetime", "select", "multiselect", "radio", "boolean",
                "user", "department", "attachment", "image", "signature", "barcode", "serial", "reference",
                "lookup", "subtable", "formula"}
    assert expected <= set(TYPES)


@pytest.mark.parametrize("key", TYPES)
def test_declares_key_labels_and_group(key):
    kind = field_type(key)
    assert isinstance(kind, FieldType)
    assert kind.type == key and IDENTIFIER.match(key)
    assert kind.label.zh.strip() and kind.label.en.strip() and kind.label.zh != kind.label.en
    assert kind.group in GROUPS


@pytest.mark.parametrize("key", TYPES)
def test_options_schema_is_valid_json_schema(key):
    kind = field_type(key)
    Draft202012Validator.check_schema({"type": "object", "properties": kind.options_schema})
    assert set(kind.required_options) <= set(kind.options_schema)
    assert set(kind.required_options) <= set(MINIMAL_OPTIONS.get(key, {})), "add a minimal example above"


@pytest.mark.parametrize("key", TYPES)
def test_minimal_field_has_type_storage_and_blank(key):
    kind, field = field_type(key), minimal_field(key)
    assert field is not None
    assert isinstance(kind.expr_type(field), ExprType)
    column = kind.storage(field)
    assert column is None or isinstance(column, Column)
    assert kind.is_blank(None)
    try:
        value = kind.coerce(field, None)
    except InvalidValue:  # pragma: no cover - a blank must never be an error
        pytest.fail(f"{key}: coerce(None) raised")
    assert value in (None, [])


@pytest.mark.parametrize("key", TYPES)
def test_garbage_input_is_refused_with_bilingual_message_or_accepted(key):
    kind, field = field_type(key), minimal_field(key)
    for junk in ({"a": object()}, [[1, 2]], float("nan"), object()):
        try:
            kind.coerce(field, junk)
        except InvalidValue as exc:
            assert exc.message.zh and exc.message.en and isinstance(exc, ValueError)


def test_unknown_type_names_the_known_ones():
    with pytest.raises(RegistryError) as info:
        field_type("colour")
    assert "colour" in str(info.value) and "number" in str(info.value)


def test_duplicate_registration_is_refused():
    with pytest.raises(RegistryError, match="already registered"):
        FIELD_TYPES.register("text", field_type("text"))
