"""Bulk update and bulk delete through /api/v1: counts, per-record errors, bad bodies, permissions."""
from __future__ import annotations

import pytest

from engine.services import bulk as bulk_service
from tests.runtime.api.support import bearer, inspection_definition

URL = "/api/v1/forms/inspection/records"
UPDATE, DELETE = f"{URL}/bulk-update", f"{URL}/bulk-delete"


def _create(client, tenant, token=None, **data):
    body = {"data": {"lot_no": "L-1", "qty": 5, **data}}
    res = client.post(URL, json=body, headers=bearer(token or tenant.admin_token))
    assert res.status_code == 201, res.get_json()
    return res.get_json()["id"]


def _get(client, tenant, rid):
    return client.get(f"{URL}/{rid}", headers=bearer(tenant.admin_token))


def test_update_by_ids_writes_each_record_and_counts(client, tenant_a):
    ids = [_create(client, tenant_a, qty=q) for q in (5, 6, 7)]
    res = client.post(UPDATE, json={"ids": ids, "data": {"defects": 1}, "reason": "recount"},
                      headers=bearer(tenant_a.admin_token))
    body = res.get_json()
    assert res.status_code == 200, body
    assert (body["updated"], body["unchanged"], body["failed"], body["errors"]) == (3, 0, 0, [])
    first = _get(client, tenant_a, ids[0]).get_json()
    assert first["version"] == 2 and first["data"]["defects"] == 1 and first["data"]["rate"] == 0.2
    again = client.post(UPDATE, json={"ids": ids, "data": {"defects": 1}}, headers=bearer(tenant_a.admin_token))
    assert (again.get_json()["updated"], again.get_json()["unchanged"]) == (0, 3)


def test_update_by_filter_and_per_record_errors(client, tenant_a):
    small, big = _create(client, tenant_a, qty=2), _create(client, tenant_a, qty=9)
    _create(client, tenant_a, qty=50)
    res = client.post(UPDATE, json={"filter": "qty < 10", "data": {"lot_no": "L-NEW"}, "versions": {str(big): 7}},
                      headers=bearer(tenant_a.admin_token))
    body = res.get_json()
    assert res.status_code == 200 and (body["updated"], body["failed"], body["matched"]) == (1, 1, 2)
    (problem,) = body["errors"]
    assert problem["id"] == big and "reload" in problem["message"]
    assert _get(client, tenant_a, small).get_json()["data"]["lot_no"] == "L-NEW"
    assert _get(client, tenant_a, big).get_json()["data"]["lot_no"] == "L-1"


def test_validation_errors_of_a_record_are_listed_by_field(client, tenant_a):
    rid = _create(client, tenant_a)
    res = client.post(UPDATE, json={"ids": [rid], "data": {"qty": 0}}, headers=bearer(tenant_a.admin_token))
    (problem,) = res.get_json()["errors"]
    assert res.status_code == 200 and res.get_json()["failed"] == 1
    assert problem["errors"][0]["field"] == "qty" and "≥ 1" in problem["message"]


@pytest.mark.parametrize("body, status, field", [
    ({"data": {"qty": 1}}, 400, "ids"),                                         # neither ids nor filter
    ({"ids": [1], "filter": "TRUE", "data": {"qty": 1}}, 400, "ids"),          # both
    ({"ids": ["1"], "data": {"qty": 1}}, 400, "ids"),
    ({"ids": [1, True], "data": {"qty": 1}}, 400, "ids"),
    ({"ids": "1", "data": {"qty": 1}}, 400, "ids"),
    ({"ids": [1]}, 400, "data"),
    ({"ids": [1], "data": {"qty": 1}, "versions": {"x": 1}}, 400, "versions"),
    ({"ids": [1], "data": {"nope": 1, "rate": 2, "items": []}}, 422, "rate"),
    ({"ids": [1], "data": {"lot_no": "X" * 11}}, 422, "lot_no"),
    ({"ids": [1], "data": {"qty": "lots"}}, 422, "qty"),
    ({"ids": [1], "data": {}}, 422, ""),
    ({"filter": "qty >", "data": {"qty": 1}}, 422, None),
])
def test_bad_bodies_are_refused_with_the_member_named(client, tenant_a, body, status, field):
    rid = _create(client, tenant_a)
    res = client.post(UPDATE, json=body, headers=bearer(tenant_a.admin_token))
    assert res.status_code == status, res.get_json()
    answer = res.get_json()
    assert answer["error"]["message"]
    if field is not None:
        assert answer["errors"][0]["field"] == field
    assert _get(client, tenant_a, rid).get_json()["version"] == 1


def test_unknown_fields_are_all_named(client, tenant_a):
    res = client.post(UPDATE, json={"ids": [1], "data": {"nope": 1, "rate": 2, "items": []}},
                      headers=bearer(tenant_a.admin_token))
    assert [e["field"] for e in res.get_json()["errors"]] == ["rate", "items", "nope"]   # form order


def test_not_json_is_400(client, tenant_a):
    res = client.post(UPDATE, data="ids=1", headers={**bearer(tenant_a.admin_token), "Content-Type": "text/plain"})
    assert res.status_code == 400 and res.get_json()["error"]["code"] == "bad_request"


def test_more_than_the_limit_is_refused_whole(client, tenant_a, monkeypatch):
    ids = [_create(client, tenant_a) for _ in range(3)]
    monkeypatch.setattr(bulk_service, "MAX_RECORDS", 2)
    res = client.post(DELETE, json={"filter": "TRUE"}, headers=bearer(tenant_a.admin_token))
    assert res.status_code == 400 and res.get_json()["error"]["code"] == "invalid_bulk"
    assert "3" in res.get_json()["error"]["message"]
    assert all(_get(client, tenant_a, i).status_code == 200 for i in ids)


def test_delete_by_ids(client, tenant_a):
    ids = [_create(client, tenant_a) for _ in range(2)]
    res = client.post(DELETE, json={"ids": ids + [999999], "reason": "test data"}, headers=bearer(tenant_a.admin_token))
    body = res.get_json()
    assert res.status_code == 200 and (body["deleted"], body["failed"]) == (2, 1)
    assert body["errors"][0]["id"] == 999999 and body["errors"][0]["serial_no"] is None
    assert all(_get(client, tenant_a, i).status_code == 404 for i in ids)


def test_plain_users_change_only_what_their_role_allows(client, tenant_a):
    tenant_a.role("viewer", "form:inspection", {"read": "all"})
    tenant_a.role("editor", "form:inspection", {"create": True, "read": "all", "update": "own", "delete": "own"})
    _e, viewer = tenant_a.user("viewer")
    _e, editor = tenant_a.user("editor")
    theirs = _create(client, tenant_a)
    mine = _create(client, tenant_a, token=editor)
    assert client.post(UPDATE, json={"ids": [theirs], "data": {"qty": 9}}, headers=bearer(viewer)).status_code == 403
    assert client.post(DELETE, json={"ids": [theirs]}, headers=bearer(viewer)).status_code == 403
    res = client.post(UPDATE, json={"filter": "TRUE", "data": {"qty": 9}}, headers=bearer(editor)).get_json()
    assert (res["updated"], res["failed"]) == (1, 1) and res["errors"][0]["id"] == theirs
    assert "may not update" in res["errors"][0]["message"]
    res = client.post(DELETE, json={"ids": [theirs, mine]}, headers=bearer(editor)).get_json()
    assert (res["deleted"], res["failed"]) == (1, 1)
    assert _get(client, tenant_a, theirs).get_json()["data"]["qty"] == 5


def test_another_tenants_records_cannot_be_reached(client, tenant_a, tenant_b):
    tenant_b.publish(inspection_definition())
    b_id = _create(client, tenant_b)
    res = client.post(DELETE, json={"ids": [b_id]}, headers=bearer(tenant_a.admin_token)).get_json()
    assert res["deleted"] == 0 and res["errors"][0]["serial_no"] is None
    assert client.get(f"{URL}/{b_id}", headers=bearer(tenant_b.admin_token)).status_code == 200
    res = client.post(UPDATE, json={"filter": "TRUE", "data": {"qty": 9}}, headers=bearer(tenant_a.admin_token))
    assert res.get_json()["matched"] == 0
    assert client.get(f"{URL}/{b_id}", headers=bearer(tenant_b.admin_token)).get_json()["data"]["qty"] == 5


def test_messages_follow_accept_language(client, tenant_a):
    rid = _create(client, tenant_a)
    res = client.post(UPDATE, json={"ids": [rid], "data": {"lot_no": ""}},
                      headers=bearer(tenant_a.admin_token, "zh-CN"))
    assert "必填" in res.get_json()["errors"][0]["message"]
