"""A rule end to end: an inspector saves a failing measurement in a real browser; the rule (shipped
in an app package) creates the linked NCR in another form, notifies the quality role in-app and
by e-mail — received here by a real SMTP server (aiosmtpd) — and calls a webhook received by a
local HTTP server, whose HMAC-SHA256 signature verifies. The quality engineer then sees the
notification on a phone. Jobs run in the server process (no Redis), as on a single machine."""
from __future__ import annotations

import hashlib
import hmac
import http.server
import json
import re
import socket
import threading
import time

import pytest

from engine.services import accounts, smtp
from engine.storage.db import make_engine, session_scope
from tests.e2e.conftest import COMPANY, api, sign_in

try:
    from playwright.sync_api import expect
except ImportError:           # the fixtures skip (or fail in CI) with the reason
    expect = None

PASSWORD = "e2e-rules-pass-1"
QE = "qe.rules@e2e.example"
SECRET = "e2e-webhook-secret-123"


def _label(zh: str, en: str) -> dict:
    return {"zh-CN": zh, "en": en}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _package(hook_port: int) -> dict:
    check = {"format": 1, "key": "e2e_lot_check", "label": _label("尺寸检验", "Dimension check"),
             "numbering": "DC-{0000}", "title_template": "{lot_no}", "fields": [
                 {"key": "lot_no", "type": "text", "label": _label("批号", "Lot number"), "required": True},
                 {"key": "measured", "type": "number", "label": _label("测量值", "Measured"), "precision": 2,
                  "required": True},
                 {"key": "usl", "type": "number", "label": _label("上限", "USL"), "precision": 2, "default": 10},
                 {"key": "result", "type": "formula", "label": _label("判定", "Result"),
                  "formula": 'IF(measured > usl, "NG", "OK")'}]}
    ncr = {"format": 1, "key": "e2e_rule_ncr", "label": _label("不合格品报告", "Nonconformance report"),
           "numbering": "NCR-R-{0000}", "title_template": "{lot_no}", "fields": [
               {"key": "lot_no", "type": "text", "label": _label("批号", "Lot number")},
               {"key": "measured", "type": "number", "label": _label("测量值", "Measured"), "precision": 2},
               {"key": "source", "type": "text", "label": _label("来源", "Source")}]}
    rule = {"format": 1, "key": "e2e_ng_opens_ncr", "label": _label("超差开 NCR", "Out of spec opens an NCR"),
            "form": "e2e_lot_check", "trigger": {"type": "record_created"}, "condition": 'result = "NG"',
            "actions": [
                {"type": "create_record", "form": "e2e_rule_ncr",
                 "values": {"lot_no": "lot_no", "measured": "measured", "source": "serial_no"}},
                {"type": "notify", "to": {"roles": ["e2e_quality"]}, "channels": ["in_app", "email"],
                 "subject": "超差 Out of spec: {{ record.lot_no }}",
                 "body": "测量值 {{ record.measured }} > 上限 {{ record.usl }}"},
                {"type": "call_webhook", "url": f"http://127.0.0.1:{hook_port}/erp/ncr", "secret": SECRET,
                 "payload": {"lot": "{{ record.lot_no }}", "measured": "{{ record.measured }}", "event": "ng"}}]}
    return {"format": 1, "key": "e2e_rules", "version": "1.0.0", "label": _label("规则测试", "Rules test"),
            "forms": [check, ncr], "rules": [rule]}


class _Hooks(http.server.BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        _Hooks.received.append((self.path, dict(self.headers), body))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b'{"ok": true}')

    def log_message(self, *args):
        pass


@pytest.fixture()
def receivers():
    """A real SMTP server (aiosmtpd) and an HTTP server, both on free local ports."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    mails: list = []

    class Keep(Message):
        def handle_message(self, message):
            mails.append(message)

    smtp_port = _free_port()
    controller = Controller(Keep(), hostname="127.0.0.1", port=smtp_port)
    controller.start()
    _Hooks.received = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hooks)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield {"smtp_port": smtp_port, "mails": mails, "hook_port": httpd.server_address[1], "hooks": _Hooks.received}
    finally:
        httpd.shutdown()
        controller.stop()


def _setup(live_server, receivers) -> None:
    engine = make_engine(f"sqlite:///{live_server.log_path.parent / 'qms.sqlite3'}")
    try:
        with session_scope(engine) as s:
            tenant = accounts.tenant_id_by_key(s, COMPANY)
            admin = accounts.actor_for_user(s, accounts.user_id_by_email(s, tenant, "qe@e2e.example"))
            accounts.create_role(s, tenant, "e2e_quality", _label("质量工程师", "Quality engineer"))
            accounts.create_user(s, tenant, QE, "周质量 Zhou", PASSWORD, roles=["e2e_quality"])
            smtp.save_settings(s, admin, {"host": "127.0.0.1", "port": receivers["smtp_port"], "security": "none",
                                          "from_addr": "qms@e2e.example"}, secret_key="e2e-secret")
    finally:
        engine.dispose()
    status, body = api(live_server.url, "POST", "/api/v1/apps/import", _package(receivers["hook_port"]),
                       live_server.token)
    assert status == 201, body


def _eventually(check, timeout: float = 30, what: str = ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_failing_value_creates_the_ncr_notifies_mails_and_calls_the_signed_webhook(
        live_server, receivers, desktop, phone, shots):
    _setup(live_server, receivers)
    sign_in(desktop)
    desktop.goto("/f/e2e_lot_check/new")
    desktop.locator('.field[data-key="lot_no"] .v').first.fill("L-2026-77")
    desktop.locator('.field[data-key="measured"] .v').first.fill("12.5")
    desktop.locator("#record-form button[type=submit]").click()
    desktop.wait_for_url(re.compile(r"/f/e2e_lot_check/\d+$"))

    # the linked record in the other form
    def ncr():
        status, body = api(live_server.url, "GET", "/api/v1/forms/e2e_rule_ncr/records", token=live_server.token)
        return body["items"] if status == 200 and body.get("items") else None
    (created,) = _eventually(ncr, what="the NCR")
    assert created["data"]["lot_no"] == "L-2026-77" and created["data"]["measured"] == 12.5
    assert created["data"]["source"] == "DC-0001"

    # the e-mail, through a real SMTP conversation
    mail = _eventually(lambda: receivers["mails"][:1], what="the e-mail")[0]
    assert QE in mail["To"] and "L-2026-77" in str(mail["Subject"]) or "L-2026-77" in mail.get("Subject", "")

    # the webhook, signed over the exact body
    path, headers, body = _eventually(lambda: receivers["hooks"][:1], what="the webhook")[0]
    lower = {k.lower(): v for k, v in headers.items()}
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert path == "/erp/ncr" and lower["x-qms-signature"] == expected
    assert json.loads(body) == {"lot": "L-2026-77", "measured": "12.5", "event": "ng"}
    assert lower.get("x-qms-delivery")

    # the quality engineer sees it on a phone
    sign_in(phone, QE, PASSWORD)
    phone.goto("/notifications")
    expect(phone.locator("main")).to_contain_text("L-2026-77")
    shots(phone, "30-phone-notification")

    # and the run is in the admin's log, done, with each action's outcome
    status, runs = api(live_server.url, "GET", "/api/v1/rule-runs?rule=e2e_ng_opens_ncr", token=live_server.token)
    assert status == 200 and runs["items"][0]["status"] == "done"
    desktop.goto("/admin/rules")
    expect(desktop.locator("main")).to_contain_text("超差开 NCR")
    shots(desktop, "31-admin-rules")
    desktop.goto(f"/admin/rules/runs/{runs['items'][0]['id']}")
    expect(desktop.locator("main")).to_contain_text("L-2026-77")
    shots(desktop, "32-admin-rule-run")
