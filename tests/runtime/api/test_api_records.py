"""Record CRUD through /api/v1: shapes, all field errors at once, optimistic locking, bad bodies."""
from __future__ import annotations

import pytest

from tests.runtime.api.support import bearer

URL = "/api/v1/forms/inspection/records"
GOOD = {"lot_no": "L-1", "qty": 8, "defects": 2, "inspected_on": "2024-05-01", "items": [{"value": 3}]}


def create(client, tenant, data=None, lang="en"):
    return client.post(URL, json={"data": data or GOOD}, headers=bearer(tenant.admin_token, lang))


def test_create_returns_the_stored_record_with_computed_fields(client, tenant_a):
    res = create(client, tenant_a)
    body = res.get_json()
    assert res.status_code == 201
    assert set(body) >= {"id", "version", "data"} and body["version"] == 1
    assert body["data"]["rate"] == 0.25 and body["data"]["inspected_on"] == "2024-05-01"
    assert body["data"]["items"][0]["value"] == 3
    assert body["meta"]["created_at"].endswith("+00:00")


def test_create_answers_422_with_every_field_error(client, tenant_a):
    res = create(client, tenant_a, {"lot_no": "L" * 11, "qty": 0, "items": [{}]})
    assert res.status_code == 422
    fields = [e["field"] for e in res.get_json()["errors"]]
    assert fields == ["lot_no", "qty", "items[0].value"]
    assert all(e["message"] for e in res.get_json()["errors"])


def test_messages_follow_accept_language(client, tenant_a):
    zh = create(client, tenant_a, {"qty": 2}, lang="zh-CN").get_json()
    en = create(client, tenant_a, {"qty": 2}, lang="en").get_json()
    assert "必填" in zh["errors"][0]["message"] and "required" in en["errors"][0]["message"]


def test_token_calls_without_accept_language_use_the_users_language(client, tenant_a):
    _email, token = tenant_a.user(lang="zh-CN")
    res = client.get(URL + "/999", headers={"Authorization": f"Bearer {token}"})
    assert res.status_code == 404 and "不存在" in res.get_json()["error"]["message"]


def test_get_patch_delete_round_trip(client, tenant_a):
    h = bearer(tenant_a.admin_token)
    rid = create(client, tenant_a).get_json()["id"]
    got = client.get(f"{URL}/{rid}", headers=h)
    assert got.status_code == 200 and got.get_json()["data"]["lot_no"] == "L-1"
    patched = client.patch(f"{URL}/{rid}", json={"version": 1, "data": {"defects": 4}}, headers=h)
    assert patched.status_code == 200
    assert patched.get_json()["version"] == 2 and patched.get_json()["data"]["rate"] == 0.5
    assert client.delete(f"{URL}/{rid}?version=2", headers=h).status_code == 204
    assert client.get(f"{URL}/{rid}", headers=h).status_code == 404


def test_stale_version_is_409_on_patch_and_delete(client, tenant_a):
    h = bearer(tenant_a.admin_token)
    rid = create(client, tenant_a).get_json()["id"]
    assert client.patch(f"{URL}/{rid}", json={"version": 1, "data": {"qty": 9}}, headers=h).status_code == 200
    stale = client.patch(f"{URL}/{rid}", json={"version": 1, "data": {"qty": 10}}, headers=h)
    assert stale.status_code == 409 and stale.get_json()["error"]["code"] == "conflict"
    assert client.delete(f"{URL}/{rid}?version=1", headers=h).status_code == 409
    assert client.get(f"{URL}/{rid}", headers=h).get_json()["data"]["qty"] == 9


def test_patch_with_invalid_data_is_422(client, tenant_a):
    h = bearer(tenant_a.admin_token)
    rid = create(client, tenant_a).get_json()["id"]
    res = client.patch(f"{URL}/{rid}", json={"version": 1, "data": {"qty": 0, "defects": -1}}, headers=h)
    assert res.status_code == 422 and {e["field"] for e in res.get_json()["errors"]} == {"qty", "defects"}


def test_list_filters_sorts_and_pages(client, tenant_a):
    h = bearer(tenant_a.admin_token)
    for n in range(1, 6):
        assert create(client, tenant_a, {**GOOD, "lot_no": f"L-{n}", "qty": n * 10}).status_code == 201
    res = client.get(URL, query_string={"filter": "qty >= 20", "sort": "-qty", "page": 2, "per_page": 2}, headers=h)
    body = res.get_json()
    assert res.status_code == 200 and body["total"] == 4
    assert [i["data"]["qty"] for i in body["items"]] == [30, 20]
    assert all(set(i) >= {"id", "version", "data"} for i in body["items"])


@pytest.mark.parametrize("query, status", [
    ({"filter": "qty >"}, 422), ({"filter": "nope = 1"}, 422), ({"sort": "nope"}, 422),
    ({"page": "x"}, 400), ({"per_page": "0"}, 400),
])
def test_bad_list_parameters_are_explained(client, tenant_a, query, status):
    res = client.get(URL, query_string=query, headers=bearer(tenant_a.admin_token))
    assert res.status_code == status and res.get_json()["error"]["message"]


@pytest.mark.parametrize("method, path, body, needle", [
    ("post", URL, "{not json", "not valid JSON"),
    ("post", URL, "", "empty"),
    ("post", URL, "[1, 2]", "JSON object"),
    ("post", URL, '{"data": [1]}', "'data' must be an object"),
    ("post", URL, '{"rows": {}}', "'data' is missing"),
    ("patch", URL + "/1", '{"version": "1", "data": {}}', "'version' must be an integer"),
    ("patch", URL + "/1", '{"version": true, "data": {}}', "'version' must be an integer"),
    ("patch", URL + "/1", '{"data": {}}', "'version' is missing"),
    ("patch", URL + "/1", '{"version": 1, "data": "x"}', "'data' must be an object"),
])
def test_bad_bodies_are_400_with_a_clear_message(client, tenant_a, method, path, body, needle):
    create(client, tenant_a)
    res = getattr(client, method)(path, data=body, content_type="application/json",
                                  headers=bearer(tenant_a.admin_token))
    assert res.status_code == 400 and res.is_json
    assert needle in res.get_json()["error"]["message"]


def test_delete_with_a_bad_version_parameter_is_400(client, tenant_a):
    rid = create(client, tenant_a).get_json()["id"]
    res = client.delete(f"{URL}/{rid}?version=abc", headers=bearer(tenant_a.admin_token))
    assert res.status_code == 400


def test_unknown_routes_and_methods_answer_json(client, tenant_a):
    h = bearer(tenant_a.admin_token)
    missing = client.get("/api/v1/nothing-here", headers=h)
    wrong = client.put(URL, json={}, headers=h)
    assert missing.status_code == 404 and missing.get_json()["error"]["code"]
    assert wrong.status_code == 405 and wrong.get_json()["error"]["code"]


def test_unexpected_failures_answer_json_not_html(client, tenant_a, monkeypatch):
    from engine.services import records
    monkeypatch.setattr(records, "query_records", lambda *a, **k: 1 / 0)
    res = client.get(URL, headers=bearer(tenant_a.admin_token))
    assert res.status_code == 500 and res.get_json()["error"]["code"] == "internal_error"
    assert "Traceback" not in res.get_data(as_text=True)
