"""Defaults (create only, new rows too), readonly fields, blank_record."""
from __future__ import annotations

import datetime as dt

import pytest

from engine.forms import blank_record, validate_record


@pytest.fixture
def form(make_form, F):
    return make_form(
        F("level", "text", default="II"),
        F("inspected_on", "date", default={"expr": "TODAY()"}),
        F("inspector", "user", default={"expr": "CURRENT_USER()"}),
        F("stage", "text", "阶段", "Stage", readonly=True, default="open"),
        F("sample", "number"),
        F("items", "subtable", fields=[
            F("qty", "number", default=1),
            F("unit", "text", default={"expr": "level"}),
        ]),
    )


def test_defaults_fill_blanks_on_create(form, ctx):
    clean = validate_record(form, {"items": [{}]}, ctx=ctx)
    assert clean["level"] == "II"
    assert clean["inspected_on"] == dt.date(2026, 3, 15)
    assert clean["inspector"] == 7
    assert clean["items"] == [{"qty": 1, "unit": "II"}]


def test_submitted_values_win_over_defaults(form, ctx):
    clean = validate_record(form, {"level": "III", "items": [{"qty": 4}]}, ctx=ctx)
    assert clean["level"] == "III" and clean["items"] == [{"qty": 4, "unit": "III"}]


def test_defaults_do_not_refill_blanks_on_update(form, ctx):
    old = validate_record(form, {}, ctx=ctx)
    clean = validate_record(form, {"level": None}, ctx=ctx, old=old)
    assert clean["level"] is None


def test_new_rows_added_on_update_get_defaults(form, ctx):
    old = {**validate_record(form, {}, ctx=ctx), "items": [{"id": 5, "qty": None, "unit": None}]}
    clean = validate_record(form, {"items": [{"id": 5}, {}]}, ctx=ctx, old=old, partial=True)
    assert clean["items"] == [{"id": 5, "qty": None, "unit": None}, {"qty": 1, "unit": "II"}]


def test_readonly_takes_the_default_on_create_whatever_is_submitted(form, ctx):
    assert validate_record(form, {"stage": "closed"}, ctx=ctx)["stage"] == "open"


def test_readonly_keeps_the_stored_value_on_update(form, ctx):
    old = {**validate_record(form, {}, ctx=ctx), "stage": "approved"}
    assert validate_record(form, {"stage": 12}, ctx=ctx, old=old)["stage"] == "approved"


def test_readonly_by_expression_judged_on_the_stored_record(make_form, F):
    form = make_form(F("closed", "boolean"),
                     F("remark", "text", readonly={"expr": "closed"}, min_length=3))
    old = {"closed": True, "remark": "kept"}
    # the update reopens the record but the remark was readonly when it was edited
    assert validate_record(form, {"closed": False, "remark": "no"}, old=old) == \
        {"closed": False, "remark": "kept"}
    assert validate_record(form, {"closed": True, "remark": "new"}, old={"closed": False}) == \
        {"closed": True, "remark": "new"}


def test_readonly_by_expression_on_create(make_form, F):
    form = make_form(F("kind", "text"), F("code", "text", readonly={"expr": 'kind = "auto"'}, default="A-1"))
    assert validate_record(form, {"kind": "auto", "code": "X"})["code"] == "A-1"
    assert validate_record(form, {"kind": "manual", "code": "X"})["code"] == "X"


def test_readonly_values_are_not_validated(make_form, F):
    form = make_form(F("n", "number", readonly=True, min=10))
    assert validate_record(form, {"n": "garbage"}, old={"n": 3}) == {"n": 3}


def test_readonly_subtable_keeps_its_rows(make_form, F):
    form = make_form(F("items", "subtable", readonly=True, fields=[F("qty", "number")]))
    old = {"items": [{"id": 1, "qty": 2}]}
    assert validate_record(form, {"items": [{"qty": 9}]}, old=old)["items"] == [{"id": 1, "qty": 2}]
    assert validate_record(form, {"items": [{"qty": 9}]})["items"] == []


def test_blank_record_for_a_new_record_page(form, iqc_form, ctx):
    blank = blank_record(form, ctx)
    assert blank == {"level": "II", "inspected_on": dt.date(2026, 3, 15), "inspector": 7,
                     "stage": "open", "sample": None, "items": []}
    iqc = blank_record(iqc_form, ctx)
    assert iqc["characteristics"] == [] and iqc["ng_items"] == 0 and iqc["verdict"] == "accept"


def test_mutable_defaults_are_not_shared(make_form, F):
    choices = [{"code": c, "label": {"zh-CN": c, "en": c}} for c in "AB"]
    form = make_form(F("tags", "multiselect", choices=choices, default=["A"]))
    first = validate_record(form, {})
    first["tags"].append("B")
    assert validate_record(form, {})["tags"] == ["A"]
