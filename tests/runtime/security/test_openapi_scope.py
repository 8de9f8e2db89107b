"""The OpenAPI document lists only the forms the caller may use, without the fields hidden from them."""
from __future__ import annotations

from tests.runtime.api.support import bearer, build, inspection_definition


def _doc(client, token: str) -> dict:
    res = client.get("/api/v1/openapi.json", headers=bearer(token))
    assert res.status_code == 200
    return res.get_json()


def test_openapi_lists_only_usable_forms_and_fields(tmp_path):
    app, a, _ = build(tmp_path)
    a.publish(inspection_definition("inspection"))
    a.publish(inspection_definition("secret_audit"))
    a.role("viewer", "form:inspection", {"read": "all", "fields": {"defects": "hidden"}})
    _, viewer = a.user("viewer")
    _, nobody = a.user()
    client = app.test_client()

    admin_doc = _doc(client, a.admin_token)
    assert {"/forms/inspection/records", "/forms/secret_audit/records"} <= set(admin_doc["paths"])
    assert "defects" in admin_doc["components"]["schemas"]["inspection_data"]["properties"]

    doc = _doc(client, viewer)
    schemas, tags = doc["components"]["schemas"], {tag["name"] for tag in doc["tags"]}
    assert "/forms/inspection/records" in doc["paths"] and "inspection" in tags
    assert not any("secret_audit" in p for p in doc["paths"]) and "secret_audit" not in tags
    assert not any(name.startswith("secret_audit") for name in schemas)
    assert "defects" not in schemas["inspection_data"]["properties"]
    assert "qty" in schemas["inspection_data"]["properties"]

    empty = _doc(client, nobody)
    assert not any(p.startswith("/forms/") and "/records" in p for p in empty["paths"])
    assert "/apps" in empty["paths"]              # the platform routes stay documented
