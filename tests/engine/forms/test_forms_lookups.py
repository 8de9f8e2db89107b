"""References and lookups through the service's ``lookups`` callable."""
from __future__ import annotations

import pytest

from engine.forms import validate_record

SUPPLIERS = {1: {"name": "Acme", "grade": "A"}, 2: {"name": "Bolt Co", "grade": "C"}}


@pytest.fixture
def calls():
    return []


@pytest.fixture
def lookups(calls):
    def fetch(reference_key, record_id):
        calls.append((reference_key, record_id))
        return SUPPLIERS.get(record_id)
    return fetch


@pytest.fixture
def form(make_form, F):
    return make_form(
        F("supplier", "reference", "供应商", "Supplier", form="supplier"),
        F("supplier_name", "lookup", reference="supplier", field="name"),
        F("grade", "lookup", reference="supplier", field="grade"),
        F("strict", "formula", formula='grade = "C"'),
        F("parts", "subtable", fields=[
            F("maker", "reference", "制造商", "Maker", form="supplier"),
            F("maker_name", "lookup", reference="maker", field="name"),
        ]),
    )


def test_lookup_fields_take_the_target_values(form, lookups):
    clean = validate_record(form, {"supplier": 2, "parts": [{"maker": 1}, {"maker": 2}]}, lookups=lookups)
    assert (clean["supplier_name"], clean["grade"], clean["strict"]) == ("Bolt Co", "C", True)
    assert [p["maker_name"] for p in clean["parts"]] == ["Acme", "Bolt Co"]


def test_each_target_is_fetched_once(form, lookups, calls):
    validate_record(form, {"supplier": 1, "parts": [{"maker": 1}, {"maker": 1}]}, lookups=lookups)
    assert sorted(calls) == [("parts.maker", 1), ("supplier", 1)]


def test_unknown_reference_is_a_problem_on_the_reference_field(form, lookups, problems_of):
    got = problems_of(validate_record, form, {"supplier": 99, "parts": [{"maker": 1}, {"maker": 98}]},
                      lookups=lookups)
    assert got == {"supplier": ["'Supplier': the referenced record 99 does not exist"],
                   "parts[1].maker": ["'Maker': the referenced record 98 does not exist"]}


def test_lookup_input_is_ignored(form, lookups):
    assert validate_record(form, {"supplier": 1, "grade": "Z"}, lookups=lookups)["grade"] == "A"


def test_unchanged_reference_to_a_vanished_record_keeps_the_stored_values(form):
    old = {"supplier": 5, "supplier_name": "Gone Ltd", "grade": "B", "strict": False, "parts": []}
    clean = validate_record(form, {"supplier": 5}, old=old, partial=True, lookups=lambda k, i: None)
    assert (clean["supplier_name"], clean["grade"]) == ("Gone Ltd", "B")


def test_without_a_lookups_callable_changed_references_clear_lookups(form):
    old = {"supplier": 5, "supplier_name": "Gone Ltd", "grade": "B", "strict": False, "parts": []}
    assert validate_record(form, {"supplier": 5}, old=old, partial=True)["grade"] == "B"
    assert validate_record(form, {"supplier": 6}, old=old, partial=True)["grade"] is None
