"""Rules over the API: publish with every problem listed, switch, run log, retry, and the inbound
webhook an ERP calls (secret URL, optional HMAC, payload fields mapped to a record)."""
from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from engine.jobs import queue
from tests.runtime.api.support import bearer, label

RECEIPT = {"format": 1, "key": "erp_receipt", "label": label("ERP 收货", "ERP goods receipt"),
           "trigger": {"type": "webhook", "fields": [
               {"key": "lot", "path": "receipt.lot", "type": "text", "required": True},
               {"key": "qty", "path": "receipt.qty", "type": "number"}]},
           "actions": [{"type": "create_record", "form": "inspection", "values": {"lot_no": "lot", "qty": "qty"}}]}


@pytest.fixture()
def jobs():
    backend = queue.DeferredBackend()
    previous = queue.use(backend)
    yield backend
    queue.use(previous)


def _hook(client, tenant, secret=None) -> str:
    res = client.post("/api/v1/rules", json=RECEIPT, headers=bearer(tenant.admin_token))
    assert res.status_code == 201, res.get_json()
    res = client.post("/api/v1/rules/erp_receipt/hook", json={"secret": secret} if secret else {},
                      headers=bearer(tenant.admin_token))
    assert res.status_code == 201
    return res.get_json()["url"].split("localhost", 1)[1]


def test_an_erp_goods_receipt_creates_an_inspection(client, tenant_a, jobs):
    url = _hook(client, tenant_a)
    res = client.post(url, json={"receipt": {"lot": "R-100", "qty": 250}})
    assert res.status_code == 202 and res.get_json()["run_id"]
    jobs.run_all()
    items = client.get("/api/v1/forms/inspection/records", headers=bearer(tenant_a.admin_token)).get_json()["items"]
    assert [(r["data"]["lot_no"], r["data"]["qty"]) for r in items] == [("R-100", 250)]
    run = client.get(f"/api/v1/rule-runs/{res.get_json()['run_id']}", headers=bearer(tenant_a.admin_token)).get_json()
    assert run["status"] == "done" and run["event"]["payload"]["receipt"]["lot"] == "R-100"
    assert run["actions"][0]["type"] == "create_record"


def test_a_signed_webhook_needs_the_right_signature(client, tenant_a, jobs):
    url = _hook(client, tenant_a, secret="s3cret-s3cret-s3cret")
    body = json.dumps({"receipt": {"lot": "R-1", "qty": 5}}).encode()
    assert client.post(url, data=body, content_type="application/json").status_code == 401
    wrong = "sha256=" + hmac.new(b"other-secret-000000", body, hashlib.sha256).hexdigest()
    assert client.post(url, data=body, content_type="application/json",
                       headers={"X-QMS-Signature": wrong}).status_code == 401
    good = "sha256=" + hmac.new(b"s3cret-s3cret-s3cret", body, hashlib.sha256).hexdigest()
    assert client.post(url, data=body, content_type="application/json",
                       headers={"X-QMS-Signature": good}).status_code == 202


def test_bad_webhook_calls_get_clear_answers_and_write_nothing(client, tenant_a, jobs):
    url = _hook(client, tenant_a)
    assert client.post("/api/v1/hooks/" + "x" * 32, json={}).status_code == 404
    res = client.post(url, data=b"{not json", content_type="application/json")
    assert res.status_code == 400 and res.get_json()["error"]["code"] == "bad_request"
    res = client.post(url, json={"receipt": {"qty": 5}})
    assert res.status_code == 422 and res.get_json()["errors"] == [{"field": "lot", "message": "required"}]
    runs = client.get("/api/v1/rule-runs", headers=bearer(tenant_a.admin_token)).get_json()
    assert runs["total"] == 0
    client.post("/api/v1/rules/erp_receipt/disable", headers=bearer(tenant_a.admin_token))
    assert client.post(url, json={"receipt": {"lot": "R"}}).status_code == 409


def test_a_new_url_retires_the_old_one(client, tenant_a, jobs):
    old = _hook(client, tenant_a)
    res = client.post("/api/v1/rules/erp_receipt/hook", json={}, headers=bearer(tenant_a.admin_token))
    assert client.post(old, json={"receipt": {"lot": "R"}}).status_code == 404
    assert client.post(res.get_json()["url"].split("localhost", 1)[1], json={"receipt": {"lot": "R"}}).status_code == 202


def test_publishing_a_bad_rule_is_422_with_every_problem(client, tenant_a):
    bad = dict(RECEIPT, actions=[{"type": "create_record", "form": "inspection", "values": {"nope": "1", "qty": "lot"}}])
    res = client.post("/api/v1/rules", json=bad, headers=bearer(tenant_a.admin_token))
    assert res.status_code == 422
    assert [e["path"] for e in res.get_json()["errors"]] == ["$.actions[0].values.nope", "$.actions[0].values.qty"]


def test_only_designers_manage_rules_and_only_admins_make_hooks(client, tenant_a):
    _email, token = tenant_a.user()
    assert client.post("/api/v1/rules", json=RECEIPT, headers=bearer(token)).status_code == 403
    client.post("/api/v1/rules", json=RECEIPT, headers=bearer(tenant_a.admin_token))
    assert client.post("/api/v1/rules/erp_receipt/hook", json={}, headers=bearer(token)).status_code == 403
    assert client.get("/api/v1/rules", headers=bearer(token)).get_json()["items"] == []
    assert client.get("/api/v1/rules/erp_receipt", headers=bearer(token)).status_code == 404


def test_failed_runs_are_listed_and_can_be_retried(client, tenant_a, jobs):
    url = _hook(client, tenant_a)
    client.post(url, json={"receipt": {"lot": "TOO-LONG-LOT-NUMBER", "qty": 5}})     # lot_no max_length 10
    jobs.run_all()
    failed = client.get("/api/v1/rule-runs?status=failed", headers=bearer(tenant_a.admin_token)).get_json()
    assert failed["total"] == 1 and "lot_no" in failed["items"][0]["error"]
    run_id = failed["items"][0]["id"]
    assert client.post(f"/api/v1/rule-runs/{run_id}/retry", headers=bearer(tenant_a.admin_token)).status_code == 202
    assert client.get(f"/api/v1/rule-runs/{run_id}", headers=bearer(tenant_a.admin_token)).get_json()["status"] == "pending"
