"""Web fixtures for the form pages: an app on a temp SQLite file, two tenants, users with
different rights, the all-field-types inspection form (supplier published first), and
signed-in clients."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

import app as app_module
from engine.services import accounts
from engine.services import forms as form_service
from engine.services import records as record_service
from engine.storage.db import session_scope
from engine.types import Actor

PASSWORD = "correct-horse-9"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "definitions"
NOTE_FORM = {
    "format": 1, "key": "note", "label": {"zh-CN": "记事<script>alert(1)</script>", "en": "Note <script>alert(1)</script>"},
    "fields": [
        {"key": "subject", "type": "text", "label": {"zh-CN": "标题<script>x()</script>", "en": "Title <script>x()</script>"},
         "required": True},
        {"key": "secret", "type": "text", "label": {"zh-CN": "机密", "en": "Secret"}},
        {"key": "approved", "type": "boolean", "label": {"zh-CN": "已批准", "en": "Approved"}},
        {"key": "qty", "type": "number", "label": {"zh-CN": "数量", "en": "Quantity"}, "precision": 0},
        {"key": "double", "type": "formula", "label": {"zh-CN": "两倍", "en": "Double"}, "formula": "qty * 2"},
        {"key": "photo", "type": "image", "label": {"zh-CN": "照片", "en": "Photo"}},
        {"key": "docs", "type": "attachment", "label": {"zh-CN": "附件", "en": "Documents"}, "accept": [".pdf", ".txt"]},
    ],
}
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


def definition(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


@dataclass
class World:
    app: object
    tenant_a: int
    tenant_b: int
    admin: Actor
    clerk: Actor         # role "clerk" on form note: create, read/update own; "secret" hidden, "approved" readonly
    other: Actor         # another clerk
    admin_b: Actor
    supplier_id: int

    def session(self):
        return session_scope(self.app.extensions["qms_db"])


def login(client, company: str, email: str, password: str = PASSWORD):
    page = client.get("/login").get_data(as_text=True)
    token = csrf_of(page)
    res = client.post("/login", data={"company": company, "email": email, "password": password, "csrf_token": token})
    assert res.status_code == 302, res.get_data(as_text=True)[:500]
    client.csrf = page_csrf(client, "/")     # the session was renewed at sign-in: a new token
    return client


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def page_csrf(client, url: str) -> str:
    html = client.get(url).get_data(as_text=True)
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', html).group(1)


@pytest.fixture
def world(tmp_path):
    app = app_module.create_app({"QMS_DATA_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/qms.db",
                                 "TESTING": True, "SECRET_KEY": "test-secret", "QMS_MAX_UPLOAD_MB": "1"})
    with session_scope(app.extensions["qms_db"]) as s:
        ta = accounts.create_tenant(s, "alpha", "Alpha")
        tb = accounts.create_tenant(s, "beta", "Beta")
        accounts.create_department(s, ta, "iqc", {"zh-CN": "来料检验科", "en": "Incoming QC"})
        accounts.create_role(s, ta, "clerk", {"zh-CN": "文员", "en": "Clerk"})
        accounts.set_permissions(s, ta, "clerk", "form:note", {
            "create": True, "read": "own", "update": "own",
            "fields": {"secret": "hidden", "approved": "readonly"}})
        admin_id = accounts.create_user(s, ta, "admin@a.example", "Admin A", PASSWORD, is_admin=True, lang="en")
        clerk_id = accounts.create_user(s, ta, "clerk@a.example", "Clerk", PASSWORD, roles=["clerk"], lang="en")
        other_id = accounts.create_user(s, ta, "other@a.example", "Other", PASSWORD, roles=["clerk"], lang="en")
        admin_b_id = accounts.create_user(s, tb, "admin@b.example", "Admin B", PASSWORD, is_admin=True, lang="en")
        admin = accounts.actor_for_user(s, admin_id)
        admin_b = accounts.actor_for_user(s, admin_b_id)
        form_service.publish_form(s, admin, definition("supplier"))
        form_service.publish_form(s, admin, definition("all_field_types"))
        form_service.publish_form(s, admin, NOTE_FORM)
        form_service.publish_form(s, admin_b, NOTE_FORM)
        supplier_id = record_service.create_record(s, admin, "supplier", {"code": "ACME", "name": "Acme Castings",
                                                                          "grade": "A"}).id
        clerk, other = accounts.actor_for_user(s, clerk_id), accounts.actor_for_user(s, other_id)
    return World(app, ta, tb, admin, clerk, other, admin_b, supplier_id)


@pytest.fixture
def as_admin(world):
    return login(world.app.test_client(), "alpha", "admin@a.example")


@pytest.fixture
def as_clerk(world):
    return login(world.app.test_client(), "alpha", "clerk@a.example")


@pytest.fixture
def as_other(world):
    return login(world.app.test_client(), "alpha", "other@a.example")


@pytest.fixture
def as_admin_b(world):
    return login(world.app.test_client(), "beta", "admin@b.example")


def post_json(client, url: str, body: dict, csrf: str | None = None):
    headers = {"X-CSRFToken": csrf} if csrf else {}
    return client.post(url, json=body, headers=headers)


def valid_inspection(world, **changes) -> dict:
    """A complete IQC record that passes validation (readings within the limits)."""
    data = {"lot_no": "L-001", "supplier": world.supplier_id, "part_no": "P-100", "lot_size": 500,
            "sample_size": 50, "inspector": world.clerk.user_id,
            "characteristics": [{"name": "Diameter", "nominal": 10, "lsl": 9.9, "usl": 10.1,
                                 "readings": [{"value": 10.02}, {"value": 9.98}]}]}
    data.update(changes)
    return data
