"""Tokens for email + password, the sign-in gate of every API route, the rate limit."""
from __future__ import annotations

import re

import pytest

from tests.runtime.api.support import PASSWORD, bearer
from tests.runtime.web_support import ADMIN_PASSWORD

TOKEN = "/api/v1/auth/token"
SAMPLE = {"app_key": "iqc", "form_key": "inspection", "record_id": 1, "flow_key": "review", "instance_id": 1,
          "task_id": 1, "action": "approve", "delegation_id": 1, "rule_key": "freeze", "run_id": 1, "token": "t" * 32,
          "report_key": "defects", "dashboard_key": "quality"}
PUBLIC = {"api.create_token", "api.inbound_hook"}   # a password, or the secret in the URL, is the credential


def api_routes(app):
    """(method, url) of every API route but the token route, with sample path values."""
    out = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("api.") or rule.endpoint in PUBLIC:
            continue
        url = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(SAMPLE[m.group(1)]), rule.rule)
        out += [(method, url) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return out


def test_token_for_email_and_password_works_as_bearer(client, tenant_a):
    res = client.post(TOKEN, json={"email": "admin@example.com", "password": ADMIN_PASSWORD})
    token = res.get_json()["token"]
    assert res.status_code == 200 and token.startswith("qms_")
    assert client.get("/api/v1/apps", headers=bearer(token)).status_code == 200


def test_token_of_another_company_needs_its_key(client, tenant_a, tenant_b):
    email, _token = tenant_b.user()
    assert client.post(TOKEN, json={"email": email, "password": PASSWORD}).status_code == 401
    res = client.post(TOKEN, json={"email": email, "password": PASSWORD, "company": "other"})
    assert res.status_code == 200
    forms = client.get("/api/v1/openapi.json", headers=bearer(res.get_json()["token"])).get_json()
    assert "/forms/inspection/records" not in forms["paths"]      # tenant B has no such form


def test_wrong_password_is_401_json(client, tenant_a):
    res = client.post(TOKEN, json={"email": "admin@example.com", "password": "nope-nope"},
                      headers={"Accept-Language": "zh-CN"})
    assert res.status_code == 401 and res.get_json()["error"]["code"] == "invalid_credentials"
    assert "密码" in res.get_json()["error"]["message"]


@pytest.mark.parametrize("body", [{"email": "admin@example.com"}, {"email": 1, "password": "x"}, [1]])
def test_malformed_token_requests_are_400(client, tenant_a, body):
    assert client.post(TOKEN, json=body).status_code == 400


def test_repeated_failures_answer_429_with_retry_after(client, tenant_a):
    for _ in range(5):
        assert client.post(TOKEN, json={"email": "admin@example.com", "password": "wrong-pass"}).status_code == 401
    res = client.post(TOKEN, json={"email": "admin@example.com", "password": ADMIN_PASSWORD})
    assert res.status_code == 429 and res.get_json()["error"]["code"] == "too_many_attempts"
    assert int(res.headers["Retry-After"]) > 0


def test_every_api_route_is_401_without_credentials(app, client):
    routes = api_routes(app)
    assert len(routes) >= 13
    for method, url in routes:
        res = client.open(url, method=method, json={}, headers={"Authorization": "Bearer qms_bad_token",
                                                                "Accept": "application/json"})
        assert res.status_code == 401, (method, url)
        assert res.get_json()["error"]["code"] == "unauthorized"


def test_reads_without_any_credential_are_401(client, tenant_a):
    for url in ("/api/v1/apps", "/api/v1/openapi.json", "/api/v1/forms/inspection/records"):
        res = client.get(url)
        assert res.status_code == 401 and res.is_json


def test_docs_page_sends_a_browser_to_the_login_page(client):
    res = client.get("/api/v1/docs", headers={"Accept": "text/html"})
    assert res.status_code == 302 and res.headers["Location"].startswith("/login?next=/api/v1/docs")


def test_revoked_token_stops_working(client, tenant_a):
    from engine.services import logins
    from engine.storage.db import session_scope
    h = bearer(tenant_a.admin_token)
    assert client.get("/api/v1/apps", headers=h).status_code == 200
    with session_scope(tenant_a.engine) as s:
        token_id = logins.list_api_tokens(s, tenant_a.tenant_id)[-1]["id"]
        logins.revoke_api_token(s, tenant_a.tenant_id, token_id)
    assert client.get("/api/v1/apps", headers=h).status_code == 401
