"""The form designer's palette (GET /designer/api/field-types) is built from the field-type registry."""
from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator

from engine.definitions.checks import MAX_SUBTABLE_DEPTH
from engine.definitions.identifiers import IDENTIFIER_PATTERN, identifier_problem
from engine.fields import FIELD_TYPES
from tests.runtime.web_support import make_app, sign_in

URL = "/designer/api/field-types"


@pytest.fixture
def client(tmp_path):
    client = make_app(tmp_path).test_client()
    assert sign_in(client).status_code == 302
    return client


@pytest.fixture
def palette(client):
    res = client.get(URL)
    assert res.status_code == 200
    assert res.is_json
    return res.get_json()


def test_palette_lists_every_registered_type_in_registry_order(palette):
    assert [item["type"] for item in palette["items"]] == list(FIELD_TYPES.keys())


@pytest.mark.parametrize("key", FIELD_TYPES.keys())
def test_each_type_has_both_labels_a_group_and_an_option_schema(palette, key):
    item = next(i for i in palette["items"] if i["type"] == key)
    kind = FIELD_TYPES.get(key)
    assert item["label"] == {"zh-CN": kind.label.zh, "en": kind.label.en}
    assert item["label"]["zh-CN"].strip() and item["label"]["en"].strip()
    assert item["group"] == kind.group
    assert isinstance(item["options_schema"], dict)
    assert set(item["options_schema"]) == set(kind.options_schema)
    assert set(item["required_options"]) <= set(item["options_schema"])
    assert item["supports"] == sorted(kind.supports)
    assert item["is_subtable"] is bool(kind.is_subtable)
    assert item["is_computed"] is bool(kind.is_computed)
    assert item["icon"]
    # every option schema is a self-contained JSON Schema (shared references inlined)
    for name, schema in item["options_schema"].items():
        Draft202012Validator.check_schema(schema)
        assert "$ref" not in repr(schema), name


def test_shared_references_are_inlined(palette):
    select = next(i for i in palette["items"] if i["type"] == "select")
    label = select["options_schema"]["choices"]["items"]["properties"]["label"]
    assert label["required"] == ["zh-CN", "en"]
    reference = next(i for i in palette["items"] if i["type"] == "reference")
    assert reference["options_schema"]["form"]["pattern"].startswith("^[a-z]")


def test_groups_cover_every_item_with_both_labels(palette):
    keys = [g["key"] for g in palette["groups"]]
    assert len(keys) == len(set(keys))
    assert {i["group"] for i in palette["items"]} == set(keys)
    assert keys[0] == "basic"
    for group in palette["groups"]:
        assert group["label"]["zh-CN"] and group["label"]["en"]


def test_subtable_nesting_limit_comes_from_the_definition_checks(palette):
    assert palette["max_subtable_depth"] == MAX_SUBTABLE_DEPTH
    assert [i["type"] for i in palette["items"] if i["is_subtable"]] == ["subtable"]


def test_palette_needs_a_signed_in_user(tmp_path):
    res = make_app(tmp_path).test_client().get(URL)
    assert res.status_code in (302, 401)
    assert b"select" not in res.data


def test_key_rules_come_from_the_engine(palette):
    assert palette["key_pattern"] == IDENTIFIER_PATTERN
    assert "id" in palette["reserved_keys"] and "and" in palette["reserved_keys"]
    assert all(identifier_problem(key) is not None for key in palette["reserved_keys"])
