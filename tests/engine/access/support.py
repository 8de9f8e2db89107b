"""Builders for the access tests: a small NCR form, roles with rules, users with departments."""
from __future__ import annotations

import itertools

from engine.services import accounts
from engine.services import forms as form_service
from engine.storage.db import session_scope

NCR = "ncr"
_n = itertools.count(1)


def ncr_definition() -> dict:
    label = lambda zh, en: {"zh-CN": zh, "en": en}  # noqa: E731
    return {"format": 1, "key": NCR, "label": label("不合格品报告", "Non-conformance"), "fields": [
        {"key": "subject", "type": "text", "label": label("主题", "Subject"), "required": True},
        {"key": "supplier", "type": "number", "label": label("供应商", "Supplier")},
        {"key": "cost", "type": "number", "label": label("损失金额", "Cost")},
        {"key": "disposition", "type": "text", "label": label("处置", "Disposition"), "default": "pending"},
    ]}


def publish_ncr(engine, admin, app_key: str | None = "qa"):
    with session_scope(engine) as s:
        return form_service.publish_form(s, admin, ncr_definition(), app_key=app_key)


def role(engine, tenant_id: int, key: str, **targets) -> None:
    """A role with rules per target: role(e, t, "inspector", form__ncr={...}, app__qa={...})."""
    with session_scope(engine) as s:
        accounts.create_role(s, tenant_id, key, {"zh-CN": key, "en": key})
        for target, rules in targets.items():
            accounts.set_permissions(s, tenant_id, key, target.replace("__", ":"), rules)


def user(engine, tenant_id: int, *roles: str, department=None, attributes=None, is_admin=False):
    """A user with roles; returns their Actor (as sign-in would build it)."""
    with session_scope(engine) as s:
        user_id = accounts.create_user(s, tenant_id, f"u{next(_n)}@example.com", "User", None, roles=roles,
                                       department=department, attributes=attributes, is_admin=is_admin)
        return accounts.actor_for_user(s, user_id, lang="en")


def department(engine, tenant_id: int, key: str, parent=None) -> int:
    with session_scope(engine) as s:
        return accounts.create_department(s, tenant_id, key, {"zh-CN": key, "en": key}, parent=parent)
