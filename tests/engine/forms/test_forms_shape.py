"""Input shape: objects, unknown keys, sub-tables as lists of objects, row ids, computed input."""
from __future__ import annotations

import pytest

from engine.errors import RecordValidationError
from engine.forms import validate_record


@pytest.fixture
def form(make_form, F):
    return make_form(
        F("lot_no", "text", "批号", "Lot number"),
        F("qty", "number", "数量", "Quantity"),
        F("total", "formula", "合计", "Total", formula="SUM(items.qty)"),
        F("items", "subtable", "明细", "Items", fields=[
            F("qty", "number", "数量", "Quantity"),
            F("double", "formula", "双倍", "Double", formula="qty * 2"),
        ]),
    )


@pytest.mark.parametrize("data", [None, [], "x", 3, [{"lot_no": "A"}]])
def test_non_object_payload_is_one_problem_on_the_record(form, data):
    with pytest.raises(RecordValidationError) as info:
        validate_record(form, data)
    [problem] = info.value.errors
    assert problem.field == ""
    assert "object" in problem.message.en and "对象" in problem.message.zh


def test_unknown_keys_are_problems_at_every_level(form, problems_of):
    got = problems_of(validate_record, form, {"lot_no": "A", "colour": "red",
                                              "items": [{"qty": 1, "size": 2}]})
    assert got == {"colour": ["Unknown field 'colour'"], "items[0].size": ["Unknown field 'size'"]}


def test_computed_fields_submitted_are_ignored_not_errors(form):
    clean = validate_record(form, {"qty": 1, "total": 999, "items": [{"qty": 4, "double": 0}]})
    assert clean["total"] == 4
    assert clean["items"] == [{"qty": 4, "double": 8}]


@pytest.mark.parametrize("items", ["rows", 5, {"qty": 1}, True])
def test_a_subtable_that_is_not_a_list_is_a_problem(form, problems_of, items):
    got = problems_of(validate_record, form, {"items": items})
    assert got == {"items": ["'Items' must be a list of rows (objects)"]}


def test_each_row_must_be_an_object(form, problems_of):
    got = problems_of(validate_record, form, {"items": [{"qty": 1}, 7, "x"]})
    assert set(got) == {"items[1]", "items[2]"}
    assert got["items[1]"] == ["Each row of 'Items' must be an object (field → value)"]


def test_null_subtable_is_no_rows(form):
    assert validate_record(form, {"items": None})["items"] == []


def test_result_has_every_stored_field(form):
    clean = validate_record(form, {})
    assert clean == {"lot_no": None, "qty": None, "total": 0, "items": []}


@pytest.mark.parametrize("bad", [0, -3, 1.5, "7", True])
def test_row_id_must_be_a_positive_int(form, problems_of, bad):
    old = {"items": [{"id": 7, "qty": 1}]}
    got = problems_of(validate_record, form, {"items": [{"id": bad, "qty": 1}]}, old=old)
    assert got == {"items[0].id": ["A row id in 'Items' must be a positive whole number"]}


def test_row_ids_are_kept_on_update_for_storage_to_match(form):
    old = {"lot_no": "A", "qty": 1, "total": 5, "items": [{"id": 7, "qty": 5, "double": 10}]}
    clean = validate_record(form, {"items": [{"id": 7, "qty": 6}, {"qty": 1}]}, old=old)
    assert clean["items"] == [{"id": 7, "qty": 6, "double": 12}, {"qty": 1, "double": 2}]


def test_row_ids_unknown_or_repeated_on_update_are_problems(form, problems_of):
    old = {"items": [{"id": 7, "qty": 5}]}
    got = problems_of(validate_record, form, {"items": [{"id": 7}, {"id": 7}, {"id": 8}]}, old=old)
    assert got == {"items[1].id": ["Row id 7 appears more than once in 'Items'"],
                   "items[2].id": ["'Items' has no row with id 8"]}


def test_row_ids_on_a_new_record_are_dropped(form):
    clean = validate_record(form, {"items": [{"id": 3, "qty": 1}]})
    assert clean["items"] == [{"qty": 1, "double": 2}]


def test_too_many_rows_is_one_problem_not_a_long_wait(form, problems_of):
    got = problems_of(validate_record, form, {"items": [{}] * 10_001})
    assert list(got) == ["items"] and "too many rows" in got["items"][0]
