"""An approval end to end in a real browser: a flow published through ``POST /api/v1/flows``, a
submitter who fills the form on a desktop, an approver who opens the inbox on a phone (375×812),
mistypes the signature password (the error appears at the field), signs and approves, and the
submitter who then sees the approval and the electronic signature in the record's timeline."""
from __future__ import annotations

import re

from engine.services import accounts
from engine.storage.db import make_engine, session_scope
from tests.e2e.conftest import COMPANY, SCREENSHOTS, api, sign_in

try:
    from playwright.sync_api import expect
except ImportError:           # the fixtures skip (or fail in CI) with the reason
    expect = None

FORM_KEY = "e2e_ncr"
PASSWORD = "e2e-flow-pass-1"
SUBMITTER = "sam@e2e.example"
APPROVER = "quinn@e2e.example"


def _label(zh: str, en: str) -> dict:
    return {"zh-CN": zh, "en": en}


NCR_APP = {"format": 1, "key": "e2e_flow", "version": "1.0.0", "label": _label("审批测试", "Approval test"),
           "forms": [{"format": 1, "key": FORM_KEY, "label": _label("不合格品报告", "Nonconformance report"),
                      "numbering": "NCR-{0000}", "title_template": "{subject}", "fields": [
                          {"key": "subject", "type": "text", "label": _label("问题", "Problem"), "required": True},
                          {"key": "cost", "type": "number", "label": _label("损失金额", "Cost"), "precision": 0},
                          {"key": "disposition", "type": "select", "label": _label("处置", "Disposition"),
                           "choices": [{"code": "scrap", "label": _label("报废", "Scrap")},
                                       {"code": "rework", "label": _label("返工", "Rework")}]},
                          {"key": "detail", "type": "textarea", "label": _label("描述", "Description")}]}]}

FLOW = {"format": 1, "key": "e2e_ncr_review", "label": _label("不合格品评审", "NCR review"), "form": FORM_KEY,
        "nodes": [
            {"id": "start", "type": "start", "next": "qe"},
            {"id": "qe", "type": "approval", "label": _label("质量经理批准", "QA manager approval"),
             "assignees": [{"kind": "role", "role": "e2e_qa"}], "mode": "any",
             "fields": {"disposition": "editable", "cost": "hidden"}, "signature": {"meaning": "approved"},
             "next": "cost_check"},
            {"id": "cost_check", "type": "exclusive", "label": _label("金额判断", "Cost check"), "branches": [
                {"label": _label("金额过高", "High cost"), "condition": "cost > 10000", "next": "mrb"},
                {"label": _label("其他", "Otherwise"), "default": True, "next": "done"}]},
            {"id": "mrb", "type": "approval", "label": _label("MRB 评审", "MRB review"),
             "assignees": [{"kind": "role", "role": "e2e_qa"}], "mode": "all", "next": "done"},
            {"id": "done", "type": "end"}]}


def _world(live_server) -> None:
    """The app and flow through the API; roles and people through the services (once per server)."""
    status, body = api(live_server.url, "GET", f"/api/v1/forms/{FORM_KEY}", token=live_server.token)
    if status == 200:
        return
    status, body = api(live_server.url, "POST", "/api/v1/apps/import", NCR_APP, live_server.token)
    assert status == 201, body
    engine = make_engine(f"sqlite:///{live_server.log_path.parent / 'qms.sqlite3'}")
    try:
        with session_scope(engine) as s:
            tenant = accounts.tenant_id_by_key(s, COMPANY)
            accounts.create_role(s, tenant, "e2e_clerk", _label("提交人", "Clerk"))
            accounts.create_role(s, tenant, "e2e_qa", _label("质量经理", "QA manager"))
            accounts.set_permissions(s, tenant, "e2e_clerk", f"form:{FORM_KEY}",
                                     {"create": True, "read": "own", "update": "own"})
            accounts.create_user(s, tenant, SUBMITTER, "王小明 Sam", PASSWORD, roles=["e2e_clerk"])
            accounts.create_user(s, tenant, APPROVER, "李质量 Quinn", PASSWORD, roles=["e2e_qa"])
    finally:
        engine.dispose()
    status, body = api(live_server.url, "POST", "/api/v1/flows", FLOW, live_server.token)
    assert status == 201, body


def control(page, key: str):
    return page.locator(f'.field[data-key="{key}"] .v').first


def test_submit_approve_with_signature_on_a_phone_and_see_it_in_the_timeline(live_server, desktop, phone, shots):
    _world(live_server)

    # the submitter fills the form on a desktop: the flow starts by itself
    sign_in(desktop, SUBMITTER, PASSWORD)
    desktop.goto(f"/f/{FORM_KEY}/new")
    control(desktop, "subject").fill("外壳毛刺 Burr on housing")
    control(desktop, "cost").fill("320")
    control(desktop, "detail").fill("批次 L-88 有 12 件毛刺 <b>not bold</b>")
    desktop.locator("#record-form button[type=submit]").click()
    desktop.wait_for_url(re.compile(rf"/f/{FORM_KEY}/\d+$"))
    record_url = desktop.url
    expect(desktop.locator(".flow .state-badge")).to_have_text("审批中")
    expect(desktop.locator(".flow-steps .step.current")).to_contain_text("质量经理批准")
    shots(desktop, "20-flow-submitted-desktop")

    # the approver on a phone: the badge, the inbox, the task
    page = phone
    sign_in(page, APPROVER, PASSWORD)
    page.goto("/tasks")
    expect(page.locator(".topbar nav a[href='/tasks'] .count")).to_have_text("1")
    row = page.locator(".task-row", has_text="Burr on housing")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("需签名")
    expect(page.locator("#batch-form")).to_have_count(0)              # nothing here can be batch-approved
    shots(page, "21-phone-inbox")
    row.locator(".task-main").click()
    page.wait_for_url(re.compile(r"/tasks/\d+$"))
    expect(page.locator("main")).not_to_contain_text("损失金额")          # hidden at this step
    expect(page.locator("main")).to_contain_text("<b>not bold</b>")       # shown as text
    expect(page.locator(".action-bar")).to_be_visible()
    shots(page, "22-phone-task")
    page.screenshot(path=str(SCREENSHOTS / "22b-phone-task-viewport.png"))    # as the phone shows it: bar at the bottom

    # a wrong password: the page comes back with the dialog open and the error at the field
    page.locator("#field_disposition").select_option("scrap")
    page.locator("[data-open=dlg-approve]").click()
    dialog = page.locator("#dlg-approve")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("签名含义：已批准")
    dialog.locator("textarea[name=comment]").fill("同意报废")
    dialog.locator("input[name=password]").fill("wrong-password")
    shots(page, "23-phone-approve-dialog")
    dialog.locator("button[type=submit]").click()
    expect(dialog.locator(".signature-box .error")).to_contain_text("密码不正确")
    expect(dialog).to_be_visible()
    expect(dialog.locator("input[name=password]")).to_be_focused()
    shots(page, "24-phone-wrong-password")

    # the right one: back in the inbox, nothing left to do
    dialog.locator("input[name=password]").fill(PASSWORD)
    dialog.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"/tasks$"))
    expect(page.locator(".flash.ok")).to_contain_text("已同意")
    expect(page.locator(".panel.empty")).to_contain_text("没有待办任务")
    shots(page, "25-phone-inbox-after")

    # the submitter sees the approval and the signature in the record's timeline
    desktop.goto(record_url)
    flow = desktop.locator(".flow")
    expect(flow.locator(".state-badge")).to_have_text("已通过")
    signature = flow.locator(".signature")
    expect(signature).to_contain_text("李质量 Quinn")
    expect(signature).to_contain_text("已批准")
    expect(signature).to_contain_text("已验证")
    expect(signature).to_contain_text("UTC")
    expect(flow.locator(".flow-events")).to_contain_text("同意报废")
    expect(desktop.locator("main")).to_contain_text("报废")
    shots(desktop, "26-desktop-record-approved")
    page.goto("/")
    sign_in(page, SUBMITTER, PASSWORD)
    page.goto(record_url)
    expect(page.locator(".flow .signature")).to_contain_text("已验证")
    shots(page, "27-phone-record-approved")
