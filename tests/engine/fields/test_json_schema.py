"""Contract: every registered field type gives a valid Draft 2020-12 schema of its JSON value that
accepts what ``coerce`` accepts (and the JSON the type gives back), and refuses clear nonsense."""
import pytest
from jsonschema import Draft202012Validator

from engine.definitions import load_form
from engine.fields import FIELD_TYPES, field_type


def _label(text: str) -> dict:
    return {"zh-CN": text + "（中）", "en": text}


CHOICES = [{"code": "OK", "label": _label("OK")}, {"code": "NG", "label": _label("NG")}]
FILE = {"id": "f1", "name": "coc.pdf", "content_type": "application/pdf", "size": 1200}
TARGET = {"format": 1, "key": "supplier", "label": _label("Supplier"),
          "fields": [{"key": "name", "type": "text", "label": _label("Name"), "max_length": 80},
                     {"key": "grade", "type": "select", "label": _label("Grade"), "choices": CHOICES}]}

# type → (extra definition properties, JSON values coerce accepts, values the schema must refuse)
CASES = {
    "text": ({"max_length": 5, "min_length": 2}, ["abc", "ab"], [12, "toolong", "a"]),
    "textarea": ({}, ["line 1\nline 2"], [3]),
    "barcode": ({}, ["4006381333931"], [True]),
    "number": ({"precision": 2, "min": 0, "max": 100, "unit": "mm"}, [12.5, 0, 100], ["x", -1, 100.5]),
    "date": ({}, ["2026-03-15"], [20260315]),
    "datetime": ({}, ["2026-03-15T08:30:00+08:00", "2026-03-15T00:30:00Z"], [1]),
    "select": ({"choices": CHOICES}, ["OK", "NG"], ["MAYBE", 1]),
    "radio": ({"choices": CHOICES}, ["NG"], ["ok"]),
    "multiselect": ({"choices": CHOICES}, [["OK", "NG"], ["NG"]], ["OK", ["OK", "BAD"]]),
    "boolean": ({}, [True, False], ["yes", 1]),
    "user": ({"multiple": True}, [[7, 8], [1]], [7, [0], ["x"]]),
    "department": ({}, [3], [[3], 0, "three"]),
    "attachment": ({"max_files": 2}, [[FILE], [FILE, dict(FILE, id="f2")], FILE], [[FILE] * 3, [{"name": "x"}], "f1"]),
    "image": ({}, [[dict(FILE, content_type="image/png", name="a.png")]], [7]),
    "signature": ({}, [[dict(FILE, content_type="image/png", name="s.png")]], [[FILE, FILE], "sig"]),
    "serial": ({"pattern": "NCR-{YYYY}-{0000}"}, ["NCR-2026-0001"], [5]),
    "reference": ({"form": "supplier"}, [42], [0, "S1"]),
    "lookup": ({"reference": "sup", "field": "grade"}, ["OK"], ["MAYBE"]),
    "formula": ({"formula": "qty * 2"}, [4, 2.5], ["four"]),
    "subtable": ({"max_rows": 2, "fields": [{"key": "name", "type": "text", "label": _label("Name")},
                                            {"key": "qty", "type": "number", "label": _label("Qty")}]},
                 [[{"name": "a", "qty": 1}], [{"name": "a"}, {"qty": 2}], []],
                 [[{"qty": "x"}], [{}, {}, {}], {"name": "a"}]),
}


def loaded_field(type_key: str):
    """The field ``f`` of a loaded form (beside a reference ``sup`` and a number ``qty`` it may use)."""
    extra = CASES[type_key][0]
    fields = [{"key": "qty", "type": "number", "label": _label("Qty")},
              {"key": "sup", "type": "reference", "form": "supplier", "label": _label("Supplier")},
              {"key": "f", "type": type_key, "label": _label("Field"), "help": _label("Help"), **extra}]
    form = load_form({"format": 1, "key": "probe", "label": _label("Probe"), "fields": fields},
                     known_forms={"supplier": load_form(TARGET)})
    return form.field("f")


def test_every_registered_type_is_covered():
    assert set(CASES) == set(FIELD_TYPES.keys())


@pytest.mark.parametrize("type_key", sorted(CASES))
def test_schema_is_valid_and_matches_coerce(type_key):
    field, ftype = loaded_field(type_key), field_type(type_key)
    schema = ftype.json_schema(field, "en")
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    _, good, bad = CASES[type_key]
    for value in good:
        clean = ftype.coerce(field, value)                            # raises if coerce refuses it
        assert validator.is_valid(value), (type_key, value)
        assert validator.is_valid(ftype.to_json(field, clean)), (type_key, clean)
    assert validator.is_valid(None)                                   # blank is allowed; "required" is checked on save
    for value in bad:
        assert not validator.is_valid(value), (type_key, value)


@pytest.mark.parametrize("type_key", sorted(CASES))
def test_titles_are_bilingual_and_computed_types_read_only(type_key):
    field, ftype = loaded_field(type_key), field_type(type_key)
    en, zh = ftype.json_schema(field, "en"), ftype.json_schema(field, "zh-CN")
    assert (en["title"], zh["title"], en["x-label-zh"], en["x-label-en"]) == ("Field", "Field（中）", "Field（中）", "Field")
    assert (en["description"], zh["description"]) == ("Help", "Help（中）")
    assert en.get("readOnly", False) == ftype.is_computed


def test_number_precision_decides_integer_or_number():
    field = loaded_field("number")
    assert field_type("number").json_schema(field)["type"] == ["number", "null"]
    integer = load_form({"format": 1, "key": "p", "label": _label("P"),
                         "fields": [{"key": "n", "type": "number", "label": _label("N"), "min": 1}]}).field("n")
    schema = field_type("number").json_schema(integer)
    assert (schema["type"], schema["minimum"]) == (["integer", "null"], 1) and "maximum" not in schema


def test_subtable_rows_use_their_columns_schemas_in_the_language_asked():
    schema = field_type("subtable").json_schema(loaded_field("subtable"), "zh-CN")
    columns = schema["items"]["properties"]
    assert columns["qty"]["type"] == ["integer", "null"] and columns["name"]["title"] == "Name（中）"
    assert columns["id"]["readOnly"] is True and schema["maxItems"] == 2


def test_expression_valued_limits_are_left_out():
    form = load_form({"format": 1, "key": "p", "label": _label("P"), "fields": [
        {"key": "usl", "type": "number", "label": _label("USL"), "precision": 2},
        {"key": "v", "type": "number", "label": _label("V"), "precision": 2, "max": {"expr": "usl"}}]})
    assert "maximum" not in field_type("number").json_schema(form.field("v"))
