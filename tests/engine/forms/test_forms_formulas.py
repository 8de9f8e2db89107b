"""Formulas at every level, in dependency order; failures are problems; compute_formulas."""
from __future__ import annotations

import pytest

from engine.errors import RecordValidationError
from engine.forms import compute_formulas, validate_record
from engine.forms.plan import describe, plan_for

LOT = {
    "lot_no": "AB-0001", "lot_size": 500,
    "characteristics": [
        {"name": "Diameter", "lsl": 9.9, "usl": 10.1,
         "readings": [{"value": 10.0}, {"value": 10.02}, {"value": 9.98}]},
        {"name": "Length", "lsl": 49.5, "usl": 50.5,
         "readings": [{"value": 50.0}, {"value": 50.7}]},
    ],
}


def test_nested_formulas_three_levels(iqc_form, ctx):
    clean = validate_record(iqc_form, LOT, ctx=ctx)
    diameter, length = clean["characteristics"]
    assert [r["ok"] for r in diameter["readings"]] == ["OK", "OK", "OK"]
    assert [r["ok"] for r in length["readings"]] == ["OK", "NG"]
    assert diameter["mean"] == pytest.approx(10.0)
    assert length["mean"] == pytest.approx(50.35)
    assert (diameter["ng_count"], diameter["result"]) == (0, "OK")
    assert (length["ng_count"], length["result"]) == (1, "NG")
    assert clean["ng_items"] == 1
    assert clean["verdict"] == "reject"


def test_formula_order_follows_dependencies_innermost_first(iqc_form):
    order = describe(plan_for(iqc_form))["formulas"]
    assert order.index("characteristics.readings.ok") < order.index("characteristics.ng_count")
    assert order.index("characteristics.ng_count") < order.index("characteristics.result")
    assert order.index("characteristics.result") < order.index("ng_items") < order.index("verdict")
    assert order.index("characteristics.readings.ok") < order.index("characteristics.mean")


def test_the_plan_is_cached_per_form_object(iqc_form):
    assert plan_for(iqc_form) is plan_for(iqc_form)


def test_formulas_recompute_over_an_accept(iqc_form, ctx):
    lot = {**LOT, "characteristics": [LOT["characteristics"][0]]}
    clean = validate_record(iqc_form, lot, ctx=ctx)
    assert (clean["ng_items"], clean["verdict"]) == (0, "accept")


def test_a_formula_failing_on_the_data_is_blank_and_does_not_block_saving(make_form, F):
    """#VALUE!/#DIV/0! depend on data still being entered: the formula is blank, like an empty cell."""
    form = make_form(F("text_value", "text"),
                     F("as_number", "formula", "数值", "As number", formula="VALUE(text_value) * 2"),
                     F("per_unit", "formula", formula="2 / COUNT(text_value)"))
    assert validate_record(form, {"text_value": "21"})["as_number"] == 42
    clean = validate_record(form, {"text_value": "abc"})
    assert clean["as_number"] is None and clean["per_unit"] is None


def test_a_failing_formula_in_a_row_is_blank_only_in_that_row(make_form, F):
    form = make_form(F("items", "subtable", fields=[
        F("t", "text"), F("n", "formula", "数", "N", formula="VALUE(t)")]))
    clean = validate_record(form, {"items": [{"t": "1"}, {"t": "x"}]})
    assert [row["n"] for row in clean["items"]] == [1, None]


def test_formula_precision_rounds_the_result(make_form, F):
    form = make_form(F("a", "number", precision=2),
                     F("third", "formula", formula="a / 3", precision=2))
    assert validate_record(form, {"a": 1})["third"] == 0.33


def test_row_formula_reads_parent_values(make_form, F):
    form = make_form(F("factor", "number"),
                     F("items", "subtable", fields=[
                         F("qty", "number"), F("scaled", "formula", formula="qty * factor")]))
    clean = validate_record(form, {"factor": 3, "items": [{"qty": 2}, {"qty": 5}]})
    assert [r["scaled"] for r in clean["items"]] == [6, 15]


def test_validation_rules_see_formula_results(make_form, F, problems_of):
    rule = {"expr": "total <= 10", "message": {"zh-CN": "合计超过 10", "en": "Total above 10"}}
    form = make_form(F("items", "subtable", fields=[F("qty", "number")]),
                     F("total", "formula", formula="SUM(items.qty)", validations=[rule]))
    assert problems_of(validate_record, form, {"items": [{"qty": 6}, {"qty": 6}]}) == \
        {"total": ["Total above 10"]}


def test_compute_formulas_on_stored_values(iqc_form, ctx):
    stored = validate_record(iqc_form, LOT, ctx=ctx)
    stored["characteristics"][1]["readings"][1]["value"] = 50.1
    again = compute_formulas(iqc_form, stored, ctx)
    assert again["verdict"] == "accept"
    assert stored["verdict"] == "reject"                      # the input is not modified
    assert again["characteristics"][1]["readings"][1]["ok"] == "OK"


def test_compute_formulas_keeps_row_ids(iqc_form, ctx):
    stored = {"lot_no": "AB-0001", "lot_size": 5, "characteristics": [
        {"id": 4, "name": "D", "lsl": 1, "usl": 2, "readings": [{"id": 9, "value": 3}]}]}
    again = compute_formulas(iqc_form, stored, ctx)
    row = again["characteristics"][0]
    assert row["id"] == 4 and row["readings"][0] == {"id": 9, "value": 3, "ok": "NG"}
    assert again["verdict"] == "reject"


def test_row_formula_using_a_parent_aggregate(make_form, F):
    form = make_form(F("items", "subtable", fields=[
                         F("qty", "number"), F("share", "formula", formula="qty / total", precision=2)]),
                     F("total", "formula", formula="SUM(items.qty)"))
    clean = validate_record(form, {"items": [{"qty": 1}, {"qty": 3}]})
    assert clean["total"] == 4 and [r["share"] for r in clean["items"]] == [0.25, 0.75]
