"""The report designer's server side: a draft report's live chart on real data (the numbers equal
the published report's, only what the user may see, 422 with paths for an incomplete draft), the
choices the editors are built from, the paths a dataset may use, sign-in, CSRF and tenants."""
from __future__ import annotations

import copy

import pytest

from engine.services import accounts
from engine.storage.db import session_scope
from tests.engine.reports.support import PASSWORD
from tests.runtime.reports.support import BY_SUPPLIER, L, build_site, csrf, sign_in

PREVIEW = "/designer/api/reports/preview"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    site = build_site(tmp_path_factory.mktemp("designer_reports"), lots=30)
    a = site.a.tenant
    with session_scope(a.engine) as s:     # designs the IQC form but reads only the lots they entered
        accounts.create_role(s, a.tenant_id, "own_designer", L("设计员", "Designer"))
        accounts.set_permissions(s, a.tenant_id, "own_designer", "form:iqc", {"read": "own", "design": True})
        accounts.set_permissions(s, a.tenant_id, "own_designer", "form:supplier", {"read": "all"})
        accounts.create_user(s, a.tenant_id, "dora@reports.cn", "Dora", PASSWORD, roles=["own_designer"], lang="en")
    return site


def client_for(site, email="admin@example.com", password="admin-pass-123", company="default"):
    c = site.client()
    sign_in(c, email, password, company)
    return c, {"X-CSRFToken": csrf(c), "Accept-Language": "en"}


def draft(**dataset) -> dict:
    d = copy.deepcopy(BY_SUPPLIER)
    d["key"] = "draft_by_supplier"
    d["dataset"].update(dataset)
    return d


def without_timing(body: dict) -> dict:
    return {k: v for k, v in body.items() if k not in ("ms", "key")}


def test_preview_of_a_draft_equals_the_published_report(site):
    c, headers = client_for(site)
    res = c.post(PREVIEW, json={"definition": draft()}, headers=headers)
    assert res.status_code == 200, res.get_data(as_text=True)
    body = res.get_json()
    published = c.get("/api/v1/reports/lots_by_supplier/data", headers={"Accept-Language": "en"}).get_json()
    assert without_timing(body) == without_timing(published)
    assert body["figure"]["data"] and body["chart"] == "bar"
    counts = {label[0]: row[1] for row, label in zip(body["data"]["rows"], body["data"]["labels"])}
    lots = site.a.shop.iqc
    assert counts == {name: sum(1 for lot in lots if lot["supplier_name"] == name)
                      for name in {lot["supplier_name"] for lot in lots}}


def test_preview_runs_every_chart_family_and_extra_filters(site):
    c, headers = client_for(site)
    hist = {"format": 1, "key": "h", "label": L("直方图", "Histogram"), "dataset": {"form": "iqc"},
            "chart": {"type": "histogram", "value": "chars.value", "lsl": 9.9, "usl": 10.1}}
    res = c.post(PREVIEW, json={"definition": hist}, headers=headers)
    assert res.status_code == 200, res.get_data(as_text=True)
    assert res.get_json()["figure"]["data"]
    monthly = draft(dimensions=[{"field": "inspect_date", "bucket": "month", "key": "month"}])
    monthly["chart"] = {"type": "line"}
    part = [{"field": "part", "op": "=", "value": "P-100"}]
    res = c.post(PREVIEW, json={"definition": monthly, "filters": part}, headers=headers)
    assert res.status_code == 200
    total = sum(r[1] for r in res.get_json()["data"]["rows"])
    assert total == sum(1 for lot in site.a.shop.iqc if lot["part"] == "P-100")


def test_an_incomplete_draft_is_422_with_paths_and_pointers(site):
    c, headers = client_for(site)
    bad = draft(measures=[{"agg": "sum", "key": "q"}, {"agg": "avg", "field": "ghost", "key": "g"}])
    res = c.post(PREVIEW, json={"definition": bad}, headers=headers)
    assert res.status_code == 422
    body = res.get_json()
    assert body["error"]["code"]
    paths = {e["path"] for e in body["errors"]}
    assert {"$.dataset.measures[0].field", "$.dataset.measures[1].field"} <= paths
    assert {"/dataset/measures/0/field", "/dataset/measures/1/field"} <= {p["path"] for p in body["problems"]}
    res = c.post(PREVIEW, json={"definition": {**draft(), "chart": {"type": "pie"}}}, headers=headers)
    assert res.status_code == 422 and any(p["path"] == "/dataset/measures" for p in res.get_json()["problems"])
    assert c.post(PREVIEW, json={"definition": "x"}, headers=headers).status_code == 400
    assert c.post(PREVIEW, data="not json", headers={**headers, "Content-Type": "application/json"}).status_code == 400


def test_preview_shows_only_what_the_user_may_see(site):
    c, headers = client_for(site, "dora@reports.cn", PASSWORD)
    res = c.post(PREVIEW, json={"definition": draft(dimensions=[], measures=[{"agg": "count", "key": "n"}])},
                 headers=headers)
    assert res.status_code == 200, res.get_data(as_text=True)
    assert res.get_json()["data"]["rows"] == [[0]]     # Dora entered no lots herself
    ivan, headers = client_for(site, "ivan@reports.cn", PASSWORD)     # may not design the IQC form
    assert ivan.post(PREVIEW, json={"definition": draft()}, headers=headers).status_code == 403


def test_choices_come_from_the_registries_and_the_tenants_reports(site):
    c, _ = client_for(site)
    body = c.get("/designer/api/report-choices", headers={"Accept-Language": "en"}).get_json()
    charts = {ch["key"]: ch for ch in body["charts"]}
    assert {"bar", "line", "pie", "pareto", "funnel", "gauge", "kpi", "table", "pivot", "stacked_area", "histogram",
            "xbar_r", "xbar_s", "imr", "p", "np", "c", "u"} <= set(charts)
    assert charts["pie"]["dimensions"] == [1, 1] and charts["pie"]["label"] == {"zh-CN": "饼图", "en": "Pie chart"}
    hist = {o["name"]: o for o in charts["histogram"]["options"]}
    assert hist["value"]["required"] and hist["value"]["schema"]["format"] == "path"
    assert "$ref" not in str(body["charts"])
    aggs = {a["key"]: a for a in body["aggregations"]}
    assert {"count", "sum", "avg", "min", "max", "count_distinct", "rate", "ppm", "cpk"} <= set(aggs)
    assert aggs["rate"]["required"] == ["where"] and aggs["count"]["field"] == "none"
    assert [b["key"] for b in body["buckets"]] == ["day", "week", "month", "quarter", "year"]
    assert {r["key"] for r in body["reports"]} == {"defect_pareto", "lots", "lots_by_supplier", "suppliers"}
    assert body["plotly_url"].endswith(".js") or "plotly" in body["plotly_url"]
    assert c.get(body["plotly_url"]).status_code == 200


def test_fields_a_dataset_may_use(site):
    c, _ = client_for(site)
    body = c.get("/designer/api/report-fields/iqc").get_json()
    fields = {f["path"]: f for f in body["fields"]}
    assert {"supplier", "supplier.name", "defects.qty", "chars.value", "created_at", "cost"} <= set(fields)
    assert fields["defects.qty"]["numeric"] and fields["defects.qty"]["table"] == "defects"
    assert fields["inspect_date"]["date"] and fields["supplier.name"]["via"] == "supplier"
    assert {ch["code"] for ch in fields["result"]["choices"]} == {"accept", "reject"}
    assert "defects" not in fields       # a sub-table itself is not a value
    vera, _ = client_for(site, "vera@reports.cn", PASSWORD)
    assert "cost" not in {f["path"] for f in vera.get("/designer/api/report-fields/iqc").get_json()["fields"]}
    assert c.get("/designer/api/report-fields/nope").status_code == 404


def test_sign_in_csrf_and_tenants(site):
    anonymous = site.client()
    res = anonymous.get("/designer/api/report-choices")
    assert res.status_code == 401 and res.get_json()["error"]["code"] == "unauthorized"
    assert anonymous.post(PREVIEW, json={"definition": draft()}).status_code in (400, 401)     # CSRF, then sign-in
    c, headers = client_for(site)
    assert c.post(PREVIEW, json={"definition": draft()}).status_code in (400, 403)     # no CSRF header
    other, headers_b = client_for(site, "admin@other.example.com", "admin-pass-123", "other")
    res = other.post(PREVIEW, json={"definition": draft(dimensions=[], measures=[{"agg": "count", "key": "n"}])},
                     headers=headers_b)
    assert res.status_code == 200
    assert res.get_json()["data"]["rows"] == [[len(site.b.shop.iqc)]]
