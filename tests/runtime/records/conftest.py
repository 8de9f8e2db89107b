"""Web fixtures for the record pages: an app on a temp SQLite file, two tenants, users with
different rights, a published inspection form with a sub-table, and signed-in clients."""
from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

import app as app_module
from engine.services import accounts
from engine.services import forms as form_service
from engine.services import records as record_service
from engine.storage.db import session_scope
from engine.types import Actor

PASSWORD = "correct-horse-9"
LOT_FORM = {
    "format": 1, "key": "lot", "label": {"zh-CN": "来料批次", "en": "Incoming <b>lot</b>"},
    "numbering": "LOT-{0000}", "title_template": "{lot_no}",
    "fields": [
        {"key": "lot_no", "type": "text", "label": {"zh-CN": "批号", "en": "Lot <i>no</i>"}, "required": True,
         "indexed": True},
        {"key": "supplier_name", "type": "text", "label": {"zh-CN": "供应商", "en": "Supplier"}},
        {"key": "result", "type": "select", "label": {"zh-CN": "结果", "en": "Result"},
         "choices": [{"code": "OK", "label": {"zh-CN": "合格", "en": "Pass"}},
                     {"code": "NG", "label": {"zh-CN": "不合格", "en": "Fail"}}]},
        {"key": "qty", "type": "number", "label": {"zh-CN": "数量", "en": "Quantity"}, "precision": 0},
        {"key": "inspected_on", "type": "date", "label": {"zh-CN": "检验日期", "en": "Inspected on"}},
        {"key": "note", "type": "textarea", "label": {"zh-CN": "备注", "en": "Note"}},
        {"key": "docs", "type": "attachment", "label": {"zh-CN": "附件", "en": "Documents"}},
        {"key": "items", "type": "subtable", "label": {"zh-CN": "缺陷明细", "en": "Defects"}, "fields": [
            {"key": "code", "type": "text", "label": {"zh-CN": "缺陷代码", "en": "Defect code"}},
            {"key": "count", "type": "number", "label": {"zh-CN": "数量", "en": "Count"}, "precision": 0},
        ]},
    ],
}


@dataclass
class World:
    app: object
    tenant_a: int
    tenant_b: int
    admin: Actor
    owner: Actor          # role "inspector": read/update/delete own records only, create, no export
    other: Actor          # another inspector
    admin_b: Actor

    def session(self):
        return session_scope(self.app.extensions["qms_db"])

    def create(self, actor: Actor, **data) -> int:
        with self.session() as s:
            return record_service.create_record(s, actor, "lot", data).id


def login(client, company: str, email: str, password: str = PASSWORD):
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    res = client.post("/login", data={"company": company, "email": email, "password": password, "csrf_token": token})
    assert res.status_code == 302, res.get_data(as_text=True)[:500]
    return client


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


@pytest.fixture
def world(tmp_path):
    app = app_module.create_app({"QMS_DATA_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/qms.db",
                                 "TESTING": True, "SECRET_KEY": "test-secret"})
    with session_scope(app.extensions["qms_db"]) as s:
        ta = accounts.create_tenant(s, "alpha", "Alpha")
        tb = accounts.create_tenant(s, "beta", "Beta")
        accounts.create_role(s, ta, "inspector", {"zh-CN": "检验员", "en": "Inspector"})
        accounts.set_permissions(s, ta, "inspector", "form:lot",
                                 {"create": True, "read": "own", "update": "own", "delete": "own"})
        admin = accounts.create_user(s, ta, "admin@a.example", "Admin A", PASSWORD, is_admin=True, lang="en")
        owner = accounts.create_user(s, ta, "owner@a.example", "Olga Owner", PASSWORD, roles=["inspector"], lang="en")
        other = accounts.create_user(s, ta, "other@a.example", "Otto Other", PASSWORD, roles=["inspector"], lang="en")
        admin_b = accounts.create_user(s, tb, "admin@b.example", "Admin B", PASSWORD, is_admin=True, lang="en")
        actors = [accounts.actor_for_user(s, u) for u in (admin, owner, other, admin_b)]
        form_service.publish_form(s, actors[0], LOT_FORM)
        form_service.publish_form(s, actors[3], LOT_FORM)
    return World(app, ta, tb, *actors)


@pytest.fixture
def admin_client(world):
    return login(world.app.test_client(), "alpha", "admin@a.example")
