"""The tenant's OpenAPI document: a valid OpenAPI 3.1 document, typed per published form, tenant-only.
Re-run on PostgreSQL by tests/integration."""
import json

from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from engine.services.openapi import openapi_document
from engine.storage.db import session_scope
from tests.engine.services.support import IQC_KEY, create, definition, lot, publish, publish_iqc

GENERIC = {"/auth/token", "/openapi.json", "/apps", "/apps/import", "/apps/{app_key}/export", "/forms/{form_key}",
           "/expressions/check", "/expressions/evaluate"}
RECORDS = f"/forms/{IQC_KEY}/records"


def document(engine, tenant_id, **kw) -> dict:
    with session_scope(engine) as s:
        return openapi_document(s, tenant_id, **kw)


def resolve(doc: dict, ref: dict) -> dict:
    kind, name = ref["$ref"].split("/")[-2:]
    return doc["components"][kind][name]


def test_the_document_is_valid_openapi_31_with_typed_forms(db_engine, actor):
    publish_iqc(db_engine, actor)
    doc = document(db_engine, actor.tenant_id)
    validate(doc)                                                    # raises on any spec violation
    json.dumps(doc)                                                  # serialisable as it is
    assert doc["openapi"].startswith("3.1") and doc["servers"] == [{"url": "/api/v1"}]
    assert GENERIC <= set(doc["paths"]) and {RECORDS, RECORDS + "/{id}", "/forms/supplier/records"} <= set(doc["paths"])
    assert doc["components"]["securitySchemes"]["bearerAuth"] == {"type": "http", "scheme": "bearer"}
    assert doc["security"] == [{"bearerAuth": []}] and doc["paths"]["/auth/token"]["post"]["security"] == []
    data = doc["components"]["schemas"][f"{IQC_KEY}_data"]["properties"]
    assert data["lot_size"]["type"] == ["integer", "null"] and data["inspection_date"]["format"] == "date"
    assert data["aql"]["enum"][:3] == ["0.65", "1.0", "2.5"] and data["lot_result"]["readOnly"] is True
    assert data["characteristics"]["items"]["properties"]["readings"]["type"] == ["array", "null"]
    record = doc["components"]["schemas"][f"{IQC_KEY}_record"]
    assert record["required"] == ["id", "version", "data"]
    assert record["properties"]["data"] == {"$ref": f"#/components/schemas/{IQC_KEY}_data"}


def test_record_routes_follow_the_contract(db_engine, actor):
    publish_iqc(db_engine, actor)
    doc = document(db_engine, actor.tenant_id)
    collection, item = doc["paths"][RECORDS], doc["paths"][RECORDS + "/{id}"]
    assert set(collection) == {"get", "post"} and {"get", "patch", "delete"} <= set(item)
    assert {"201", "422"} <= set(collection["post"]["responses"])
    assert {"200", "404", "409", "422"} <= set(item["patch"]["responses"]) and "404" in item["get"]["responses"]
    names = {p["$ref"].rsplit("/", 1)[1] for p in collection["get"]["parameters"]}
    assert names == {"filter", "sort", "page", "per_page"}
    update = resolve(doc, collection["post"]["requestBody"]["content"]["application/json"]["schema"])
    assert update["required"] == ["data"]
    patch = resolve(doc, item["patch"]["requestBody"]["content"]["application/json"]["schema"])
    assert patch["required"] == ["version", "data"]
    error = resolve(doc, resolve(doc, item["patch"]["responses"]["409"])["content"]["application/json"]["schema"])
    assert error["required"] == ["error"] and error["properties"]["error"]["required"] == ["code", "message"]
    assert "errors" in error["properties"]
    ids = [op["operationId"] for path in doc["paths"].values() for op in path.values() if isinstance(op, dict)
           and "operationId" in op]
    assert len(ids) == len(set(ids))


def test_a_stored_record_validates_against_its_form_schema(db_engine, actor):
    supplier = publish_iqc(db_engine, actor)
    stored = create(db_engine, actor, IQC_KEY, lot(supplier.id))
    doc = document(db_engine, actor.tenant_id)
    schema = {"$ref": f"#/components/schemas/{IQC_KEY}_record", "components": doc["components"]}
    Draft202012Validator(schema).validate({"id": stored.id, "version": stored.version, "data": stored.data})
    bad = dict(stored.data, lot_size="many")
    assert not Draft202012Validator(schema).is_valid({"id": stored.id, "version": 1, "data": bad})


def test_a_tenant_sees_only_its_own_forms(db_engine, actor, make_tenant):
    publish_iqc(db_engine, actor)
    other = make_tenant()
    from engine.types import Actor
    publish(db_engine, Actor(tenant_id=other, user_id=1, is_admin=True), definition("supplier"))
    doc = document(db_engine, other)
    validate(doc)
    form_paths = {p for p in doc["paths"] if p.startswith("/forms/") and p != "/forms/{form_key}"}
    assert form_paths == {"/forms/supplier/records", "/forms/supplier/records/{id}",
                          "/forms/supplier/records/bulk-update", "/forms/supplier/records/bulk-delete"}
    assert not any(name.startswith(IQC_KEY) for name in doc["components"]["schemas"])
    assert IQC_KEY not in json.dumps(doc)


def test_texts_follow_the_language(db_engine, actor):
    publish(db_engine, actor, definition("supplier"))
    zh, en = document(db_engine, actor.tenant_id, lang="zh-CN"), document(db_engine, actor.tenant_id, lang="en")
    assert zh["components"]["schemas"]["supplier_data"]["title"] == "供应商"
    assert en["components"]["schemas"]["supplier_data"]["title"] == "Supplier"
    assert zh["components"]["schemas"]["supplier_data"]["properties"]["code"]["title"] == "供应商代码"
    assert zh["info"]["title"] != en["info"]["title"]
    assert document(db_engine, actor.tenant_id, base_url="https://qms.example.com/api/v1")["servers"][0]["url"] \
        == "https://qms.example.com/api/v1"
