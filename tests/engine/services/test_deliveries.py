"""Outbound deliveries against a local HTTP server thread: the generic webhook arrives with a valid
HMAC and the delivery id; robot payloads match their formats and are signed at send time; 5xx,
429 and refused connections retry with backoff, other 4xx and robot errors fail at once;
delivering twice posts once; channels and the log are admin-only and per tenant."""
from __future__ import annotations

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select, update

from engine.errors import Conflict, NotFound, PermissionDenied
from engine.notify.errors import NotifyInputError
from engine.notify.signing import dingtalk_sign, feishu_sign, verify_webhook
from engine.services import deliveries as D
from engine.services import send_leases as L
from engine.storage.db import session_scope
from engine.storage.notify_tables import deliveries, notify_channels
from tests.engine.services.notify_support import SECRET_KEY, add_user, job_env, jobs  # noqa: F401  (fixtures)

pytestmark = pytest.mark.usefixtures("job_env")


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.seen.append({"path": self.path, "headers": dict(self.headers), "body": body})
        status, answer, headers = self.server.answers.pop(0) if self.server.answers else (200, b'{"ok":true}', {})
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(answer if isinstance(answer, bytes) else json.dumps(answer).encode())

    def log_message(self, *args):     # keep the test output quiet
        pass


@pytest.fixture
def receiver():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    server.seen, server.answers = [], []
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def admin(db_engine, make_tenant):
    return add_user(db_engine, make_tenant(), admin=True)


def run(jobs_list):
    for target, args in jobs_list:
        assert target == D.DELIVERY_JOB
        D.deliver(*args)
    jobs_list.clear()


def row(engine, delivery_id) -> dict:
    with session_scope(engine) as s:
        return dict(s.execute(select(deliveries).where(deliveries.c.id == delivery_id)).mappings().one())


def webhook(engine, actor, url, body=None, **kw):
    with session_scope(engine) as s:
        return D.queue_webhook(s, actor.tenant_id, url, {"event": "ncr.created", "id": 7} if body is None else body, **kw)


def test_webhook_arrives_signed_with_its_delivery_id(db_engine, admin, receiver, jobs):
    delivery_id = webhook(db_engine, admin, receiver.url + "/hooks/qms?token=abc", secret="shared-s3cret",
                          headers={"Authorization": "Bearer erp-token"}, source="rule:ncr_sync",
                          body={"lot": "L-7", "qty": 3.5, "when": __import__("datetime").date(2026, 4, 17)})
    run(jobs)
    [seen] = receiver.seen
    headers = {k.lower(): v for k, v in seen["headers"].items()}
    assert seen["path"] == "/hooks/qms?token=abc"
    assert verify_webhook("shared-s3cret", seen["body"], headers["x-qms-signature"])
    assert headers["x-qms-delivery"] == str(delivery_id) and headers["x-qms-timestamp"].isdigit()
    assert headers["authorization"] == "Bearer erp-token" and headers["content-type"].startswith("application/json")
    assert json.loads(seen["body"]) == {"lot": "L-7", "qty": 3.5, "when": "2026-04-17"}
    done = row(db_engine, delivery_id)
    assert (done["status"], done["response_code"], done["attempts"]) == ("sent", 200, 1) and done["delivered_at"]
    assert done["url_display"].endswith("token=***") and "shared-s3cret" not in json.dumps(done["headers"])
    with session_scope(db_engine) as s:
        shown = D.get_delivery(s, admin, delivery_id)
    assert shown["headers"]["Authorization"] == "***" and "url" not in shown


def test_unsigned_webhook_has_no_signature_header(db_engine, admin, receiver, jobs):
    webhook(db_engine, admin, receiver.url)
    run(jobs)
    assert "X-QMS-Signature" not in receiver.seen[0]["headers"]


@pytest.mark.parametrize("kw, field", [
    ({"url": "ftp://x.example/"}, "url"), ({"url": "javascript:alert(1)"}, "url"), ({"timeout": 0.5}, "timeout"),
    ({"timeout": 31}, "timeout"), ({"timeout": True}, "timeout"), ({"body": {"x": float("nan")}}, "body"),
    ({"body": {"x": object()}}, "body"), ({"headers": {"Host": "evil"}}, "headers"),
    ({"headers": {"X-QMS-Delivery": "1"}}, "headers"), ({"headers": {"X-A": "a\r\nB: c"}}, "headers"),
    ({"secret": ""}, "secret"),
])
def test_bad_webhook_input_is_a_clear_value_error(db_engine, admin, jobs, kw, field):
    args = {"url": "https://erp.example/hook", "body": {"a": 1}, **kw}
    with pytest.raises(ValueError) as err:
        webhook(db_engine, admin, args.pop("url"), args.pop("body"), **args)
    assert isinstance(err.value, NotifyInputError) and err.value.field == field and err.value.message.zh
    assert jobs == []


def test_server_errors_retry_with_backoff_and_4xx_fails_at_once(db_engine, admin, receiver, jobs):
    receiver.answers[:] = [(503, b"busy", {"Retry-After": "300"}), (500, b"oops", {}), (200, b"ok", {})]
    delivery_id = webhook(db_engine, admin, receiver.url)
    run(jobs)
    first = row(db_engine, delivery_id)
    assert (first["status"], first["response_code"], first["error"]) == ("pending", 503, "HTTP 503")
    delay = first["next_attempt_at"] - first["created_at"]
    assert timedelta(seconds=295) < delay < timedelta(seconds=310)          # Retry-After beats the 60 s backoff
    url = db_engine.url.render_as_string(hide_password=False)
    for _ in range(2):
        make_due(db_engine, delivery_id)
        D.deliver(url, delivery_id)
    assert row(db_engine, delivery_id)["status"] == "sent" and row(db_engine, delivery_id)["attempts"] == 3
    receiver.answers[:] = [(404, b"no such hook", {})]
    lost = webhook(db_engine, admin, receiver.url)
    run(jobs)
    failed = row(db_engine, lost)
    assert (failed["status"], failed["response_excerpt"], failed["next_attempt_at"]) == ("failed", "no such hook", None)


def test_429_and_refused_connections_retry(db_engine, admin, receiver, jobs):
    receiver.answers[:] = [(429, b"slow down", {})]
    throttled = webhook(db_engine, admin, receiver.url)
    refused = webhook(db_engine, admin, "http://127.0.0.1:9/never", timeout=2)
    run(jobs)
    assert row(db_engine, throttled)["status"] == "pending"
    gone = row(db_engine, refused)
    assert gone["status"] == "pending" and gone["response_code"] is None and "ConnectionError" in gone["error"]


def make_due(engine, delivery_id):
    with session_scope(engine) as s:
        s.execute(update(deliveries).where(deliveries.c.id == delivery_id).values(
            next_attempt_at=L.now_utc() - timedelta(seconds=1)))


def test_delivering_twice_posts_once(db_engine, admin, receiver, jobs):
    delivery_id = webhook(db_engine, admin, receiver.url)
    url = db_engine.url.render_as_string(hide_password=False)
    D.deliver(url, delivery_id)
    D.deliver(url, delivery_id)
    D.deliver(url, 424242)
    assert len(receiver.seen) == 1
    with session_scope(db_engine) as s:
        assert delivery_id not in {a[1] for _, a in D.due_jobs(s, L.now_utc() + timedelta(days=1))}


def channel(engine, actor, key, kind, url, secret=None):
    with session_scope(engine) as s:
        return D.save_channel(s, actor, key, kind, f"{kind} group", url, secret, secret_key=SECRET_KEY)


def to_channel(engine, actor, key, **kw):
    with session_scope(engine) as s:
        return D.queue_channel(s, actor.tenant_id, key, "NCR-0001 opened", "Lot L-7\nrejected",
                               link="https://qms.plant/f/ncr/1", **kw)


def test_wecom_message_is_posted_in_its_format(db_engine, admin, receiver, jobs):
    channel(db_engine, admin, "qe_group", "wecom", receiver.url + "/cgi-bin/webhook/send?key=wk-123", "ignored")
    receiver.answers[:] = [(200, {"errcode": 0, "errmsg": "ok"}, {})]
    delivery_id = to_channel(db_engine, admin, "qe_group", source="rule:ncr")
    run(jobs)
    [seen] = receiver.seen
    assert seen["path"] == "/cgi-bin/webhook/send?key=wk-123"
    assert json.loads(seen["body"]) == {"msgtype": "markdown", "markdown": {
        "content": "**NCR-0001 opened**\nLot L-7  \nrejected\n[查看详情 / Open](https://qms.plant/f/ncr/1)"}}
    done = row(db_engine, delivery_id)
    assert done["status"] == "sent" and done["url_display"].endswith("key=***") and done["channel_key"] == "qe_group"
    with session_scope(db_engine) as s:
        assert s.execute(select(notify_channels.c.secret_enc).where(notify_channels.c.tenant_id == admin.tenant_id)).scalar() is None     # WeCom does not sign


def test_dingtalk_is_signed_in_the_url_at_send_time(db_engine, admin, receiver, jobs):
    channel(db_engine, admin, "mrb", "dingtalk", receiver.url + "/robot/send?access_token=dt-1", "SEC123")
    with session_scope(db_engine) as s:
        assert "SEC123" not in s.execute(select(notify_channels.c.secret_enc).where(
            notify_channels.c.tenant_id == admin.tenant_id)).scalar()
    receiver.answers[:] = [(200, {"errcode": 0, "errmsg": "ok"}, {})]
    to_channel(db_engine, admin, "mrb")
    run(jobs)
    query = parse_qs(urlsplit(receiver.seen[0]["path"]).query)
    timestamp = int(query["timestamp"][0])
    assert query["access_token"] == ["dt-1"] and query["sign"] == [dingtalk_sign("SEC123", timestamp)]
    assert abs(timestamp - L.now_utc().timestamp() * 1000) < 60_000
    assert json.loads(receiver.seen[0]["body"])["markdown"]["title"] == "NCR-0001 opened"


def test_feishu_is_signed_in_the_body_and_its_error_codes_fail(db_engine, admin, receiver, jobs):
    channel(db_engine, admin, "line_leads", "feishu", receiver.url + "/open-apis/bot/v2/hook/fs-token", "fs-secret")
    receiver.answers[:] = [(200, {"code": 19021, "msg": "sign match fail or timestamp is not within one hour"}, {})]
    delivery_id = to_channel(db_engine, admin, "line_leads")
    run(jobs)
    body = json.loads(receiver.seen[0]["body"])
    assert body["sign"] == feishu_sign("fs-secret", int(body["timestamp"])) and body["msg_type"] == "post"
    failed = row(db_engine, delivery_id)
    assert failed["status"] == "failed" and "19021" in failed["error"] and failed["url_display"].endswith("/hook/***")


def test_robot_rate_limit_retries_and_deleted_channel_fails(db_engine, admin, receiver, jobs):
    channel(db_engine, admin, "qe_group", "wecom", receiver.url + "/send?key=wk-123")
    receiver.answers[:] = [(200, {"errcode": 45009, "errmsg": "api freq out of limit"}, {})]
    limited = to_channel(db_engine, admin, "qe_group")
    run(jobs)
    assert row(db_engine, limited)["status"] == "pending"
    orphan = to_channel(db_engine, admin, "qe_group")
    with session_scope(db_engine) as s:
        D.delete_channel(s, admin, "qe_group")
    run(jobs)
    assert row(db_engine, orphan)["status"] == "failed" and "deleted" in row(db_engine, orphan)["error"]
    with session_scope(db_engine) as s:
        with pytest.raises(NotFound):
            D.queue_channel(s, admin.tenant_id, "qe_group", "s", "b")


def test_channel_input_errors_are_listed_together(db_engine, admin):
    with session_scope(db_engine) as s:
        with pytest.raises(NotifyInputError) as err:
            D.save_channel(s, admin, "Bad Key", "slack", "", "x", None, secret_key=SECRET_KEY)
    assert {p.field for p in err.value.problems} == {"key", "kind", "name"}
    with session_scope(db_engine) as s:
        with pytest.raises(NotifyInputError) as err:
            D.save_channel(s, admin, "ok_key", "dingtalk", "MRB", "https://oapi.dingtalk.com/robot/send", None,
                           secret_key=SECRET_KEY)
    assert [p.field for p in err.value.problems] == ["url"] and "access_token" in err.value.problems[0].message.en


def test_editing_keeps_or_clears_the_secret(db_engine, admin):
    url = "https://oapi.dingtalk.com/robot/send?access_token=t"
    first = channel(db_engine, admin, "mrb", "dingtalk", url, "SEC1")
    assert channel(db_engine, admin, "mrb", "dingtalk", url, "") == first
    with session_scope(db_engine) as s:
        assert D.get_channel(s, admin, "mrb")["has_secret"] is True
        D.save_channel(s, admin, "mrb", "dingtalk", "MRB", url, None, secret_key=SECRET_KEY, clear_secret=True)
        listed = D.list_channels(s, admin)
    assert listed[0]["has_secret"] is False and listed[0]["url_display"].endswith("access_token=***")


def test_admin_only_and_per_tenant(db_engine, admin, make_tenant, receiver, jobs):
    member = add_user(db_engine, admin.tenant_id)
    stranger = add_user(db_engine, make_tenant(), admin=True)
    channel(db_engine, admin, "qe_group", "wecom", receiver.url + "/send?key=k")
    receiver.answers[:] = [(400, b"bad", {})]
    delivery_id = webhook(db_engine, admin, receiver.url)
    run(jobs)
    with session_scope(db_engine) as s:
        for call in (lambda: D.list_deliveries(s, member), lambda: D.retry(s, member, delivery_id),
                     lambda: D.get_channel(s, member, "qe_group"), lambda: D.delete_channel(s, member, "qe_group"),
                     lambda: D.test_channel(s, member, "qe_group"),
                     lambda: D.save_channel(s, member, "x", "wecom", "x", "https://h/?key=1", None, secret_key="k")):
            with pytest.raises(PermissionDenied):
                call()
        assert D.list_channels(s, stranger) == [] and D.list_deliveries(s, stranger)["total"] == 0
        for call in (lambda: D.retry(s, stranger, delivery_id), lambda: D.get_delivery(s, stranger, delivery_id),
                     lambda: D.delete_channel(s, stranger, "qe_group"), lambda: D.test_channel(s, stranger, "qe_group"),
                     lambda: D.queue_channel(s, stranger.tenant_id, "qe_group", "s", "b")):
            with pytest.raises(NotFound):
                call()
        listed = D.list_deliveries(s, admin, status="failed")
        assert [i["id"] for i in listed["items"]] == [delivery_id] and "request_body" not in listed["items"][0]
        D.retry(s, admin, delivery_id)
    run(jobs)
    assert row(db_engine, delivery_id)["status"] == "sent"
    with session_scope(db_engine) as s:
        with pytest.raises(Conflict):
            D.retry(s, admin, delivery_id)
