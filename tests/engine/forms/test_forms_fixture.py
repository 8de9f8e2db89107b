"""The shared fixture with one field of every type: a realistic IQC record end to end."""
from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path

import pytest

from engine.definitions import load_form
from engine.errors import RecordValidationError
from engine.forms import blank_record, validate_record

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "definitions"
SUPPLIERS = {3: {"code": "ACME", "name": "Acme Precision", "grade": "A"}}


@pytest.fixture(scope="module")
def form():
    supplier = load_form(json.loads((FIXTURES / "supplier.json").read_text(encoding="utf-8")))
    data = json.loads((FIXTURES / "all_field_types.json").read_text(encoding="utf-8"))
    return load_form(data, known_forms={"supplier": supplier})


def lookups(reference_key, record_id):
    assert reference_key == "supplier"
    return SUPPLIERS.get(record_id)


GOOD = {
    "lot_no": "L-2026-001", "inspection_no": "typed by a user", "supplier": 3, "part_no": "P-100",
    "lot_size": 500, "sample_size": 50, "inspection_level": "II", "aql": "1.0",
    "received_at": "2026-03-15T08:30:00+08:00", "inspector": 7, "department": 2, "notified": [7, 8, 7],
    "defect_types": ["dimension"], "first_article": True,
    "coc": [{"id": "f1", "name": "coc.pdf", "content_type": "application/pdf", "size": 1000}],
    "photos": [], "signature": None, "remarks": None,
    "characteristics": [
        {"name": "Diameter", "nominal": 10, "lsl": 9.95, "usl": 10.05,
         "readings": [{"value": 10.01}, {"value": 9.99}, {"value": "10.02"}]},
    ],
}


def test_a_good_record_of_every_field_type(form, ctx):
    clean = validate_record(form, GOOD, ctx=ctx, lookups=lookups)
    assert clean["inspection_no"] is None                       # serial: produced by storage
    assert (clean["supplier_name"], clean["supplier_grade"]) == ("Acme Precision", "A")
    assert clean["received_at"] == dt.datetime(2026, 3, 15, 0, 30, tzinfo=dt.timezone.utc)
    assert clean["inspection_date"] == dt.date(2026, 3, 15)     # default TODAY()
    assert clean["notified"] == [7, 8]
    row = clean["characteristics"][0]
    assert [r["deviation"] for r in row["readings"]] == [0.01, -0.01, 0.02]
    assert row["mean"] == 10.0067 and row["result"] == "OK"
    assert (clean["ng_count"], clean["lot_result"]) == (0, "ACCEPT")


def test_rejected_lot_requires_remarks_and_signature(form, ctx, problems_of):
    bad_lot = copy.deepcopy(GOOD)
    bad_lot["characteristics"][0]["readings"].append({"value": 11})
    got = problems_of(validate_record, form, bad_lot, ctx=ctx, lookups=lookups)
    assert got == {"remarks": ["'Remarks' is required"], "signature": ["'Inspector signature' is required"]}


def test_many_problems_across_the_fixture(form, ctx, problems_of):
    data = {**GOOD, "lot_no": "l1", "supplier": 4, "sample_size": 600, "aql": "4.0",
            "received_at": "2026-03-15T08:30:00", "coc": [{"id": "f2", "name": "x.exe"}],
            "characteristics": [{"name": "D", "lsl": 2, "usl": 1, "readings": [{"value": None}, {"value": 1.5}]}]}
    got = problems_of(validate_record, form, data, ctx=ctx, lookups=lookups)
    assert set(got) == {"lot_no", "supplier", "lot_size", "sample_size", "aql", "received_at", "coc",
                        "characteristics[0].usl", "characteristics[0].readings[0].value",
                        "remarks", "signature"}    # the characteristic is NG, so the lot is rejected
    assert got["lot_no"] == ["'Lot number' needs at least 3 characters",
                             "'Lot number' is not in the required format"]
    assert got["sample_size"] == ["'Sample size' must be ≤ 500"]
    assert got["lot_size"] == ["The lot size cannot be smaller than the sample size"]


def test_empty_characteristics_break_min_rows(form, ctx, problems_of):
    got = problems_of(validate_record, form, {**GOOD, "characteristics": []}, ctx=ctx, lookups=lookups)
    assert got == {"characteristics": ["'Characteristics' needs at least 1 rows"]}


def test_blank_record_of_the_fixture(form, ctx):
    blank = blank_record(form, ctx)
    assert blank["inspection_level"] == "II" and blank["aql"] == "1.0" and blank["first_article"] is False
    assert blank["characteristics"] == [] and blank["lot_result"] == "ACCEPT"


def test_the_fixture_record_round_trips_as_old(form, ctx):
    stored = validate_record(form, GOOD, ctx=ctx, lookups=lookups)
    stored["characteristics"][0]["id"] = 1
    again = validate_record(form, {"lot_size": 400}, ctx=ctx, old=stored, partial=True, lookups=lookups)
    assert again["lot_size"] == 400 and again["characteristics"][0]["id"] == 1
    with pytest.raises(RecordValidationError):
        validate_record(form, {"lot_size": 10}, ctx=ctx, old=stored, partial=True, lookups=lookups)
