"""One company with an admin and a plain member, on a temp SQLite database, signed-in clients.

The ``apps_admin`` blueprint and the two API routes are registered here while app.py and
runtime/api do not register them yet (the API routes under the ``api.`` endpoint names, so the
API blueprint's sign-in check and JSON errors apply to them as they will once attached there).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

import app as app_module
from engine.services import accounts
from engine.storage.db import session_scope
from engine.types import Actor

PASSWORD = "apps-admin-123"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Site:
    app: object
    admin: Actor
    member: Actor

    def client(self, who: str = "admin"):
        client = self.app.test_client()
        email = "boss@acme.example" if who == "admin" else "mia@acme.example"
        res = client.post("/login", data={"company": "acme", "email": email, "password": PASSWORD,
                                           "csrf_token": csrf(client, "/login")})
        assert res.status_code == 302, res.get_data(as_text=True)[:300]
        return client

    def session(self):
        return session_scope(self.app.extensions["qms_db"])


def csrf(client, path: str = "/admin/apps") -> str:
    return CSRF.search(client.get(path).get_data(as_text=True)).group(1)


def _register(flask_app) -> None:
    if "apps_admin" not in flask_app.blueprints:          # until app.py registers it
        from runtime import apps_admin
        flask_app.register_blueprint(apps_admin.bp)
    from runtime.apps_admin import api
    for rule, endpoint, view in (("/api/v1/apps/preview", "api.preview_app", api.preview_app),
                                 ("/api/v1/apps/upgrade", "api.upgrade_app", api.upgrade_app)):
        if endpoint not in flask_app.view_functions:       # until runtime/api attaches them
            flask_app.add_url_rule(rule, endpoint, view, methods=["POST"])


@pytest.fixture
def site(tmp_path):
    flask_app = app_module.create_app({"QMS_DATA_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/qms.db",
                                       "TESTING": True, "SECRET_KEY": "test-secret"})
    _register(flask_app)
    with session_scope(flask_app.extensions["qms_db"]) as s:
        tenant_id = accounts.create_tenant(s, "acme", "Acme")
        admin = accounts.actor_for_user(s, accounts.create_user(s, tenant_id, "boss@acme.example", "Boss", PASSWORD,
                                                                is_admin=True, lang="en"))
        member = accounts.actor_for_user(s, accounts.create_user(s, tenant_id, "mia@acme.example", "Mia", PASSWORD,
                                                                 lang="en"))
    return Site(flask_app, admin, member)
