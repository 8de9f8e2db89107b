"""Per-field rules: type coercion, required, min/max, lengths, pattern, options, validations, visible."""
from __future__ import annotations

import datetime as dt

import pytest

from engine.errors import RecordValidationError
from engine.forms import validate_record


def test_coercion_failure_names_the_field_in_both_languages(make_form, F):
    form = make_form(F("lot_size", "number", "批量", "Lot size"))
    with pytest.raises(RecordValidationError) as info:
        validate_record(form, {"lot_size": "lots"})
    [problem] = info.value.errors
    assert problem.field == "lot_size"
    assert problem.message.zh.startswith("「批量」")
    assert problem.message.en.startswith("'Lot size': ") and "number" in problem.message.en


def test_values_are_normalised(make_form, F):
    form = make_form(F("qty", "number", precision=0), F("size", "number", precision=2),
                     F("due", "date"), F("ok", "boolean"), F("note", "text"))
    clean = validate_record(form, {"qty": "12", "size": 1.005, "due": "2026-03-15",
                                   "ok": False, "note": "  x  "})
    assert clean == {"qty": 12, "size": 1.01, "due": dt.date(2026, 3, 15), "ok": False, "note": "x"}


def test_required_constant(make_form, F, problems_of):
    form = make_form(F("lot_no", "text", "批号", "Lot number", required=True))
    assert problems_of(validate_record, form, {"lot_no": "   "}) == {"lot_no": ["'Lot number' is required"]}
    assert problems_of(validate_record, form, {}) == {"lot_no": ["'Lot number' is required"]}
    assert validate_record(form, {"lot_no": "L1"}) == {"lot_no": "L1"}


def test_required_uses_the_type_blank_rule(make_form, F):
    form = make_form(F("ok", "boolean", required=True))
    assert validate_record(form, {"ok": False}) == {"ok": False}   # false is an answer, not blank


def test_required_message_in_chinese(make_form, F):
    form = make_form(F("lot_no", "text", "批号", "Lot number", required=True))
    with pytest.raises(RecordValidationError) as info:
        validate_record(form, {})
    assert info.value.errors[0].message.zh == "「批号」为必填项"


def test_required_by_expression(make_form, F, problems_of):
    form = make_form(F("result", "select", choices=[{"code": "OK", "label": {"zh-CN": "合格", "en": "OK"}},
                                                    {"code": "NG", "label": {"zh-CN": "不合格", "en": "NG"}}]),
                     F("reason", "text", "原因", "Reason", required={"expr": 'result = "NG"'}))
    assert problems_of(validate_record, form, {"result": "NG"}) == {"reason": ["'Reason' is required"]}
    assert validate_record(form, {"result": "OK"})["reason"] is None


def test_min_max_numbers_with_both_languages(make_form, F):
    form = make_form(F("lot_size", "number", "批量", "Lot size", min=1, max=500))
    with pytest.raises(RecordValidationError) as info:
        validate_record(form, {"lot_size": 0})
    [problem] = info.value.errors
    assert (problem.message.zh, problem.message.en) == ("「批量」必须 ≥ 1", "'Lot size' must be ≥ 1")
    with pytest.raises(RecordValidationError) as info:
        validate_record(form, {"lot_size": 501})
    assert info.value.errors[0].message.en == "'Lot size' must be ≤ 500"
    assert validate_record(form, {"lot_size": 500}) == {"lot_size": 500}


def test_min_max_by_expression(make_form, F, problems_of):
    form = make_form(F("lsl", "number", precision=2), F("usl", "number", "上限", "USL", precision=2,
                                                        min={"expr": "lsl"}))
    assert problems_of(validate_record, form, {"lsl": 2.5, "usl": 2}) == {"usl": ["'USL' must be ≥ 2.5"]}
    assert validate_record(form, {"lsl": None, "usl": 2})["usl"] == 2   # blank bound: not enforced


def test_min_max_dates(make_form, F, problems_of, ctx):
    form = make_form(F("received", "date"),
                     F("due", "date", "到期日", "Due", min={"expr": "received"}, max="2026-12-31"))
    got = problems_of(validate_record, form, {"received": "2026-03-10", "due": "2026-03-01"})
    assert got == {"due": ["'Due' must be ≥ 2026-03-10"]}
    got = problems_of(validate_record, form, {"due": "2027-01-01"})
    assert got == {"due": ["'Due' must be ≤ 2026-12-31"]}


def test_length_of_text(make_form, F, problems_of):
    form = make_form(F("code", "text", "代码", "Code", min_length=3, max_length=5))
    assert problems_of(validate_record, form, {"code": "ab"}) == {"code": ["'Code' needs at least 3 characters"]}
    assert "Code" in problems_of(validate_record, form, {"code": "abcdef"})["code"][0]
    assert validate_record(form, {"code": "abc"}) == {"code": "abc"}


def test_subtable_row_count_limits(make_form, F, problems_of):
    form = make_form(F("items", "subtable", "明细", "Items", min_rows=2, max_rows=3, fields=[F("qty", "number")]))
    assert problems_of(validate_record, form, {"items": [{"qty": 1}]}) == \
        {"items": ["'Items' needs at least 2 rows"]}
    assert problems_of(validate_record, form, {"items": [{}] * 4}) == \
        {"items": ["'Items' can have at most 3 rows"]}
    assert problems_of(validate_record, form, {}) == {"items": ["'Items' needs at least 2 rows"]}
    assert len(validate_record(form, {"items": [{}, {}]})["items"]) == 2


def test_pattern_must_match_the_whole_text(make_form, F, problems_of):
    form = make_form(F("lot_no", "text", "批号", "Lot number", pattern="[A-Z]{2}-\\d{4}"))
    assert validate_record(form, {"lot_no": "AB-1234"}) == {"lot_no": "AB-1234"}
    for bad in ("AB-12345", "xAB-1234", "ab-1234"):
        assert problems_of(validate_record, form, {"lot_no": bad}) == \
            {"lot_no": ["'Lot number' is not in the required format"]}


def test_options_are_checked_by_the_type(make_form, F, problems_of):
    form = make_form(F("result", "select", "结果", "Result",
                       choices=[{"code": "OK", "label": {"zh-CN": "合格", "en": "OK"}}]))
    got = problems_of(validate_record, form, {"result": "MAYBE"})
    assert list(got) == ["result"] and "MAYBE" in got["result"][0] and "OK" in got["result"][0]


def test_validation_rules_true_or_blank_pass(make_form, F, problems_of):
    rule = {"expr": "measured <= 10", "message": {"zh-CN": "测量值超出量程", "en": "Beyond gauge range"}}
    form = make_form(F("measured", "number", precision=2, validations=[rule]))
    assert problems_of(validate_record, form, {"measured": 11}) == {"measured": ["Beyond gauge range"]}
    assert validate_record(form, {"measured": 10}) == {"measured": 10}
    assert validate_record(form, {}) == {"measured": None}   # blank → rule result blank → passes


def test_hidden_fields_are_not_required_and_not_validated(make_form, F):
    rule = {"expr": 'LEN(reason) > 5', "message": {"zh-CN": "原因太短", "en": "Reason too short"}}
    form = make_form(F("result", "text"),
                     F("reason", "text", required=True, min_length=3, validations=[rule],
                       visible={"expr": 'result = "NG"'}))
    assert validate_record(form, {"result": "OK", "reason": "x"}) == {"result": "OK", "reason": "x"}


def test_visible_field_is_validated(make_form, F, problems_of):
    form = make_form(F("result", "text"),
                     F("reason", "text", "原因", "Reason", required=True, visible={"expr": 'result = "NG"'}))
    assert problems_of(validate_record, form, {"result": "NG"}) == {"reason": ["'Reason' is required"]}


def test_hidden_subtable_rows_are_not_validated(make_form, F):
    form = make_form(F("has_items", "boolean"),
                     F("items", "subtable", visible={"expr": "has_items"},
                       fields=[F("qty", "number", required=True)]))
    assert validate_record(form, {"has_items": False, "items": [{}]})["items"] == [{"qty": None}]


def test_a_wrongly_typed_value_is_reported_even_when_hidden(make_form, F, problems_of):
    form = make_form(F("qty", "number", "数量", "Qty", visible=False))
    assert list(problems_of(validate_record, form, {"qty": "many"})) == ["qty"]


def test_several_problems_on_one_field_are_all_reported(make_form, F, problems_of):
    rule = {"expr": 'LEFT(code, 1) = "Q"', "message": {"zh-CN": "须以 Q 开头", "en": "Must start with Q"}}
    form = make_form(F("code", "text", "代码", "Code", min_length=5, pattern="[A-Z]+", validations=[rule]))
    got = problems_of(validate_record, form, {"code": "ab"})
    assert got["code"] == ["'Code' needs at least 5 characters", "'Code' is not in the required format",
                           "Must start with Q"]


def test_a_condition_that_cannot_be_evaluated_is_a_problem_not_a_crash(make_form, F, problems_of):
    form = make_form(F("code", "text"),
                     F("remark", "text", "备注", "Remark", required={"expr": "VALUE(code) > 1"}),
                     F("qty", "number", "数量", "Qty", min={"expr": "VALUE(code)"}),
                     F("photo_count", "number", "照片数", "Photos", visible={"expr": "VALUE(code) > 0"},
                       required=True))
    got = problems_of(validate_record, form, {"code": "abc", "qty": 3})
    assert set(got) == {"remark", "qty", "photo_count"}
    assert [ms[0].split(" could not")[0] for ms in got.values()] == [
        "A condition of 'Remark'", "A condition of 'Qty'", "A condition of 'Photos'"]
    assert got["photo_count"][-1] == "'Photos' is required"   # unknown visibility: still checked


def test_a_readonly_condition_that_fails_keeps_the_stored_value(make_form, F, problems_of):
    form = make_form(F("code", "text"), F("remark", "text", readonly={"expr": "VALUE(code) > 1"}))
    got = problems_of(validate_record, form, {"code": "x", "remark": "new"}, old={"code": "abc", "remark": "old"})
    assert list(got) == ["remark"]
