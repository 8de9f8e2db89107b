"""Reports and dashboards over the API: definitions (422 with paths), the numbers equal the
engine's and a hand count, filters and their errors (422 naming the filter, in the caller's
language), drill-down, Excel exports that open with openpyxl, permissions, tenant isolation and
CSRF for cookie sessions."""
from __future__ import annotations

import copy
import io
import json
from collections import Counter
from dataclasses import replace
from urllib.parse import quote

import pytest
from openpyxl import load_workbook

from engine.services import dashboards as dashboard_service
from tests.runtime.api.support import bearer
from tests.runtime.reports.conftest import site  # noqa: F401  (fixture)
from tests.runtime.reports.support import BOARD, PARETO, csrf, sign_in

MARCH = {"from": "2026-03-01", "to": "2026-03-31"}


def pareto_by_hand(lots, keep=lambda lot: True) -> Counter:
    out = Counter()
    for lot in lots:
        if keep(lot):
            for d in lot["defects"]:
                out[d["code"]] += d["qty"]
    return out


def in_march(lot) -> bool:
    return lot["day"].month == 3


def get(client, url, token, lang="en"):
    return client.get(url, headers=bearer(token, lang))


def post(client, url, body, token, lang="en", method="POST"):
    return client.open(url, method=method, json=body, headers=bearer(token, lang))


# ---------------------------------------------------------------------------- definitions

def test_publish_check_read_replace_and_delete_a_report(site):
    c, token = site.client(), site.a.admin_token
    assert post(c, "/api/v1/reports", {**PARETO, "key": "bad key"}, token).get_json()["errors"][0]["path"] == "$.key"
    bad = {**copy.deepcopy(PARETO), "key": "bad_pareto",
           "dataset": {"form": "iqc", "dimensions": [{"field": "defects.code", "key": "code"}],
                       "measures": [{"agg": "sum", "field": "ghost", "key": "q"}]}}
    res = post(c, "/api/v1/reports", bad, token)
    assert res.status_code == 422
    paths = {e["path"] for e in res.get_json()["errors"]}
    assert "$.dataset.measures[0].field" in paths
    checked = post(c, "/api/v1/reports/check", bad, token).get_json()
    assert checked["ok"] is False and {e["path"] for e in checked["errors"]} == paths
    assert post(c, "/api/v1/reports/check", PARETO, token).get_json() == {"ok": True, "errors": []}

    new = {**copy.deepcopy(PARETO), "key": "pareto2"}
    res = post(c, "/api/v1/reports", new, token)
    assert res.status_code == 201 and res.get_json() == {"key": "pareto2", "version": 1}
    assert get(c, "/api/v1/reports/pareto2", token).get_json()["dataset"] == PARETO["dataset"]
    relabelled = {**new, "label": {"zh-CN": "缺陷柏拉图", "en": "Defect Pareto"}}
    res = post(c, "/api/v1/reports/pareto2", relabelled, token, method="PUT")
    assert res.status_code == 200 and res.get_json() == {"key": "pareto2", "version": 2}
    res = post(c, "/api/v1/reports/pareto2", {**relabelled, "key": "other"}, token, method="PUT")
    assert res.status_code == 422 and res.get_json()["errors"][0]["path"] == "$.key"
    listed = {r["key"]: r for r in get(c, "/api/v1/reports", token).get_json()["items"]}
    assert listed["pareto2"]["label"]["en"] == "Defect Pareto" and listed["pareto2"]["version"] == 2
    assert c.delete("/api/v1/reports/pareto2", headers=bearer(token)).status_code == 204
    assert get(c, "/api/v1/reports/pareto2", token).status_code == 404
    assert post(c, "/api/v1/reports/ghost", new, token, method="PUT").status_code == 404


def test_publish_errors_speak_the_callers_language(site):
    c = site.client()
    bad = {**copy.deepcopy(PARETO), "dataset": {"form": "nope", "measures": [{"agg": "count", "key": "n"}]}}
    zh = post(c, "/api/v1/reports", bad, site.a.admin_token, lang="zh-CN").get_json()
    en = post(c, "/api/v1/reports", bad, site.a.admin_token, lang="en").get_json()
    assert zh["errors"][0]["path"] == en["errors"][0]["path"] == "$.dataset.form"
    assert zh["errors"][0]["message"] != en["errors"][0]["message"]


# ---------------------------------------------------------------------------- numbers

def test_data_is_the_engines_numbers_and_a_hand_count(site):
    c, shop = site.client(), site.a.shop
    body = get(c, "/api/v1/reports/defect_pareto/data", site.a.admin_token).get_json()
    engine = shop.run("defect_pareto", replace(shop.admin, lang="en")).to_json("en")
    assert body["data"]["rows"] == engine["data"]["rows"]
    assert body["chart_data"] == engine["chart_data"]
    assert {r[0]: r[1] for r in body["data"]["rows"]} == dict(pareto_by_hand(shop.iqc))
    bars = body["figure"]["data"][0]
    assert bars["type"] == "bar" and bars["y"] == [r[1] for r in body["data"]["rows"]]
    assert body["label"] == "defect_pareto" and body["chart"] == "pareto" and body["form"] == "iqc"


def test_filters_and_period_by_query_and_by_body(site):
    c, shop, token = site.client(), site.a.shop, site.a.admin_token
    expected = pareto_by_hand(shop.iqc, lambda lot: in_march(lot) and lot["part"] == "P-100")
    filters = [{"field": "part", "op": "=", "value": "P-100"}]
    url = ("/api/v1/reports/defect_pareto/data?filters=" + quote(json.dumps(filters))
           + "&from=2026-03-01&to=2026-03-31&period_field=inspect_date")
    by_query = get(c, url, token).get_json()
    assert {r[0]: r[1] for r in by_query["data"]["rows"]} == dict(expected)
    by_body = post(c, "/api/v1/reports/defect_pareto/data",
                   {"filters": filters, "period": MARCH, "period_field": "inspect_date"}, token).get_json()
    assert by_body["data"]["rows"] == by_query["data"]["rows"]
    # the KPI card compares the chosen range with the one before it
    kpi = post(c, "/api/v1/reports/lots/data", {"period": MARCH, "period_field": "inspect_date"}, token).get_json()
    assert kpi["chart_data"]["value"] == sum(1 for lot in shop.iqc if in_march(lot))


@pytest.mark.parametrize("query, path", [
    ("filters=[{", "$.filters"),
    ('filters={"field":"part"}', "$.filters"),
    ('filters=[{"field":"part","op":"~"}]', "$.filters[0].op"),
    ('filters=[{"op":"="}]', "$.filters[0].field"),
    ('filters=[{"field":"part","op":"=","colour":1}]', "$.filters[0].colour"),
    ('filters=[{"field":"ghost","op":"=","value":1}]', "$.filters[0].field"),
    ('filters=[{"field":"lot_size","op":"=","value":"many"}]', "$.filters[0].value"),
    ('filters=[{"field":"part","op":"between","value":"P"}]', "$.filters[0].value"),
    ("from=2026-05-01&to=2026-04-01", "$.period"),
    ("from=yesterday", "$.period"),
    ("from=2026-03-01&period_field=part", "$.period_field"),
    ("from=2026-03-01&period_field=ghost", "$.period_field"),
])
def test_bad_filters_are_422_naming_the_filter(site, query, path):
    res = get(site.client(), "/api/v1/reports/defect_pareto/data?" + query, site.a.admin_token)
    assert res.status_code == 422, res.get_json()
    body = res.get_json()
    assert body["error"]["code"] == "invalid_report_input"
    assert body["errors"][0]["path"] == path and body["errors"][0]["message"]


def test_bad_filter_messages_follow_the_language(site):
    c = site.client()
    url = '/api/v1/reports/defect_pareto/data?filters=[{"field":"part","op":"~"}]'
    zh = get(c, url, site.a.admin_token, "zh-CN").get_json()["error"]["message"]
    en = get(c, url, site.a.admin_token, "en").get_json()["error"]["message"]
    assert "运算符" in zh and "Unknown operator" in en


def test_drill_lists_the_records_behind_a_bar(site):
    c, shop, token = site.client(), site.a.shop, site.a.admin_token
    body = {"point": {"row": 0}, "period": MARCH, "period_field": "inspect_date"}
    data = post(c, "/api/v1/reports/defect_pareto/data", body, token).get_json()
    code = data["data"]["rows"][0][0]
    found = post(c, "/api/v1/reports/defect_pareto/drill", body, token).get_json()
    expected = {lot["id"] for lot in shop.iqc if in_march(lot) and any(d["code"] == code for d in lot["defects"])}
    assert {r["id"] for r in found["records"]} == expected and found["total"] == len(expected)
    assert all(r["url"] == f"/f/iqc/{r['id']}" for r in found["records"])
    bad = post(c, "/api/v1/reports/defect_pareto/drill", {"point": {"row": 99}}, token)
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["path"] == "$.point"
    assert post(c, "/api/v1/reports/defect_pareto/drill", {"point": 3}, token).status_code == 422


def test_export_xlsx_has_the_header_and_the_numbers(site):
    c, shop = site.client(), site.a.shop
    res = get(c, "/api/v1/reports/lots_by_supplier/export.xlsx?from=2026-03-01&to=2026-03-31&period_field=inspect_date",
              site.a.admin_token)
    assert res.status_code == 200 and res.mimetype.endswith("spreadsheetml.sheet")
    assert 'filename="lots_by_supplier.xlsx"' in res.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(res.data))
    sheet = book.worksheets[0]
    assert sheet.title == "lots_by_supplier"
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0] == ["Supplier", "Count", "pass"] or rows[0][0] == "Supplier"
    march = [lot for lot in shop.iqc if in_march(lot)]
    counts = Counter(lot["supplier_name"] for lot in march)
    assert {r[0]: r[1] for r in rows[1:]} == dict(counts)
    for name, _count, share in rows[1:]:
        mine = [lot for lot in march if lot["supplier_name"] == name]
        assert share == pytest.approx(sum(lot["result"] == "accept" for lot in mine) / len(mine))
    assert sheet.cell(2, 3).number_format == "0.00%"


# ---------------------------------------------------------------------------- who sees what

def test_without_read_on_the_form_the_report_is_404(site):
    c, token = site.client(), site.a.tokens["otto"]
    for url in ("/api/v1/reports/defect_pareto", "/api/v1/reports/defect_pareto/data",
                "/api/v1/reports/defect_pareto/export.xlsx"):
        assert get(c, url, token).status_code == 404, url
    assert post(c, "/api/v1/reports/defect_pareto/drill", {"point": {"row": 0}}, token).status_code == 404
    assert {r["key"] for r in get(c, "/api/v1/reports", token).get_json()["items"]} == {"suppliers"}
    assert post(c, "/api/v1/reports/defect_pareto", PARETO, token, method="PUT").status_code == 404


def test_without_export_permission_export_is_403(site):
    c, token = site.client(), site.a.tokens["vera"]
    assert get(c, "/api/v1/reports/defect_pareto/data", token).status_code == 200
    res = get(c, "/api/v1/reports/defect_pareto/export.xlsx", token)
    assert res.status_code == 403 and res.get_json()["error"]["code"] == "permission_denied"
    assert get(c, "/api/v1/dashboards/quality/export.xlsx", token).status_code == 403


def test_restricted_readers_see_only_their_numbers_and_no_hidden_fields(site):
    c, shop = site.client(), site.a.shop
    mine = [lot for lot in shop.iqc if lot["mine"]]
    kpi = get(c, "/api/v1/reports/lots/data?from=2026-01-01&to=2026-12-31&period_field=inspect_date",
              site.a.tokens["ivan"]).get_json()
    assert kpi["chart_data"]["value"] == len(mine)
    hidden = get(c, '/api/v1/reports/defect_pareto/data?filters=[{"field":"cost","op":">","value":1}]',
                 site.a.tokens["vera"])
    assert hidden.status_code == 422 and hidden.get_json()["errors"][0]["path"] == "$.filters[0].field"


def test_another_tenants_reports_and_dashboards_are_404(site):
    c, token = site.client(), site.a.admin_token
    site.b.shop.publish({**copy.deepcopy(PARETO), "key": "b_only_pareto"})
    for url in ("/api/v1/reports/b_only_pareto", "/api/v1/reports/b_only_pareto/data",
                "/api/v1/reports/b_only_pareto/export.xlsx"):
        assert get(c, url, token).status_code == 404
    assert post(c, "/api/v1/reports/b_only_pareto/drill", {"point": {"row": 0}}, token).status_code == 404
    assert c.delete("/api/v1/reports/b_only_pareto", headers=bearer(token)).status_code == 404
    assert get(c, "/api/v1/reports/b_only_pareto", site.b.admin_token).status_code == 200
    # the same dashboard key in both tenants shows each its own records
    a = get(c, "/api/v1/reports/lots/data?from=2026-01-01&to=2026-12-31&period_field=inspect_date", token).get_json()
    assert a["chart_data"]["value"] == len(site.a.shop.iqc)
    assert all(r["id"] in {lot["id"] for lot in site.a.shop.iqc} for r in
               post(c, "/api/v1/dashboards/quality/drill", {"report": "defect_pareto", "point": {"row": 0}},
                    token).get_json()["records"])


def test_cookie_sessions_need_the_csrf_header_for_posts(site):
    c = sign_in(site.client(), "admin@example.com", "admin-pass-123")
    body = {"point": {"row": 0}}
    refused = c.post("/api/v1/reports/defect_pareto/drill", json=body)
    assert refused.status_code == 400 and refused.get_json()["error"]["code"] == "csrf_failed"
    token = csrf(c)
    assert c.post("/api/v1/reports/defect_pareto/drill", json=body, headers={"X-CSRFToken": token}).status_code == 200
    assert c.get("/api/v1/reports/defect_pareto/data").status_code == 200        # reads need no token
    assert c.post("/api/v1/dashboards/quality/data", json={}).status_code == 400


# ---------------------------------------------------------------------------- dashboards

def test_dashboard_data_applies_shared_values_by_query_and_body(site):
    c, shop, token = site.client(), site.a.shop, site.a.admin_token
    acme = shop.suppliers["Acme"]
    values = {"period": MARCH, "supplier": acme}
    by_query = get(c, "/api/v1/dashboards/quality/data?values=" + quote(json.dumps(values)), token).get_json()
    by_body = post(c, "/api/v1/dashboards/quality/data", {"values": values}, token).get_json()
    cells = {cell["report"]: cell for cell in by_query["items"]}
    expected = pareto_by_hand(shop.iqc, lambda lot: in_march(lot) and lot["supplier"] == acme)
    assert {r[0]: r[1] for r in cells["defect_pareto"]["result"]["data"]["rows"]} == dict(expected)
    assert cells["suppliers"]["not_applied"] == ["period", "supplier"]        # part: no value given
    assert [i["result"]["data"] for i in by_body["items"]] == [i["result"]["data"] for i in by_query["items"]]
    assert by_query["refresh"] == 60 and by_query["label"] == "Quality board"
    assert {cell["report"]: (cell["x"], cell["w"]) for cell in by_query["items"]}["lots"] == (6, 3)


@pytest.mark.parametrize("values, key", [
    ({"supplier": "abc"}, "supplier"),
    ({"supplier": [1, {"a": 1}]}, "supplier"),
    ({"period": {"from": "2026-13-01"}}, "period"),
    ({"period": {"from": "2026-05-01", "to": "2026-04-01"}}, "period"),
    ({"period": "March"}, "period"),
    ({"colour": "red"}, "colour"),
])
def test_bad_dashboard_values_are_422_naming_the_filter(site, values, key):
    res = get(site.client(), "/api/v1/dashboards/quality/data?values=" + quote(json.dumps(values)), site.a.admin_token)
    assert res.status_code == 422, res.get_json()
    body = res.get_json()
    assert body["error"]["code"] == "invalid_filter_value" and body["errors"][0]["filter"] == key


def test_dashboard_values_must_be_an_object_of_json(site):
    c, token = site.client(), site.a.admin_token
    assert get(c, "/api/v1/dashboards/quality/data?values={oops", token).status_code == 422
    assert post(c, "/api/v1/dashboards/quality/data", {"values": [1]}, token).status_code == 422


def test_dashboard_drill_and_export(site):
    c, shop, token = site.client(), site.a.shop, site.a.admin_token
    values = {"period": MARCH}
    data = post(c, "/api/v1/dashboards/quality/data", {"values": values}, token).get_json()
    pareto = next(i for i in data["items"] if i["report"] == "defect_pareto")["result"]["data"]["rows"]
    found = post(c, "/api/v1/dashboards/quality/drill", {"report": "defect_pareto", "point": {"row": 0},
                                                         "values": values}, token).get_json()
    expected = {lot["id"] for lot in shop.iqc if in_march(lot) and any(d["code"] == pareto[0][0] for d in lot["defects"])}
    assert {r["id"] for r in found["records"]} == expected
    assert post(c, "/api/v1/dashboards/quality/drill", {"point": {"row": 0}}, token).status_code == 400
    assert post(c, "/api/v1/dashboards/quality/drill", {"report": "ghost", "point": {"row": 0}}, token).status_code == 404
    res = get(c, "/api/v1/dashboards/quality/export.xlsx?values=" + quote(json.dumps(values)), token, lang="zh-CN")
    book = load_workbook(io.BytesIO(res.data))
    assert res.status_code == 200 and len(book.worksheets) == 4
    sheet = book["defect_pareto"]
    assert [[cell.value for cell in row] for row in sheet.iter_rows(min_row=2)] == [[r[0], r[1]] for r in pareto]


def test_dashboard_definitions(site):
    c, token = site.client(), site.a.admin_token
    assert [d["key"] for d in get(c, "/api/v1/dashboards", token).get_json()["items"]] == ["quality"]
    assert get(c, "/api/v1/dashboards/quality", token).get_json()["items"] == BOARD["items"]
    smaller = {**copy.deepcopy(BOARD), "key": "small", "items": BOARD["items"][:2]}
    res = post(c, "/api/v1/dashboards", smaller, token)
    assert res.status_code == 201 and res.get_json() == {"key": "small", "version": 1}
    assert post(c, "/api/v1/dashboards/small", {**smaller, "refresh": 0}, token, method="PUT").get_json()["version"] == 2
    bad = post(c, "/api/v1/dashboards", {**smaller, "key": "bad", "items": [{"report": "ghost", "x": 10, "w": 4}]}, token)
    assert bad.status_code == 422 and {"$.items[0].report", "$.items[0].w"} <= {e["path"] for e in bad.get_json()["errors"]}
    assert c.delete("/api/v1/dashboards/small", headers=bearer(site.a.tokens["vera"])).status_code == 403
    assert c.delete("/api/v1/dashboards/small", headers=bearer(token)).status_code == 204
    assert get(c, "/api/v1/dashboards/small", token).status_code == 404
    # a reader of the supplier form only sees the dashboard with its one report on suppliers
    otto = get(c, "/api/v1/dashboards/quality/data", site.a.tokens["otto"]).get_json()
    assert [cell["report"] for cell in otto["items"]] == ["suppliers"]
    with site.a.shop.session() as s:
        dashboard_service.publish_dashboard(s, site.a.tenant.admin, {**copy.deepcopy(BOARD), "key": "iqc_only",
                                                                     "items": BOARD["items"][:2]})
    assert get(c, "/api/v1/dashboards/iqc_only", site.a.tokens["otto"]).status_code == 404


def test_openapi_documents_the_report_routes(site):
    doc = get(site.client(), "/api/v1/openapi.json", site.a.admin_token).get_json()
    assert {"get", "post"} <= set(doc["paths"]["/reports/{report_key}/data"])
    export = doc["paths"]["/reports/{report_key}/export.xlsx"]["get"]["responses"]["200"]["content"]
    assert list(export) == ["application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"]
    assert "/dashboards/{dashboard_key}/drill" in doc["paths"]


def test_a_report_that_no_longer_fits_its_form_fails_in_its_cell_only(site):
    from engine.services import forms as form_service
    from tests.engine.reports.support import IQC_FORM, report
    c, token, shop = site.client(), site.a.admin_token, site.a.shop
    shop.publish(report("by_part", {"form": "iqc", "dimensions": [{"field": "part"}],
                                    "measures": [{"agg": "count", "key": "n"}]}, {"type": "bar"}))
    with shop.session() as s:
        dashboard_service.publish_dashboard(s, site.a.tenant.admin, {
            "format": 1, "key": "parts", "label": {"zh-CN": "料号", "en": "Parts"},
            "items": [{"report": "by_part", "x": 0, "w": 6}, {"report": "suppliers", "x": 6, "w": 6}]})
        form_service.publish_form(s, shop.admin, {**copy.deepcopy(IQC_FORM),
                                                  "fields": [f for f in IQC_FORM["fields"] if f["key"] != "part"]})
    cells = {cell["report"]: cell for cell in get(c, "/api/v1/dashboards/parts/data", token).get_json()["items"]}
    assert cells["by_part"]["result"] is None and "no longer fits" in cells["by_part"]["error"]
    assert cells["suppliers"]["result"]["data"]["rows"]
    res = get(c, "/api/v1/reports/by_part/data", token)
    assert res.status_code == 422 and "no longer fits" in res.get_json()["error"]["message"]
