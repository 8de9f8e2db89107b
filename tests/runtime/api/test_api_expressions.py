"""The designer's expression endpoints: check (type or every error with position) and evaluate."""
from __future__ import annotations

import pytest

from tests.runtime.api.support import bearer

CHECK, EVAL = "/api/v1/expressions/check", "/api/v1/expressions/evaluate"


@pytest.fixture()
def post(client, tenant_a):
    return lambda url, body, lang="en": client.post(url, json=body, headers=bearer(tenant_a.admin_token, lang))


def test_check_returns_the_type_against_the_forms_fields(post):
    res = post(CHECK, {"form": "inspection", "expression": "defects / qty > 0.1"})
    assert res.status_code == 200 and res.get_json() == {"ok": True, "type": "boolean", "errors": []}


def test_check_reports_errors_with_line_and_column(post):
    body = post(CHECK, {"form": "inspection", "expression": "qty +\n  nope"}).get_json()
    assert body["ok"] is False and body["type"] is None
    assert body["errors"][0]["line"] == 2 and body["errors"][0]["column"] == 3
    assert "nope" in body["errors"][0]["message"]


def test_check_without_a_form_knows_no_field_names(post):
    assert post(CHECK, {"expression": "ROUND(2.345, 2)"}).get_json()["type"] == "number"
    assert post(CHECK, {"expression": "qty * 2"}).get_json()["ok"] is False


def test_check_inside_a_sub_table_row(post):
    assert post(CHECK, {"form": "inspection", "table": "items", "expression": "value * qty"}).get_json()["ok"]
    assert post(CHECK, {"form": "inspection", "table": "nope", "expression": "1"}).status_code == 400


def test_check_of_an_unknown_form_is_404(post):
    assert post(CHECK, {"form": "unknown", "expression": "1"}).status_code == 404


def test_evaluate_reads_samples_like_record_input(post):
    res = post(EVAL, {"form": "inspection", "expression": "inspected_on + 1",
                      "data": {"inspected_on": "2024-02-28"}})
    assert res.status_code == 200 and res.get_json() == {"value": "2024-02-29", "type": "date"}


def test_evaluate_computes_formula_fields_from_the_sample(post):
    res = post(EVAL, {"form": "inspection", "expression": "rate * 100", "data": {"qty": 8, "defects": 2}})
    assert res.get_json() == {"value": 25.0, "type": "number"}


def test_evaluate_over_sub_table_rows(post):
    res = post(EVAL, {"form": "inspection", "expression": "SUM(items.value)",
                      "data": {"items": [{"value": 2}, {"value": 5}]}})
    assert res.get_json()["value"] == 7


def test_evaluate_without_a_form_types_names_from_the_sample(post):
    res = post(EVAL, {"expression": "x * 2", "data": {"x": 21}})
    assert res.get_json() == {"value": 42, "type": "number"}


def test_evaluate_datetimes_are_iso_8601_with_offset(post):
    value = post(EVAL, {"expression": "NOW()"}).get_json()["value"]
    assert "T" in value and value.endswith("+00:00")


def test_evaluate_errors_are_422_with_positions(post):
    res = post(EVAL, {"form": "inspection", "expression": "qty + \"a\"", "data": {}}, lang="zh-CN")
    body = res.get_json()
    assert res.status_code == 422 and body["errors"][0]["line"] == 1 and body["errors"][0]["column"] >= 1
    assert body["errors"][0]["message"]


def test_evaluate_reports_every_sample_value_that_does_not_fit(post):
    res = post(EVAL, {"form": "inspection", "expression": "qty",
                      "data": {"qty": "many", "inspected_on": "not a date", "ghost": 1}})
    assert res.status_code == 422
    assert {e["field"] for e in res.get_json()["errors"]} == {"qty", "inspected_on", "ghost"}


@pytest.mark.parametrize("body", [{}, {"expression": 5}, {"expression": "1", "form": 3},
                                  {"expression": "1", "data": [1]}])
def test_malformed_expression_requests_are_400(post, body):
    assert post(EVAL, body).status_code == 400
