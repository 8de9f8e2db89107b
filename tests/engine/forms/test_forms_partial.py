"""PATCH semantics: only submitted fields change and are validated; formulas see merged values."""
from __future__ import annotations

import pytest

from engine.forms import validate_record


@pytest.fixture
def form(make_form, F):
    return make_form(
        F("lot_no", "text", "批号", "Lot number", required=True),
        F("lot_size", "number", "批量", "Lot size", min=1),
        F("sample", "number"),
        F("rate", "formula", formula="IF(lot_size > 0, sample / lot_size, 0)"),
        F("items", "subtable", fields=[
            F("qty", "number", "数量", "Qty", required=True),
            F("note", "text"),
            F("twice", "formula", formula="qty * 2"),
        ]),
        F("total", "formula", formula="SUM(items.qty)"),
    )


@pytest.fixture
def old(form):
    stored = validate_record(form, {"lot_no": "L1", "lot_size": 100, "sample": 10,
                                    "items": [{"qty": 1, "note": "a"}]})
    stored["items"][0]["id"] = 11
    return stored


def test_partial_changes_only_submitted_fields_and_recomputes(form, old):
    clean = validate_record(form, {"sample": 20}, old=old, partial=True)
    assert clean["lot_no"] == "L1" and clean["lot_size"] == 100 and clean["sample"] == 20
    assert clean["rate"] == pytest.approx(0.2)
    assert clean["items"] == [{"id": 11, "qty": 1, "note": "a", "twice": 2}]
    assert clean["total"] == 1


def test_partial_validates_only_what_was_submitted(form, problems_of):
    stored = {"lot_no": None, "lot_size": 0, "sample": 1, "items": [{"id": 3, "qty": None}]}
    assert validate_record(form, {"sample": 2}, old=stored, partial=True)["sample"] == 2
    got = problems_of(validate_record, form, {"lot_size": 0, "lot_no": ""}, old=stored, partial=True)
    assert got == {"lot_no": ["'Lot number' is required"], "lot_size": ["'Lot size' must be ≥ 1"]}


def test_full_update_treats_missing_fields_as_blank(form, old, problems_of):
    assert problems_of(validate_record, form, {"sample": 3}, old=old) == \
        {"lot_no": ["'Lot number' is required"]}


def test_partial_rows_with_ids_merge_with_the_stored_row(form, old):
    clean = validate_record(form, {"items": [{"id": 11, "qty": 5}, {"qty": 2}]}, old=old, partial=True)
    assert clean["items"] == [{"id": 11, "qty": 5, "note": "a", "twice": 10},
                              {"qty": 2, "note": None, "twice": 4}]
    assert clean["total"] == 7


def test_partial_submitted_subtable_replaces_the_rows(form, old):
    clean = validate_record(form, {"items": []}, old=old, partial=True)
    assert clean["items"] == [] and clean["total"] == 0


def test_partial_new_rows_are_fully_validated(form, old, problems_of):
    got = problems_of(validate_record, form, {"items": [{"note": "x"}]}, old=old, partial=True)
    assert got == {"items[0].qty": ["'Qty' is required"]}


def test_old_is_not_modified(form, old):
    before = repr(old)
    validate_record(form, {"sample": 50, "items": [{"id": 11, "qty": 9}]}, old=old, partial=True)
    assert repr(old) == before
