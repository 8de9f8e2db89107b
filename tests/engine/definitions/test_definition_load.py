"""load_form / load_app build frozen dataclasses; scopes are cached; format upgrades run first."""
from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from tests.engine.definitions.defbuild import CHOICES, app, fld, form
from engine.definitions import check_definition, form_scope, load_app, load_form, row_scope, upgrades
from engine.definitions.model import Expr, ValidationRule
from engine.errors import DefinitionError
from engine.expressions.types import NUMBER, Scope
from engine.i18n import Msg


def test_load_form_builds_frozen_definition():
    data = form(fld("qty", "number", precision=2, unit="kg", min=0, max={"expr": "limit"}, required=True,
                    validations=[{"expr": "qty > 0", "message": {"zh-CN": "须大于 0", "en": "Must be positive"}}],
                    help={"zh-CN": "实测重量", "en": "Measured weight"}),
                fld("limit", "number"), fld("due", "date", default="2026-03-01"),
                fld("result", "select", choices=CHOICES), numbering="NCR-{YYYY}-{0000}")
    loaded = load_form(data)
    qty = loaded.field("qty")
    assert qty.options["precision"] == 2 and qty.option("unit") == "kg"
    assert qty.max == Expr("limit") and qty.min == 0 and qty.required is True
    assert qty.validations == (ValidationRule("qty > 0", Msg("须大于 0", "Must be positive")),)
    assert qty.help == Msg("实测重量", "Measured weight")
    assert loaded.field("due").default == date(2026, 3, 1)
    assert loaded.field("result").option("choices")[1]["code"] == "NG"
    assert loaded.numbering == "NCR-{YYYY}-{0000}" and loaded.version == 0 and loaded.format == 1
    with pytest.raises(TypeError):
        qty.options["precision"] = 3
    with pytest.raises(dataclasses.FrozenInstanceError):
        qty.key = "other"


def test_defaults_from_option_schemas_are_filled():
    loaded = load_form(form(fld("qty", "number"), fld("who", "user"), fld("files", "attachment")))
    assert loaded.field("qty").option("precision") == 0
    assert loaded.field("who").option("multiple") is False
    assert loaded.field("files").option("multiple") is True


def test_raw_is_a_private_copy_of_the_original():
    data = form(fld("a"))
    loaded = load_form(data)
    data["fields"].append(fld("b"))
    assert loaded.to_dict() == form(fld("a"))
    loaded.to_dict()["fields"].clear()
    assert len(loaded.to_dict()["fields"]) == 1


def test_load_form_raises_with_every_problem():
    with pytest.raises(DefinitionError) as info:
        load_form(form(fld("status"), fld("a", "number", min=2, max=1)))
    assert [p.path for p in info.value.problems] == ["$.fields[0].key", "$.fields[1].min"]
    assert "2" in info.value.message.en and "2" in info.value.message.zh


def test_load_app_with_cross_form_lookup(supplier_def):
    ncr = form(fld("supplier", "reference", form="supplier"), fld("grade", "lookup", reference="supplier", field="grade"))
    package = load_app(app(supplier_def, ncr, reports=[{"key": "ppm", "label": {"zh-CN": "PPM", "en": "PPM"}}]))
    assert package.version == "1.0.0" and [f.key for f in package.forms] == ["supplier", "ncr"]
    assert package.form("ncr").field("grade").option("target").type == "select"
    assert package.reports[0]["key"] == "ppm"
    with pytest.raises(DefinitionError):
        load_app(app(ncr))


def test_form_scope_is_cached_per_form_and_hashable():
    loaded = load_form(form(fld("qty", "number"), fld("items", "subtable", fields=[fld("n", "number")])))
    first = form_scope(loaded)
    assert form_scope(loaded) is first
    assert hash(first) == hash(form_scope(load_form(loaded.to_dict())))
    assert row_scope(loaded, ("items",)) is row_scope(loaded, "items")
    assert isinstance(first.lookup("items"), Scope) and first.lookup("created_at") is not None


def test_row_scope_of_an_unknown_sub_table():
    loaded = load_form(form(fld("items", "subtable", fields=[fld("n", "number")])))
    with pytest.raises(KeyError, match="no sub-table 'lines'; sub-tables: items"):
        row_scope(loaded, "lines")


def test_formula_types_are_inferred_through_other_formulas():
    loaded = load_form(form(fld("c", "formula", formula="b * 2"), fld("b", "formula", formula="a + 1"),
                            fld("a", "number")))
    assert loaded.field("c").option("result_type") == NUMBER


def test_format_newer_than_supported_is_one_clear_problem():
    problems = check_definition(form(fld("a"), format=upgrades.CURRENT_FORMAT + 1))
    assert [p.path for p in problems] == ["$.format"]
    assert "newer than this engine supports" in problems[0].message.en and "更新" in problems[0].message.zh


def test_format_must_be_a_positive_whole_number():
    assert [p.path for p in check_definition(form(fld("a"), format="1"))] == ["$.format"]


def test_upgrade_chain_runs_before_checking(monkeypatch):
    def rename_name_to_key(data):   # a pretend format 1 → 2 change: fields used to say "name" for "key"
        fields = [{("key" if k == "name" else k): v for k, v in f.items()} for f in data["fields"]]
        return {**data, "fields": fields}
    monkeypatch.setattr(upgrades, "CURRENT_FORMAT", 2)
    monkeypatch.setitem(upgrades.UPGRADES, 1, rename_name_to_key)
    old = {"format": 1, "key": "ncr", "label": {"zh-CN": "报告", "en": "Report"},
           "fields": [{"name": "qty", "type": "number", "label": {"zh-CN": "数量", "en": "Quantity"}}]}
    assert check_definition(old) == []
    loaded = load_form(old)
    assert loaded.field("qty").type == "number" and loaded.format == 2 and loaded.to_dict()["format"] == 2
    assert old["format"] == 1 and "name" in old["fields"][0]          # the caller's dict is untouched


def test_missing_upgrade_step_is_a_problem(monkeypatch):
    monkeypatch.setattr(upgrades, "CURRENT_FORMAT", 3)
    monkeypatch.setitem(upgrades.UPGRADES, 1, lambda data: data)
    problems = check_definition(form(fld("a")))
    assert [(p.path, p.message.en) for p in problems] == [("$.format", "No upgrade from format 2 to 3")]


def test_lookup_typed_through_forms_given_to_the_scope(supplier_def):
    ncr = load_form(form(fld("supplier", "reference", form="supplier"),
                         fld("grade", "lookup", reference="supplier", field="grade"),
                         fld("since", "lookup", reference="supplier", field="approved_on")))
    assert ncr.field("grade").option("target") is None               # target unknown at load time
    assert str(form_scope(ncr).lookup("grade")) == "any"
    supplier = load_form(supplier_def)
    scope = form_scope(ncr, {"supplier": supplier})
    assert str(scope.lookup("grade")) == "text" and str(scope.lookup("since")) == "date"
    other = load_form({**supplier_def, "title_template": "{grade}",
                       "fields": [fld("grade", "number"), fld("approved_on", "number")]})
    assert str(form_scope(ncr, {"supplier": other}).lookup("grade")) == "number"   # no stale cache
    assert form_scope(ncr, {"supplier": supplier}) is scope


def test_lookup_of_a_formula_in_another_form(supplier_def):
    score = form(fld("ppm", "number"), fld("grade", "formula", formula="IF(ppm < 100, \"A\", \"B\")"), key="scorecard")
    ncr = form(fld("card", "reference", form="scorecard"), fld("grade", "lookup", reference="card", field="grade"))
    loaded = load_form(ncr, known_forms={"scorecard": score})
    assert str(loaded.field("grade").option("result_type")) == "text"
