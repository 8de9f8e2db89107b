"""Inputs beyond what the database or the JSON parser can hold are 4xx, never 500 (found by fuzzing)."""
from __future__ import annotations

from tests.runtime.api.support import bearer


def test_a_record_id_beyond_64_bits_is_404(client, tenant_a):
    h = bearer(tenant_a.admin_token)
    big = 2**63
    assert client.get(f"/api/v1/forms/inspection/records/{big}", headers=h).status_code == 404
    res = client.patch(f"/api/v1/forms/inspection/records/{big}", json={"version": 1, "data": {}}, headers=h)
    assert res.status_code in (404, 405) and res.get_json()["error"]["code"]     # was 500 (OverflowError)
    assert client.get(f"/api/v1/forms/inspection/records/{big - 1}", headers=h).status_code == 404
    assert client.get(f"/api/v1/rule-runs/{big}", headers=h).status_code == 404


def test_a_page_whose_offset_overflows_is_a_clear_422(client, tenant_a):
    res = client.get("/api/v1/forms/inspection/records?page=503949510602258206687232",
                     headers=bearer(tenant_a.admin_token))
    assert res.status_code == 422 and "page" in res.get_json()["error"]["message"]


def test_json_nested_deeper_than_the_parser_is_400(client, tenant_a):
    body = '{"data": ' + "[" * 100_000 + "]" * 100_000 + "}"
    res = client.post("/api/v1/forms/inspection/records", data=body, content_type="application/json",
                      headers=bearer(tenant_a.admin_token))
    assert res.status_code == 400 and "nested" in res.get_json()["error"]["message"]


def test_the_document_declares_400_and_429_where_they_happen(client, tenant_a):
    doc = client.get("/api/v1/openapi.json", headers=bearer(tenant_a.admin_token)).get_json()
    assert "400" in doc["paths"]["/forms/inspection/records/bulk-update"]["post"]["responses"]
    assert "429" in doc["paths"]["/auth/token"]["post"]["responses"]
    assert doc["components"]["parameters"]["record_id"]["schema"]["maximum"] == 2**63 - 1
