"""The audit chain's admin page (/admin/audit) and the ``qms verify-audit`` command."""
from __future__ import annotations

import pytest
from sqlalchemy import text

import app as app_module
from engine.services import accounts
from engine.services import forms as form_service
from engine.services import records as record_service
from engine.storage.db import session_scope
from engine.types import Actor
from runtime import audit_admin
from tests.runtime.web_support import csrf_from, make_app, sign_in

FORM = {"format": 1, "key": "lot", "label": {"zh-CN": "批次", "en": "Lot"},
        "fields": [{"key": "qty", "type": "number", "label": {"zh-CN": "数量", "en": "Qty"}, "precision": 0}]}


@pytest.fixture
def world(tmp_path, monkeypatch):
    """An app (page registered) whose default tenant has 3 records with 5 audit entries, a member,
    and a second tenant with one entry."""
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "false")
    app = make_app(tmp_path)
    audit_admin.init_app(app)
    with session_scope(app.extensions["qms_db"]) as s:
        tenant = accounts.tenant_id_by_key(s, "default")
        admin = Actor(tenant_id=tenant, user_id=accounts.user_id_by_email(s, tenant, "admin@example.com"),
                      lang="en", name="Admin", is_admin=True)
        accounts.create_user(s, tenant, "member@example.com", "Member", "member-pass-123")
        other = accounts.create_tenant(s, "other", "Other")
        other_admin = Actor(tenant_id=other, user_id=accounts.create_user(s, other, "o@example.com", "O", "o-pass-1234",
                                                                          is_admin=True), lang="en", is_admin=True)
        ids = []
        for actor in (admin, other_admin):
            form_service.publish_form(s, actor, FORM)
            ids.append(record_service.create_record(s, actor, "lot", {"qty": 1}).id)
        ids += [record_service.create_record(s, admin, "lot", {"qty": n}).id for n in (2, 3)]
        record_service.update_record(s, admin, "lot", ids[0], 1, {"qty": 5}, "recount")
        record_service.update_record(s, admin, "lot", ids[2], 1, {"qty": 6})
    app.test_data = {"tenant": tenant, "other": other, "record": ids[0]}
    return app


def _sql(app, statement: str, **params) -> None:
    with app.extensions["qms_db"].begin() as conn:
        conn.execute(text(statement), params)


def test_only_the_tenants_admins_see_the_page_and_verify_their_own_chain(world):
    member = world.test_client()
    sign_in(member, "member@example.com", "member-pass-123")
    assert member.get("/admin/audit").status_code == 403
    assert member.post("/admin/audit/verify", data={"csrf_token": csrf_from(member, "/")}).status_code == 403
    client = world.test_client()
    sign_in(client)
    page = client.get("/admin/audit").get_data(as_text=True)
    assert 'data-testid="audit-count">5<' in page and "尚未校验" in page
    assert 'href="/admin/audit"' in page                          # the header link
    assert client.post("/admin/audit/verify").status_code == 400    # no CSRF token
    res = client.post("/admin/audit/verify", data={"csrf_token": csrf_from(client, "/admin/audit")})
    assert res.status_code == 303
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "审计链完整" in page
    with session_scope(world.extensions["qms_db"]) as s:
        checks = s.execute(text("SELECT tenant_id, ok, checked FROM audit_checks")).all()
    assert [tuple(c) for c in checks] == [(world.test_data["tenant"], True, 5)]     # the other tenant untouched


def test_after_a_raw_tamper_the_page_shows_the_first_broken_link_and_its_record(world):
    _sql(world, "UPDATE audit_log SET reason = 'forged' WHERE tenant_id = :t AND seq = 4", t=world.test_data["tenant"])
    client = world.test_client()
    sign_in(client)
    client.post("/admin/audit/verify", data={"csrf_token": csrf_from(client, "/admin/audit")})
    page = client.get("/admin/audit").get_data(as_text=True)
    assert 'data-testid="audit-kind">altered<' in page
    assert f'href="/f/lot/{world.test_data["record"]}" data-testid="audit-record"' in page


def _qms(app, *args):
    return app.test_cli_runner().invoke(app_module.cli, ["verify-audit", *args])


def test_the_command_exits_0_when_intact_1_when_broken_2_on_usage_errors(world):
    ok = _qms(world)
    assert ok.exit_code == 0, ok.output
    assert "default: intact" in ok.output and "other: intact" in ok.output
    head = next(w for w in ok.output.split() if w.startswith("5:"))
    assert _qms(world, "--tenant", "default", "--anchor", head).exit_code == 0
    assert _qms(world, "--tenant", "nobody").exit_code == 2
    assert _qms(world, "--anchor", head).exit_code == 2
    assert _qms(world, "--tenant", "default", "--anchor", "5:xyz").exit_code == 2
    _sql(world, "DELETE FROM audit_log WHERE tenant_id = :t AND seq = 2", t=world.test_data["tenant"])
    broken = _qms(world)
    assert broken.exit_code == 1
    assert "default: BROKEN" in broken.output and "gap at seq / 序号 2" in broken.output
    assert "Audit entry 2 is missing" in broken.output and "缺少第 2 条审计记录" in broken.output
    assert "other: intact" in broken.output
    assert _qms(world, "--tenant", "other").exit_code == 0
