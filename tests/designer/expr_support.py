"""A site for the expression-editor and preview tests: an inspection form published in the
default tenant (with a visible-if, a formula and a sub-table), a reader without design rights,
and another company with its own admin."""
from __future__ import annotations

from dataclasses import dataclass

from engine.services import accounts, designs
from engine.services import forms as form_service
from engine.storage.db import session_scope
from tests.runtime.web_support import ADMIN_PASSWORD, csrf_from, make_app, sign_in


def L(zh: str, en: str) -> dict:
    return {"zh-CN": zh, "en": en}


def inspection(key: str = "inspection") -> dict:
    """Required fields, a formula, a visible-if condition, a date and a sub-table with a row formula."""
    return {"format": 1, "key": key, "label": L("来料检验", "Incoming inspection"), "fields": [
        {"key": "lot_no", "type": "text", "label": L("批号", "Lot number"), "required": True},
        {"key": "qty", "type": "number", "label": L("数量", "Quantity"), "required": True, "min": 1},
        {"key": "defects", "type": "number", "label": L("不良数", "Defects"), "min": 0},
        {"key": "rate", "type": "formula", "label": L("不良率", "Defect rate"), "formula": "defects / qty"},
        {"key": "reason", "type": "text", "label": L("不良原因", "Defect reason"), "visible": {"expr": "defects > 0"}},
        {"key": "inspected_on", "type": "date", "label": L("检验日期", "Inspected on")},
        {"key": "items", "type": "subtable", "label": L("测量值", "Readings"), "fields": [
            {"key": "value", "type": "number", "label": L("测量值", "Value"), "required": True},
            {"key": "double", "type": "formula", "label": L("两倍", "Double"), "formula": "value * 2"}]},
    ]}


def draft_sheet() -> dict:
    """The saved (unpublished) draft of form ``sheet`` in app ``qa``: the inspection plus a weight."""
    sheet = inspection("sheet")
    sheet["fields"].insert(2, {"key": "weight", "type": "number", "label": L("重量 <b>kg</b>", "Weight <b>kg</b>")})
    return sheet


@dataclass
class Site:
    app: object
    home: int
    other: int

    def client(self, email: str = "admin@example.com", company: str = "default", lang: str = "en"):
        client = self.app.test_client()
        assert sign_in(client, email=email, company=company).status_code == 302
        token = csrf_from(client, "/")
        client.environ_base.update({"HTTP_X_CSRFTOKEN": token})
        with client.session_transaction() as sess:
            sess["lang"] = lang
        return client


def build_site(tmp_path) -> Site:
    app = make_app(tmp_path)
    with session_scope(app.extensions["qms_db"]) as s:
        home = accounts.tenant_id_by_key(s, "default")
        admin = accounts.actor_for_user(s, accounts.user_id_by_email(s, home, "admin@example.com"))
        form_service.publish_form(s, admin, inspection())
        accounts.create_role(s, home, "reader", L("只读", "Reader"))
        accounts.set_permissions(s, home, "reader", "form:inspection", {"read": "all", "create": True})
        accounts.create_user(s, home, "rita@home.example", "Rita Reader", ADMIN_PASSWORD, roles=["reader"])
        designs.create_app(s, admin, "qa", L("质量", "Quality"))
        designs.new_definition(s, admin, "qa", "form", "sheet", L("检验单", "Sheet"))
        designs.save_draft(s, admin, "form", "sheet", draft_sheet(), 1)
        other = accounts.create_tenant(s, "globex", "Globex")
        accounts.create_user(s, other, "olga@globex.example", "Olga Other", ADMIN_PASSWORD, is_admin=True)
    return Site(app, home, other)
