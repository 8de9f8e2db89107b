"""Two companies with an admin and a member each, signed-in clients, captured jobs.

The ``notify`` blueprint is registered here when app.py does not register it yet.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

import app as app_module
from engine.jobs import queue
from engine.services import accounts
from engine.storage.db import session_scope
from engine.types import Actor

PASSWORD = "notify-pass-123"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Company:
    key: str
    tenant_id: int
    admin: Actor
    member: Actor
    emails: dict


@dataclass
class Site:
    app: object
    a: Company
    b: Company

    @property
    def engine(self):
        return self.app.extensions["qms_db"]

    def client(self, company: Company, who: str = "admin"):
        client = self.app.test_client()
        res = client.post("/login", data={"company": company.key, "email": company.emails[who], "password": PASSWORD,
                                          "csrf_token": csrf(client, "/login")})
        assert res.status_code == 302, res.get_data(as_text=True)[:300]
        return client


def csrf(client, path: str = "/notifications") -> str:
    return CSRF.search(client.get(path).get_data(as_text=True)).group(1)


def post(client, path: str, data: dict | None = None, token_from: str = "/notifications"):
    return client.post(path, data={"csrf_token": csrf(client, token_from), **(data or {})})


def _company(engine, key: str) -> Company:
    with session_scope(engine) as s:
        tenant_id = accounts.create_tenant(s, key, key.title())
        emails = {"admin": f"boss@{key}.example", "member": f"qe@{key}.example"}
        admin = accounts.actor_for_user(s, accounts.create_user(s, tenant_id, emails["admin"], "Boss", PASSWORD,
                                                                is_admin=True, lang="en"))
        member = accounts.actor_for_user(s, accounts.create_user(s, tenant_id, emails["member"], "Quinn", PASSWORD,
                                                                 lang="en"))
    return Company(key, tenant_id, admin, member, emails)


@pytest.fixture
def jobs(monkeypatch):
    captured = []
    monkeypatch.setattr(queue, "enqueue_many", lambda calls: captured.extend(calls) or True)
    return captured


@pytest.fixture
def site(tmp_path, monkeypatch, jobs):
    for name in ("SMTP_HOST", "SMTP_PORT", "SMTP_USER", "SMTP_PASSWORD", "SMTP_FROM", "SMTP_SECURITY"):
        monkeypatch.delenv(name, raising=False)
    app = app_module.create_app({"QMS_DATA_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/qms.db",
                                 "TESTING": True, "SECRET_KEY": "test-secret"})
    if "notify" not in app.blueprints:         # until app.py registers it
        from runtime import notify
        app.register_blueprint(notify.bp)
    engine = app.extensions["qms_db"]
    return Site(app, _company(engine, "acme"), _company(engine, "globex"))
