"""Permissions and tenant isolation: the API shows nothing the engine's access rules do not allow."""
from __future__ import annotations

import re

import pytest

from tests.runtime.api.support import app_package, bearer, inspection_definition

URL = "/api/v1/forms/inspection/records"
DATA = {"lot_no": "L-1", "qty": 5}


@pytest.fixture()
def roles(tenant_a):
    tenant_a.role("viewer", "form:inspection", {"read": "all"})
    tenant_a.role("clerk", "form:inspection", {"create": True, "read": "own"})
    tenant_a.role("submitter", "form:inspection", {"create": True})
    tenant_a.role("outsider", "form:other_form", {"read": "all"})
    return tenant_a


def test_reader_without_create_gets_403(client, roles):
    _e, token = roles.user("viewer")
    res = client.post(URL, json={"data": DATA}, headers=bearer(token))
    assert res.status_code == 403 and res.get_json()["error"]["code"] == "permission_denied"


def test_reader_cannot_update_or_delete(client, roles):
    _e, token = roles.user("viewer")
    rid = client.post(URL, json={"data": DATA}, headers=bearer(roles.admin_token)).get_json()["id"]
    assert client.get(f"{URL}/{rid}", headers=bearer(token)).status_code == 200
    assert client.patch(f"{URL}/{rid}", json={"version": 1, "data": {"qty": 6}}, headers=bearer(token)).status_code == 403
    assert client.delete(f"{URL}/{rid}", headers=bearer(token)).status_code == 403


def test_own_scope_hides_other_peoples_records(client, roles):
    _e, token = roles.user("clerk")
    admin_rid = client.post(URL, json={"data": DATA}, headers=bearer(roles.admin_token)).get_json()["id"]
    mine = client.post(URL, json={"data": {**DATA, "lot_no": "MINE"}}, headers=bearer(token))
    assert mine.status_code == 201
    listed = client.get(URL, headers=bearer(token)).get_json()
    assert listed["total"] == 1 and listed["items"][0]["data"]["lot_no"] == "MINE"
    assert client.get(f"{URL}/{admin_rid}", headers=bearer(token)).status_code == 404


def test_create_only_user_can_submit_but_read_nothing(client, roles):
    _e, token = roles.user("submitter")
    res = client.post(URL, json={"data": DATA}, headers=bearer(token))
    assert res.status_code == 201
    assert client.get("/api/v1/forms/inspection", headers=bearer(token)).status_code == 200
    assert client.get(URL, headers=bearer(token)).get_json() == {"items": [], "total": 0, "page": 1, "per_page": 50}


def test_user_without_access_to_the_form_gets_404_everywhere(client, roles):
    _e, token = roles.user("outsider")
    rid = client.post(URL, json={"data": DATA}, headers=bearer(roles.admin_token)).get_json()["id"]
    h = bearer(token)
    assert client.get("/api/v1/forms/inspection", headers=h).status_code == 404
    assert client.get(URL, headers=h).status_code == 404
    assert client.get(f"{URL}/{rid}", headers=h).status_code == 404
    assert client.post(URL, json={"data": DATA}, headers=h).status_code == 404
    check = client.post("/api/v1/expressions/check", json={"form": "inspection", "expression": "qty"}, headers=h)
    assert check.status_code == 404


def test_only_admins_import_and_export_apps(client, roles):
    assert client.post("/api/v1/apps/import", json=app_package("iqc", "inspection"),
                       headers=bearer(roles.admin_token)).status_code == 201
    _e, token = roles.user("viewer")
    assert client.post("/api/v1/apps/import", json=app_package("iqc2", "inspection2"),
                       headers=bearer(token)).status_code == 403
    assert client.get("/api/v1/apps/iqc/export", headers=bearer(token)).status_code == 403


# ---------------------------------------------------------------------------- tenant isolation

B_FLOW = {"format": 1, "key": "b_review", "label": {"zh-CN": "审核", "en": "Review"}, "form": "b_only", "nodes": [
    {"id": "start", "type": "start", "next": "check"},
    {"id": "check", "type": "approval", "assignees": [{"kind": "submitter"}], "next": "end"},
    {"id": "end", "type": "end"}]}


B_RULE = {"format": 1, "key": "b_rule", "label": {"zh-CN": "冻结", "en": "Freeze"}, "form": "b_only",
          "trigger": {"type": "record_created"}, "actions": [{"type": "set_status", "status": "frozen"}]}


def _b_world(client, tenant_b):
    """Tenant B: an app with a form whose key A also uses, a B-only form with an approval flow,
    and records in both (the B-only ones each with a running flow and an open task)."""
    assert client.post("/api/v1/apps/import", json=app_package("b_app", "inspection"),
                       headers=bearer(tenant_b.admin_token)).status_code == 201
    tenant_b.publish(inspection_definition("b_only"))
    assert client.post("/api/v1/flows", json=B_FLOW, headers=bearer(tenant_b.admin_token)).status_code == 201
    assert client.post("/api/v1/rules", json=B_RULE, headers=bearer(tenant_b.admin_token)).status_code == 201
    ids = []
    for key in ("inspection", "b_only"):
        for n in range(3):
            res = client.post(f"/api/v1/forms/{key}/records", json={"data": {"lot_no": f"B{n}", "qty": 1}},
                              headers=bearer(tenant_b.admin_token))
            ids.append(res.get_json()["id"])
    return max(ids)


def test_tenant_a_gets_404_for_every_route_on_tenant_b_things(app, client, tenant_a, tenant_b):
    record_id = _b_world(client, tenant_b)      # tenant A has no record at all
    b_tasks = client.get("/api/v1/tasks", headers=bearer(tenant_b.admin_token)).get_json()["items"]
    task = b_tasks[0]
    flow_things = {"flow_key": "b_review", "instance_id": task["instance_id"], "task_id": task["id"],
                   "action": "approve", "delegation_id": 1, "rule_key": "b_rule", "token": "t" * 32,
                   "report_key": "b_report", "dashboard_key": "b_board",
                   "run_id": client.get("/api/v1/rule-runs", headers=bearer(tenant_b.admin_token)).get_json()["items"][0]["id"]}
    samples = [{"app_key": "b_app", "form_key": "b_only", "record_id": task["record_id"], **flow_things},
               {"app_key": "b_app", "form_key": "inspection", "record_id": record_id, **flow_things}]
    checked = 0
    for rule in app.url_map.iter_rules():
        params = set(rule.arguments)
        if not rule.endpoint.startswith("api.") or not params:
            continue
        for sample in samples:
            url = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(sample[m.group(1)]), rule.rule)
            if "form_key" in params and "record_id" not in params and sample["form_key"] == "inspection":
                continue    # A has its own "inspection" form: that one is A's to see
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                res = client.open(url, method=method, json={"version": 1, "data": {"qty": 2}},
                                  headers=bearer(tenant_a.admin_token))
                assert res.status_code == 404, (method, url, res.get_json())
                checked += 1
    assert checked >= 8


@pytest.mark.parametrize("path", ["/api/v1/expressions/check", "/api/v1/expressions/evaluate"])
def test_expression_routes_do_not_see_tenant_b_forms(client, tenant_a, tenant_b, path):
    _b_world(client, tenant_b)
    res = client.post(path, json={"form": "b_only", "expression": "qty", "data": {}},
                      headers=bearer(tenant_a.admin_token))
    assert res.status_code == 404


def test_lists_and_documents_show_only_the_own_tenant(client, tenant_a, tenant_b):
    _b_world(client, tenant_b)
    h = bearer(tenant_a.admin_token)
    assert all(a["key"] != "b_app" for a in client.get("/api/v1/apps", headers=h).get_json()["items"])
    doc = client.get("/api/v1/openapi.json", headers=h).get_json()
    assert "/forms/inspection/records" in doc["paths"] and "/forms/b_only/records" not in doc["paths"]
    assert client.get(URL, headers=h).get_json()["total"] == 0
