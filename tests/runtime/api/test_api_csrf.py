"""CSRF: cookie-session writes need the X-CSRFToken header; Bearer-token calls do not."""
from __future__ import annotations

from tests.runtime.api.support import bearer
from tests.runtime.web_support import csrf_from, sign_in

URL = "/api/v1/forms/inspection/records"
BODY = {"data": {"lot_no": "L-1", "qty": 3}}


def test_cookie_session_post_without_csrf_header_is_refused(client, tenant_a):
    sign_in(client)
    res = client.post(URL, json=BODY)
    assert res.status_code == 400 and res.get_json()["error"]["code"] == "csrf_failed"
    assert client.get(URL).get_json()["total"] == 0          # nothing was written


def test_cookie_session_writes_with_csrf_header_are_accepted(client, tenant_a):
    sign_in(client)
    token = csrf_from(client, "/")
    created = client.post(URL, json=BODY, headers={"X-CSRFToken": token})
    assert created.status_code == 201
    rid = created.get_json()["id"]
    assert client.patch(f"{URL}/{rid}", json={"version": 1, "data": {"qty": 4}}).status_code == 400
    assert client.patch(f"{URL}/{rid}", json={"version": 1, "data": {"qty": 4}},
                        headers={"X-CSRFToken": token}).status_code == 200
    assert client.delete(f"{URL}/{rid}").status_code == 400
    assert client.delete(f"{URL}/{rid}", headers={"X-CSRFToken": token}).status_code == 204


def test_bearer_calls_need_no_csrf_token(client, tenant_a):
    assert client.post(URL, json=BODY, headers=bearer(tenant_a.admin_token)).status_code == 201


def test_session_reads_work_without_csrf(client, tenant_a):
    sign_in(client)
    assert client.get("/api/v1/forms/inspection").status_code == 200
