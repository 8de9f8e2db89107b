"""Layer 1: the shipped JSON Schemas and their bilingual messages."""
from __future__ import annotations

import json

import pytest
from jsonschema import Draft202012Validator

from tests.engine.definitions.defbuild import app, fld, form
from engine.definitions import check_definition
from engine.definitions import field_schema
from engine.definitions.schema import SCHEMA_FILES, load_schema


def test_field_schema_is_up_to_date():
    shipped = field_schema.SCHEMA_FILE.read_text(encoding="utf-8")
    assert shipped == field_schema.render(), (
        "engine/definitions/schemas/field.schema.json is stale; regenerate it with: "
        "python -m engine.definitions.field_schema")


@pytest.mark.parametrize("name", SCHEMA_FILES)
def test_shipped_schemas_are_valid_draft_2020_12(name):
    schema = load_schema(name)
    Draft202012Validator.check_schema(schema)
    assert schema["$id"].endswith(name)


def test_field_schema_knows_every_type_and_its_options():
    schema = json.loads(field_schema.render())
    number_rule = next(r for r in schema["allOf"] if r["if"]["properties"]["type"]["const"] == "number")
    assert "precision" in number_rule["then"]["properties"]
    assert number_rule["then"]["additionalProperties"] is False


def paths_and_en(data, kind="form"):
    return [(p.path, p.message.en) for p in check_definition(data, kind=kind)]


def test_non_object_inputs_are_problems_not_crashes():
    for junk in (None, [], "form", 3, 2.5, True):
        problems = check_definition(junk)
        assert [p.path for p in problems] == ["$"] and "Expected an object" in problems[0].message.en


def test_required_properties_each_get_their_own_path():
    assert paths_and_en({"fields": []}) == [("$.key", "'key' is required"), ("$.label", "'label' is required")]


def test_unknown_property_names_the_allowed_ones():
    [(path, en)] = paths_and_en(form(fld("qty", "number", choices=[])))
    assert path == "$.fields[0].choices"
    assert en.startswith("A field of type 'number' has no property 'choices'; allowed:") and "precision" in en


def test_type_enum_minimum_and_max_length_messages():
    data = form(fld("qty", "number", precision=11), fld("note", "text", indexed="yes"), fld("bad", "shape"),
                label={"zh-CN": "表" * 201, "en": "Form"})
    problems = check_definition(data)
    found = {p.path: p.message for p in problems}
    assert found["$.fields[0].precision"].en == "11 must be at most 10"
    assert found["$.fields[0].precision"].zh == "11 不能大于 10"
    assert found["$.fields[1].indexed"].en == "Expected true/false, got text"
    assert found["$.fields[2].type"].en.startswith("Unknown field type; known types: text, textarea")
    assert found['$.label["zh-CN"]'].en == "At most 200 characters (got 201)"
    assert len(problems) == 4


def test_expression_objects_and_flags():
    data = form(fld("a", required="yes"), fld("b", visible={"expr": ""}), fld("c", default={"exp": "1"}))
    found = dict(paths_and_en(data))
    assert found["$.fields[0].required"] == "Expected true/false or {\"expr\": \"…\"} (got \"yes\")"
    assert found["$.fields[1].visible"].startswith("Expected true/false or")
    assert found["$.fields[2].default.expr"] == "'expr' is required"
    assert found["$.fields[2].default.exp"].startswith("Unknown property 'exp'")


def test_sub_table_columns_are_validated_recursively():
    data = form(fld("items", "subtable", fields=[fld("qty", "number", precision=-1)]))
    assert paths_and_en(data) == [("$.fields[0].fields[0].precision", "-1 must be at least 0")]
    assert paths_and_en(form(fld("items", "subtable", fields=[]))) == [("$.fields[0].fields", "Must not be an empty list")]


def test_required_type_options():
    assert paths_and_en(form(fld("r", "select"))) == [("$.fields[0].choices", "'choices' is required")]


def test_app_package_shape_and_slots():
    data = app(form(fld("a")), flows=[{"key": "review", "label": {"zh-CN": "评审", "en": "Review"}, "nodes": []}],
               roles=[{"label": {"zh-CN": "检验员", "en": "Inspector"}}], extra=1, version="v1")
    assert paths_and_en(data, kind="app") == [
        ("$.extra", "Unknown property 'extra'; allowed: format, key, version, label, description, forms, flows, rules, "
                    "reports, dashboards, roles, requires"),
        ("$.roles[0].key", "'key' is required"),
        ("$.version", "A version must be a semantic version such as 1.0.0 (got \"v1\")"),
    ]


def test_absurdly_deep_input_is_one_clear_problem():
    data = form(fld("a"), layout={})
    node = data["layout"]
    for _ in range(5000):
        node["section"] = {}
        node = node["section"]
    [problem] = check_definition(data)
    assert problem.path.startswith("$.layout.section.section")
    assert "nested too deeply" in problem.message.en and "嵌套层数过多" in problem.message.zh
