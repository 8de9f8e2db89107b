"""The supplier portal in a real browser on a phone (375×812): supplier A's user signs in, lands on
/portal, opens the 8D's D3 task, fills the containment action, attaches a file and submits; the
8D moves on to D4–D5 and the file is on the record.

The app runs in this process on a werkzeug server with ``runtime.portal.init_app`` (until app.py
wires it, ``python app.py`` has no portal); the data is made with tests/runtime/portal/support.py.
Screenshots: /tmp/portal-task.png (the filled D3 step) and /tmp/portal.png (the portal after it).
"""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

import app as app_module
from engine.services import accounts
from engine.storage.db import session_scope
from engine.storage.platform import files
from tests.e2e.conftest import PHONE, require_browser, sign_in
from tests.runtime.portal.support import PASSWORD, build

try:
    from playwright.sync_api import expect
except ImportError:           # require_browser() skips (or fails in CI) with the reason
    expect = None


@pytest.fixture
def portal_site(tmp_path):
    require_browser()
    app = app_module.create_app({"QMS_DATA_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/qms.db",
                                 "QMS_ADMIN_PASSWORD": "portal-admin-pass-1", "SECRET_KEY": "portal-e2e"})
    app_module.prepare_first_start(app.extensions["qms_db"], app.config["QMS_SETTINGS"])
    engine = app.extensions["qms_db"]
    with session_scope(engine) as s:
        tenant = accounts.tenant_id_by_key(s, "default")
        admin = accounts.actor_for_user(s, accounts.user_id_by_email(s, tenant, "admin@example.com"), lang="en")
    world = build(engine, admin)
    world.answer_d1_d2("A")                 # the 8D now waits for A's containment (D3)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", world, engine
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture
def phone_page(portal_site, browser):
    """A phone-sized page in the session's browser (one Playwright per process: a second one would
    clash with the event loop of the first)."""
    base, _world, _engine = portal_site
    context = browser.new_context(base_url=base, locale="zh-CN", viewport=PHONE, device_scale_factor=2,
                                  is_mobile=True, has_touch=True)
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def test_supplier_answers_containment_with_a_file_on_a_phone(portal_site, phone_page, tmp_path):
    _base, world, engine = portal_site
    page = phone_page
    sign_in(page, world.emails["A"], PASSWORD)
    page.wait_for_url("**/portal")
    expect(page.locator("h1")).to_contain_text("Supplier A Castings")
    expect(page.locator("body")).not_to_contain_text("Supplier B")
    expect(page.locator("#tasks")).to_contain_text("D3")

    page.locator("#tasks a.button").first.click()
    page.wait_for_url("**/portal/tasks/*")
    page.fill("#sub_d3_actions_0_action", "对库存 100% X 光检查 / 100 % X-ray of stock")
    page.select_option("#sub_d3_actions_0_scope", "warehouse")
    page.fill("#sub_d3_actions_0_qty_checked", "3400")
    page.fill("#sub_d3_actions_0_qty_found", "12")
    page.fill("#field_d3_clean_point", "Date code 2026-W12")
    page.fill("#field_d3_completed_at", "2026-01-05T09:30")
    report = tmp_path / "sorting-report.pdf"
    report.write_bytes(b"%PDF-1.4\n% sorting report of lot L-A-1\n")
    page.set_input_files("#evidence", str(report))
    page.fill("#comment", "围堵已完成 / Containment in place")
    page.screenshot(path="/tmp/portal-task.png", full_page=True)

    page.locator("#answer-form button[type=submit]").click()
    page.wait_for_url("**/portal")
    expect(page.locator(".flash.ok")).to_be_visible()
    expect(page.locator("#tasks")).not_to_contain_text("D3")
    page.screenshot(path="/tmp/portal.png", full_page=True)

    assert [t["node_id"] for t in world.open_tasks("eight_d", world.eight_ds["A"])] == ["d4_d5"]
    with session_scope(engine) as s:
        stored = s.execute(select(files).where(files.c.name == "sorting-report.pdf")).mappings().one()
    assert (stored["form_key"], stored["record_id"]) == ("eight_d", world.eight_ds["A"])
