"""The app factory, first start and the health endpoints."""
from __future__ import annotations

import pytest
from sqlalchemy import select

import app as app_module
from engine.auth.passwords import verify_password
from engine.storage.db import session_scope
from engine.storage.platform import tenants, users


@pytest.fixture()
def app(tmp_path):
    return app_module.create_app({"QMS_DATA_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/qms.db",
                                  "TESTING": True})


def test_health_json_reports_database(app):
    res = app.test_client().get("/api/v1/health")
    assert res.status_code == 200
    body = res.get_json()
    assert body["status"] == "ok" and body["database"]["backend"] == "sqlite"
    assert body["jobs"] == "in-process"


def test_health_page_is_bilingual_html(app):
    res = app.test_client().get("/health")
    assert res.status_code == 200
    html = res.get_data(as_text=True)
    assert "系统状态" in html and "System status" in html and "sqlite" in html


def test_unknown_api_route_answers_json_envelope(app):
    res = app.test_client().get("/api/v1/does-not-exist")
    assert res.status_code == 404
    assert res.get_json()["error"]["code"] == "not_found"


def test_first_start_creates_tenant_and_admin_once(app):
    settings = app.config["QMS_SETTINGS"]
    db = app.extensions["qms_db"]
    first = app_module.prepare_first_start(db, settings)
    assert first.created and first.admin_password
    second = app_module.prepare_first_start(db, settings)
    assert not second.created and second.admin_password is None
    with session_scope(db) as s:
        assert s.execute(select(tenants.c.id)).scalars().all() == [first.tenant_id]
        stored = s.execute(select(users.c.password_hash).where(users.c.email == first.admin_email)).scalar_one()
    assert stored != first.admin_password and verify_password(stored, first.admin_password)


def test_admin_from_environment(tmp_path):
    app = app_module.create_app({"QMS_DATA_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/a.db",
                                 "QMS_ADMIN_EMAIL": "QE@Factory.example", "QMS_ADMIN_PASSWORD": "s3cret-pass"})
    result = app_module.prepare_first_start(app.extensions["qms_db"], app.config["QMS_SETTINGS"])
    assert result.admin_email == "qe@factory.example" and result.admin_password is None
    with session_scope(app.extensions["qms_db"]) as s:
        stored = s.execute(select(users.c.password_hash)).scalar_one()
    assert verify_password(stored, "s3cret-pass")


def test_secret_key_is_generated_once_and_kept(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    from engine.settings import load_settings
    first = load_settings({"QMS_DATA_DIR": str(tmp_path)}).secret_key
    assert len(first) > 40
    assert load_settings({"QMS_DATA_DIR": str(tmp_path)}).secret_key == first
    assert load_settings({"QMS_DATA_DIR": str(tmp_path), "SECRET_KEY": "x"}).secret_key == "x"
