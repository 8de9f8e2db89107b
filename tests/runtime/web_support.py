"""Builders for web tests: an app on a temp SQLite database, signed-in clients."""
from __future__ import annotations

import re

import app as app_module

ADMIN_PASSWORD = "admin-pass-123"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_app(tmp_path, **config):
    app = app_module.create_app({"QMS_DATA_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/qms.db",
                                 "QMS_ADMIN_PASSWORD": ADMIN_PASSWORD, "TESTING": True, **config})
    app_module.prepare_first_start(app.extensions["qms_db"], app.config["QMS_SETTINGS"])
    return app


def csrf_from(client, path: str = "/login") -> str:
    return CSRF_RE.search(client.get(path).get_data(as_text=True)).group(1)


def sign_in(client, email: str = "admin@example.com", password: str = ADMIN_PASSWORD, company: str = "default"):
    token = csrf_from(client)
    return client.post("/login", data={"company": company, "email": email, "password": password, "csrf_token": token})
