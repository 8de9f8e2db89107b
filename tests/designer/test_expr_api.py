"""The expression editor's endpoints: the function catalog, live checks (positions, expected
type, unsaved drafts, sub-table rows) and "try it" — JSON only, tenant-isolated."""
from __future__ import annotations

import pytest

from engine.expressions import FUNCTIONS
from tests.designer.expr_support import L, build_site, inspection

CATALOG, CHECK, EVAL = ("/designer/api/expressions/catalog", "/designer/api/expressions/check",
                        "/designer/api/expressions/evaluate")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    return build_site(tmp_path_factory.mktemp("expr"))


@pytest.fixture
def admin(site):
    return site.client()


def test_catalog_lists_every_registered_function_with_help(admin):
    body = admin.get(CATALOG).get_json()
    names = [f["name"] for f in body["functions"]]
    assert sorted(names) == sorted(FUNCTIONS.keys())
    for item in body["functions"]:
        assert item["signature"].startswith(item["name"] + "(") and item["category"]
        assert item["doc"] and "\n" not in item["doc"] and len(item["doc"]) <= len(item["help"])
    assert {"serial_no", "created_at", "id"} <= {f["key"] for f in body["system_fields"]}


def test_catalog_speaks_the_users_language(site):
    zh = site.client(lang="zh-CN").get(CATALOG).get_json()
    en = site.client(lang="en").get(CATALOG).get_json()
    pick = lambda body: next(f for f in body["functions"] if f["name"] == "ROUND")["doc"]  # noqa: E731
    assert pick(zh) != pick(en)


def test_check_ok_gives_the_result_type(admin):
    res = admin.post(CHECK, json={"form": "inspection", "expression": "defects / qty > 0.1"})
    assert res.status_code == 200 and res.get_json() == {"ok": True, "type": "boolean", "errors": []}


def test_check_error_has_line_column_and_end_column(admin):
    body = admin.post(CHECK, json={"form": "inspection", "expression": "qty +\n  nope * 2"}).get_json()
    assert body["ok"] is False
    error = body["errors"][0]
    assert (error["line"], error["column"], error["end_column"]) == (2, 3, 7)
    assert "nope" in error["message"]


def test_check_expect_boolean_explains_in_the_users_language(site):
    body = site.client(lang="en").post(CHECK, json={"form": "inspection", "expression": "qty * 2",
                                                    "expect": "boolean"}).get_json()
    assert body["ok"] is False and body["type"] == "number"
    assert "boolean" in body["errors"][0]["message"] and body["errors"][0]["column"] == 1
    zh = site.client(lang="zh-CN").post(CHECK, json={"form": "inspection", "expression": "qty * 2",
                                                     "expect": "boolean"}).get_json()
    assert "布尔" in zh["errors"][0]["message"]
    assert site.client().post(CHECK, json={"form": "inspection", "expression": "qty > 2",
                                           "expect": "boolean"}).get_json()["ok"] is True


def test_check_against_an_unsaved_inline_definition(admin):
    draft = inspection("draft_form")
    draft["fields"].append({"key": "weight", "type": "number", "label": L("重量", "Weight")})
    body = admin.post(CHECK, json={"definition": draft, "expression": "weight * qty"}).get_json()
    assert body == {"ok": True, "type": "number", "errors": []}


def test_a_form_key_checks_against_the_saved_draft(admin):
    body = admin.post(CHECK, json={"form": "sheet", "expression": "weight * qty", "expect": "number"}).get_json()
    assert body == {"ok": True, "type": "number", "errors": []}
    assert admin.post(CHECK, json={"form": "inspection", "expression": "weight"}).get_json()["ok"] is False


def test_an_invalid_draft_still_checks_against_its_usable_fields(admin):
    draft = inspection("broken")
    draft["fields"].append({"key": "weight", "type": "number", "label": L("重量", "Weight")})
    draft["fields"].append({"key": "Bad Key", "type": "nonsense"})          # invalid elsewhere
    draft["fields"][3]["formula"] = "defects / "                             # a broken formula too
    assert admin.post(CHECK, json={"definition": draft, "expression": "weight + qty"}).get_json()["ok"] is True
    body = admin.post(CHECK, json={"definition": draft, "expression": "ghost + 1"}).get_json()
    assert body["ok"] is False and "ghost" in body["errors"][0]["message"]


def test_check_inside_a_sub_table_row(admin):
    ok = admin.post(CHECK, json={"form": "inspection", "table": "items", "expression": "value * qty"}).get_json()
    assert ok["ok"] is True and ok["type"] == "number"
    top = admin.post(CHECK, json={"form": "inspection", "expression": "value * qty"}).get_json()
    assert top["ok"] is False
    assert admin.post(CHECK, json={"form": "inspection", "expression": "SUM(items.value)"}).get_json()["ok"]
    res = admin.post(CHECK, json={"form": "inspection", "table": "nope", "expression": "1"})
    assert res.status_code == 400 and res.get_json()["error"]["code"] == "bad_request"


def test_evaluate_computes_formulas_from_sample_values(admin):
    res = admin.post(EVAL, json={"form": "inspection", "expression": "rate * 100", "data": {"qty": 8, "defects": 2}})
    assert res.status_code == 200 and res.get_json() == {"value": 25.0, "type": "number"}


def test_evaluate_against_an_inline_draft_and_in_a_row(admin):
    draft = inspection("draft_form")
    res = admin.post(EVAL, json={"definition": draft, "expression": "inspected_on + 1",
                                 "data": {"inspected_on": "2024-02-28"}})
    assert res.get_json() == {"value": "2024-02-29", "type": "date"}
    row = admin.post(EVAL, json={"definition": draft, "table": "items", "expression": "value * 3",
                                 "data": {"value": "2"}})
    assert row.get_json() == {"value": 6, "type": "number"}


def test_evaluate_errors_are_422(admin):
    bad_expr = admin.post(EVAL, json={"form": "inspection", "expression": "qty + \"a\"", "data": {}})
    assert bad_expr.status_code == 422 and bad_expr.get_json()["errors"][0]["line"] == 1
    bad_data = admin.post(EVAL, json={"form": "inspection", "expression": "qty", "data": {"qty": "many", "ghost": 1}})
    assert bad_data.status_code == 422
    assert {e["field"] for e in bad_data.get_json()["errors"]} == {"qty", "ghost"}


@pytest.mark.parametrize("body", [
    None, "not json", [1, 2], {}, {"expression": 5}, {"expression": "1", "definition": "x"},
    {"expression": "1", "expect": "colour"}, {"expression": "1", "table": "items"},
    {"expression": "1", "data": [1]},
])
def test_bad_bodies_are_400_json(admin, body):
    for url in (CHECK, EVAL):
        if body is None:
            res = admin.post(url, data="", content_type="application/json")
        elif isinstance(body, str):
            res = admin.post(url, data=body, content_type="application/json")
        else:
            res = admin.post(url, json=body)
        if url == CHECK and isinstance(body, dict) and "data" in body:
            assert res.status_code == 200      # check ignores sample data
            continue
        assert res.status_code == 400 and res.is_json and res.get_json()["error"]["message"], (url, body)


def test_unknown_form_is_404_and_another_tenants_form_is_unknown(site):
    assert site.client().post(CHECK, json={"form": "unknown", "expression": "1"}).status_code == 404
    other = site.client("olga@globex.example", "globex")
    res = other.post(CHECK, json={"form": "inspection", "expression": "qty"})
    assert res.status_code == 404 and res.is_json


def test_users_without_design_permission_are_refused(site):
    reader = site.client("rita@home.example")
    res = reader.post(CHECK, json={"form": "inspection", "expression": "qty"})
    assert res.status_code == 403 and res.is_json


def test_signed_out_is_401_json_and_csrf_is_required(site):
    anonymous = site.app.test_client()
    assert anonymous.get(CATALOG).status_code == 401
    assert anonymous.post(CHECK, json={"expression": "1"}).status_code in (400, 401)
    client = site.client()
    client.environ_base.pop("HTTP_X_CSRFTOKEN")
    assert client.post(CHECK, json={"expression": "1"}).status_code == 400


def test_a_rules_trigger_brings_its_names_into_the_check(admin):
    """A rule's condition may read old.<field> (the value before an update); the form alone does not know it."""
    body = {"form": "inspection", "expression": 'defects > 0 AND old.defects = 0', "expect": "boolean"}
    assert admin.post(CHECK, json=body).get_json()["ok"] is False
    updated = admin.post(CHECK, json={**body, "trigger": {"type": "record_updated"}}).get_json()
    assert updated["ok"] is True and updated["type"] == "boolean"
    unknown = admin.post(CHECK, json={**body, "trigger": {"type": "no_such_trigger"}}).get_json()
    assert unknown["ok"] is False                       # an unknown trigger: the form's own names only
