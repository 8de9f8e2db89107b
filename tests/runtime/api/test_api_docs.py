"""The OpenAPI document (valid, per tenant, server URL from the request) and its browsable page."""
from __future__ import annotations

import re

from openapi_spec_validator import validate

from tests.runtime.api.support import bearer
from tests.runtime.web_support import sign_in


def test_openapi_document_validates_and_lists_the_tenants_forms(client, tenant_a):
    res = client.get("/api/v1/openapi.json", headers=bearer(tenant_a.admin_token), base_url="http://qms.plant:8080")
    doc = res.get_json()
    validate(doc)
    assert doc["servers"] == [{"url": "http://qms.plant:8080/api/v1"}]
    assert "/forms/inspection/records/{id}" in doc["paths"]
    assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_every_documented_route_exists(app, client, tenant_a):
    doc = client.get("/api/v1/openapi.json", headers=bearer(tenant_a.admin_token)).get_json()
    rules = {(re.sub(r"<(?:\w+:)?\w+>", "{}", r.rule), m.lower()) for r in app.url_map.iter_rules()
             for m in r.methods}
    for path, operations in doc["paths"].items():
        concrete = re.sub(r"/forms/[^/]+", "/forms/{}", "/api/v1" + re.sub(r"\{\w+\}", "{}", path))
        for method in operations:
            if method != "parameters":
                assert (concrete, method) in rules, (path, method)


def test_document_language_follows_the_caller(client, tenant_a):
    zh = client.get("/api/v1/openapi.json", headers=bearer(tenant_a.admin_token, "zh-CN")).get_json()
    assert zh["info"]["title"] == "质量管理平台 API"


def test_docs_page_loads_vendored_swagger_ui(client, tenant_a):
    sign_in(client)
    page = client.get("/api/v1/docs")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'data-spec-url="/api/v1/openapi.json"' in html
    assets = re.findall(r'(?:src|href)="(/static/vendor/swagger-ui/[^"]+)"', html)
    assert len(assets) == 2
    for asset in assets:
        assert client.get(asset).status_code == 200
    assert "http://" not in html.split("<body>")[0] and "cdn" not in html.lower()
    assert client.get("/static/vendor/swagger-ui/LICENSE").status_code == 200


def test_session_users_can_read_the_document_the_page_loads(client, tenant_a):
    sign_in(client)
    assert client.get("/api/v1/openapi.json").status_code == 200
