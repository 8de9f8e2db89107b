"""Builders for the API tests: two tenants with a small inspection form, roles, users and tokens."""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from sqlalchemy import select

from engine.services import accounts, logins
from engine.services import forms as form_service
from engine.storage.db import session_scope
from engine.storage.platform import users
from engine.types import Actor
from tests.runtime.web_support import ADMIN_PASSWORD, make_app

PASSWORD = "user-pass-1234"
_n = itertools.count(1)


def label(zh: str, en: str) -> dict:
    return {"zh-CN": zh, "en": en}


def inspection_definition(key: str = "inspection") -> dict:
    """A form with required fields, bounds, a formula, a date and a sub-table."""
    return {"format": 1, "key": key, "label": label("来料检验", "Incoming inspection"), "fields": [
        {"key": "lot_no", "type": "text", "label": label("批号", "Lot number"), "required": True, "max_length": 10},
        {"key": "qty", "type": "number", "label": label("数量", "Quantity"), "required": True, "min": 1},
        {"key": "defects", "type": "number", "label": label("不良数", "Defects"), "min": 0},
        {"key": "rate", "type": "formula", "label": label("不良率", "Defect rate"), "formula": "defects / qty"},
        {"key": "inspected_on", "type": "date", "label": label("检验日期", "Inspected on")},
        {"key": "items", "type": "subtable", "label": label("测量值", "Readings"), "fields": [
            {"key": "value", "type": "number", "label": label("测量值", "Value"), "required": True}]},
    ]}


def app_package(app_key: str = "iqc", form_key: str = "inspection") -> dict:
    return {"format": 1, "key": app_key, "version": "1.0.0", "label": label("来料检验", "Incoming QC"),
            "forms": [inspection_definition(form_key)]}


@dataclass
class Tenant:
    """One company in the test database: its admin Actor and token, and more users on demand."""

    app: object
    tenant_id: int
    key: str
    admin: Actor
    admin_token: str
    tokens: dict = field(default_factory=dict)

    @property
    def engine(self):
        return self.app.extensions["qms_db"]

    def publish(self, definition: dict, app_key: str | None = None) -> None:
        with session_scope(self.engine) as s:
            form_service.publish_form(s, self.admin, definition, app_key)

    def role(self, key: str, target: str, rules: dict) -> None:
        with session_scope(self.engine) as s:
            accounts.create_role(s, self.tenant_id, key, label(key, key))
            accounts.set_permissions(s, self.tenant_id, key, target, rules)

    def user(self, *roles: str, lang: str = "en") -> tuple[str, str]:
        """A user with ``roles``: (email, API token)."""
        email = f"user{next(_n)}@example.com"
        with session_scope(self.engine) as s:
            user_id = accounts.create_user(s, self.tenant_id, email, "User", PASSWORD, roles=roles, lang=lang)
            token = logins.create_api_token(s, self.tenant_id, user_id, "test")
        return email, token


def add_tenant(app, key: str) -> Tenant:
    """A tenant with an admin (created through the engine's services, like the CLI does)."""
    with session_scope(app.extensions["qms_db"]) as s:
        tenant_id = accounts.create_tenant(s, key, key) if key != "default" else 1
        email = f"admin@{key}.example.com" if key != "default" else "admin@example.com"
        if key != "default":
            accounts.create_user(s, tenant_id, email, "Administrator", ADMIN_PASSWORD, is_admin=True, lang="en")
        user_id = s.execute(select(users.c.id).where(users.c.tenant_id == tenant_id, users.c.email == email)).scalar()
        admin = accounts.actor_for_user(s, user_id)
        token = logins.create_api_token(s, tenant_id, user_id, "test")
    return Tenant(app, tenant_id, key, admin, token)


def bearer(token: str, lang: str = "en") -> dict:
    return {"Authorization": f"Bearer {token}", "Accept-Language": lang}


def build(tmp_path):
    """The app with tenant A ("default") and tenant B ("other"), each with the inspection form."""
    app = make_app(tmp_path)
    a, b = add_tenant(app, "default"), add_tenant(app, "other")
    return app, a, b
