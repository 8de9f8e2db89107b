"""Trying expressions against forms and drafts (shared by the API and the designer's expression editor)."""
from __future__ import annotations

import pytest

from engine.errors import RecordValidationError
from engine.expressions import EvalContext
from engine.services import expression_trial as trial


def L(zh, en):
    return {"zh-CN": zh, "en": en}


FORM = {"format": 1, "key": "lot", "label": L("批次", "Lot"), "fields": [
    {"key": "qty", "type": "number", "label": L("数量", "Qty")},
    {"key": "bad", "type": "number", "label": L("不良", "Bad")},
    {"key": "rate", "type": "formula", "label": L("不良率", "Rate"), "formula": "bad / qty"},
    {"key": "rows", "type": "subtable", "label": L("行", "Rows"), "fields": [
        {"key": "v", "type": "number", "label": L("值", "Value")}]}]}


def test_a_valid_form_loads_without_problems():
    form, problems = trial.lenient_form(FORM)
    assert problems == [] and form.field("rate") is not None


def test_a_broken_draft_keeps_its_usable_fields_and_lists_problems():
    draft = {**FORM, "fields": FORM["fields"] + [{"key": "X y", "type": "nope"}, "junk"]}
    form, problems = trial.lenient_form(draft)
    assert problems and [f.key for f in form.fields][:2] == ["qty", "bad"]
    assert trial.check_source("qty + bad", trial.target(form, None))["ok"] is True


def test_not_even_an_object_gives_an_empty_form():
    form, problems = trial.lenient_form(["nope"])
    assert problems and form.fields == ()


def test_expected_type_and_end_columns():
    where = trial.target(trial.lenient_form(FORM)[0], None)
    result = trial.check_source("qty * 2", where, "boolean", lang="en")
    assert result["ok"] is False and result["type"] == "number" and "boolean" in result["errors"][0]["message"]
    unknown = trial.check_source("qty + ghost_field", where)["errors"][0]
    assert (unknown["column"], unknown["end_column"]) == (7, 18)
    assert trial.token_end('a & "xy"', 1, 5) == 9 and trial.token_end("a", 3, 1) is None


def test_row_scope_and_unknown_sub_table():
    form = trial.lenient_form(FORM)[0]
    assert trial.check_source("v * qty", trial.target(form, "rows"))["ok"] is True
    with pytest.raises(trial.TrialInputError):
        trial.target(form, "qty")


def test_evaluate_computes_formulas_and_reports_bad_samples():
    where = trial.target(trial.lenient_form(FORM)[0], None)
    assert trial.evaluate_source("rate * 100", where, {"qty": "4", "bad": 1}, EvalContext()) == (25.0, "number")
    with pytest.raises(RecordValidationError):
        trial.evaluate_source("qty", where, {"qty": "many"}, EvalContext())
    assert trial.evaluate_source("x & \"!\"", trial.target(None, None), {"x": "hi"}, EvalContext()) == ("hi!", "text")
