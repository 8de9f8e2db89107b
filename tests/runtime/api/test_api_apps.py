"""Apps: list, import (201 | 422 with every problem and its path), export."""
from __future__ import annotations

from tests.runtime.api.support import app_package, bearer


def test_import_list_and_export(client, tenant_a):
    h = bearer(tenant_a.admin_token)
    package = app_package("iqc", "incoming")
    res = client.post("/api/v1/apps/import", json=package, headers=h)
    assert res.status_code == 201 and res.get_json()["published"] == [{"form": "incoming", "version": 1}]
    apps = client.get("/api/v1/apps", headers=h).get_json()["items"]
    assert [a["key"] for a in apps] == ["iqc"] and apps[0]["forms"] == ["incoming"]
    assert isinstance(apps[0]["installed_at"], str)
    exported = client.get("/api/v1/apps/iqc/export", headers=h)
    assert exported.status_code == 200
    assert exported.get_json()["forms"][0]["key"] == "incoming"
    again = client.post("/api/v1/apps/import", json=exported.get_json(), headers=h)
    assert again.status_code == 201 and again.get_json()["unchanged"] == ["incoming"]


def test_invalid_package_is_422_with_every_problem_and_nothing_published(client, tenant_a):
    h = bearer(tenant_a.admin_token)
    package = app_package("iqc", "incoming")
    package["forms"][0]["fields"][0]["type"] = "no_such_type"
    package["forms"][0]["fields"][1]["key"] = "Bad Key"
    res = client.post("/api/v1/apps/import", json=package, headers=h)
    body = res.get_json()
    assert res.status_code == 422 and body["error"]["code"] == "invalid_definition"
    paths = [e["path"] for e in body["errors"]]
    assert any(p.startswith("$.forms[0].fields[0]") for p in paths)
    assert any(p.startswith("$.forms[0].fields[1]") for p in paths)
    assert all(e["message"] for e in body["errors"])
    assert client.get("/api/v1/forms/incoming", headers=h).status_code == 404
    assert client.get("/api/v1/apps", headers=h).get_json()["items"] == []


def test_import_body_must_be_an_object(client, tenant_a):
    res = client.post("/api/v1/apps/import", data="[]", content_type="application/json",
                      headers=bearer(tenant_a.admin_token))
    assert res.status_code == 400


def test_export_of_an_unknown_app_is_404(client, tenant_a):
    assert client.get("/api/v1/apps/nope/export", headers=bearer(tenant_a.admin_token)).status_code == 404


def test_form_definition_is_the_published_one(client, tenant_a):
    res = client.get("/api/v1/forms/inspection", headers=bearer(tenant_a.admin_token))
    body = res.get_json()
    assert res.status_code == 200 and body["key"] == "inspection" and body["version"] == 1
    assert [f["key"] for f in body["fields"]][:3] == ["lot_no", "qty", "defects"]
    assert client.get("/api/v1/forms/unknown", headers=bearer(tenant_a.admin_token)).status_code == 404
