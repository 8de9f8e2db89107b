"""Outbound deliveries: signed generic webhooks and robot-channel messages, with one log table.

:func:`queue_webhook` / :func:`queue_channel` write a ``pending`` row in the caller's transaction
and hand it to :func:`deliver` once it commits. The job claims the row with a lease, POSTs it
with ``requests`` outside any transaction and records the answer: a 2xx (for robots also their
JSON ``errcode``/``code`` 0) is ``sent``; a 4xx other than 408/429 fails at once; anything else
(5xx, timeouts, refused connections, robot rate limits) retries with exponential backoff up to
8 attempts (the sweep enqueues what :func:`due_jobs` returns). Robots are signed at each attempt
(their signatures expire); the generic webhook's signature covers the body, which never changes,
so it is computed once when queued and the secret itself is not stored.

The log keeps the real URL for sending and a masked one for people; headers that look like
credentials are masked on every page.
"""
from __future__ import annotations

import json
import math
import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Mapping

import requests
from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.orm import Session

from engine.errors import Conflict, NotFound
from engine.i18n import msg
from engine.jobs import queue
from engine.notify import CHANNEL_KINDS, FAIL, SENT, Verdict, crypto, http_verdict
from engine.notify.checks import body_text, link_value, subject_text
from engine.notify.errors import NotifyInputError
from engine.notify.signing import DELIVERY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, webhook_signature
from engine.notify.urls import check_url, mask_url, scrub
from engine.services import send_leases as L
from engine.services.notify_channels import channel_row, delete_channel, get_channel, list_channels, save_channel
from engine.services.smtp import require_admin
from engine.storage.db import session_scope
from engine.storage.notify_tables import deliveries, notify_channels
from engine.types import Actor

__all__ = ["queue_webhook", "queue_channel", "deliver", "due_jobs", "retry", "list_deliveries", "get_delivery",
           "list_channels", "get_channel", "save_channel", "delete_channel", "test_channel", "WEBHOOK"]

DELIVERY_JOB = "engine.services.deliveries:deliver"
WEBHOOK = "webhook"
MAX_BODY = 1_000_000
MAX_HEADERS = 20
EXCERPT = 1000
USER_AGENT = "QMS-Webhook/1.0"
HEADER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}$")
RESERVED = {"host", "content-length", "transfer-encoding", "connection", "user-agent"}
SENSITIVE = ("auth", "token", "secret", "key", "cookie", "password", "signature")


# ---------------------------------------------------------------------------- queueing

def _json_default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(type(value).__name__)


def _encode(body: Any) -> str:
    try:
        text = json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=_json_default, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise NotifyInputError(msg("请求体无法转为 JSON（{e}）", "The body cannot be sent as JSON ({e})", e=str(exc)[:80]),
                               "body") from None
    if len(text.encode("utf-8")) > MAX_BODY:
        raise NotifyInputError(msg("请求体太大（最多 1 MB）", "The body is too large (at most 1 MB)"), "body")
    return text


def _timeout(value: Any) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and 1 <= value <= 30
    if not ok:
        raise NotifyInputError(msg("超时须为 1 到 30 秒", "The timeout must be between 1 and 30 seconds"), "timeout")
    return float(value)


def _headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in (headers or {}).items():
        if not isinstance(name, str) or not HEADER_NAME.match(name) or name.lower() in RESERVED \
                or name.lower().startswith("x-qms-"):
            raise NotifyInputError(msg("请求头名称“{h}”不可用", "The header name '{h}' cannot be used", h=str(name)[:64]),
                                   "headers")
        if not isinstance(value, str) or len(value) > 2000 or any(ord(c) < 32 for c in value):
            raise NotifyInputError(msg("请求头“{h}”的值无效", "The value of header '{h}' is invalid", h=name), "headers")
        out[name] = value
    if len(out) > MAX_HEADERS:
        raise NotifyInputError(msg("请求头太多（最多 {n} 个）", "Too many headers (at most {n})", n=MAX_HEADERS), "headers")
    return out


def _insert(session: Session, tenant_id: int, values: dict) -> int:
    now = L.now_utc()
    delivery_id = session.execute(insert(deliveries).values(
        tenant_id=tenant_id, status=L.PENDING, attempts=0, next_attempt_at=now, created_at=now, **values)
        .returning(deliveries.c.id)).scalar_one()
    queue.after_commit_job(session, DELIVERY_JOB, delivery_id)
    return delivery_id


def queue_webhook(session: Session, tenant_id: int, url: str, body: Any, *, secret: str | None = None,
                  timeout: float = 10.0, headers: Mapping[str, str] | None = None, source: str | None = None) -> int:
    """Queue a JSON POST of ``body`` to ``url``; with ``secret`` it carries ``X-QMS-Signature``. Returns its id.

    NotifyInputError (a ValueError) for a URL that is not http(s), a timeout outside 1–30 s, a body
    that is not JSON-able or over 1 MB, or unusable headers.
    """
    url, timeout, extra = check_url(url), _timeout(timeout), _headers(headers)
    text = _encode(body)
    if secret is not None:
        if not isinstance(secret, str) or not secret or len(secret) > 500:
            raise NotifyInputError(msg("签名密钥无效", "The signing secret is invalid"), "secret")
        extra[SIGNATURE_HEADER] = webhook_signature(secret, text.encode("utf-8"))
    return _insert(session, tenant_id, {"kind": WEBHOOK, "url": url, "url_display": mask_url(url), "headers": extra,
                                        "request_body": text, "timeout": timeout,
                                        "source": (source or None) and str(source)[:200]})


def queue_channel(session: Session, tenant_id: int, channel_key: str, subject: str, body: str, *,
                  link: str | None = None, source: str | None = None) -> int:
    """Queue a message to the tenant's robot channel ``channel_key``, formatted for its kind; returns its id.

    NotFound for an unknown channel; ``link`` reaches the chat only when it is an absolute URL.
    """
    channel = channel_row(session, tenant_id, channel_key)
    kind = CHANNEL_KINDS.get(channel["kind"])
    payload = kind.message(subject_text(subject), body_text(body), link_value(link))
    return _insert(session, tenant_id, {
        "kind": channel["kind"], "channel_id": channel["id"], "channel_key": channel["key"], "url": channel["url"],
        "url_display": mask_url(channel["url"]), "headers": None, "request_body": _encode(payload), "timeout": 10.0,
        "source": (source or None) and str(source)[:200]})


def test_channel(session: Session, actor: Actor, key: str) -> int:
    """Queue a test message to channel ``key`` (admins); returns the delivery id."""
    require_admin(actor)
    return queue_channel(session, actor.tenant_id, key, "QMS 测试消息 / QMS test message",
                         "机器人配置可用。\nThe robot is set up correctly.", source="test")


# ---------------------------------------------------------------------------- the job

def _secret_key() -> str:
    """SECRET_KEY as the web app sees it (job processes share the deployment's environment)."""
    from engine.settings import load_settings
    return load_settings().secret_key


class _Unsendable(Exception):
    """The row cannot be sent as it stands (its channel was deleted, a secret is unreadable)."""


def _request(session: Session, row: dict, now: datetime) -> tuple[str, bytes, dict]:
    """(url, body bytes, headers) for this attempt; robots are signed now, their channel's URL is current."""
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT}
    if row["kind"] == WEBHOOK:
        headers.update(row["headers"] or {})
        headers.update({TIMESTAMP_HEADER: str(int(now.timestamp())), DELIVERY_HEADER: str(row["id"])})
        return row["url"], row["request_body"].encode("utf-8"), headers
    if row["kind"] not in CHANNEL_KINDS or row["channel_id"] is None:
        raise _Unsendable("The channel was deleted" if row["kind"] in CHANNEL_KINDS else f"Unknown kind {row['kind']}")
    channel = session.execute(select(notify_channels).where(and_(
        notify_channels.c.id == row["channel_id"], notify_channels.c.tenant_id == row["tenant_id"]))).mappings().first()
    if channel is None:
        raise _Unsendable("The channel was deleted")
    try:
        secret = crypto.decrypt(_secret_key(), channel["secret_enc"]) if channel["secret_enc"] else None
    except crypto.SecretUnreadable as exc:
        raise _Unsendable(exc.message.en) from None
    kind = CHANNEL_KINDS.get(row["kind"])
    url, payload = kind.signed(channel["url"], json.loads(row["request_body"]), secret, int(now.timestamp() * 1000))
    return url, json.dumps(payload, ensure_ascii=False).encode("utf-8"), headers


def _claim(engine, delivery_id: int) -> tuple[dict, tuple[str, bytes, dict]] | None:
    with session_scope(engine) as session:
        now = L.now_utc()
        row = L.claim(session, deliveries, delivery_id, now)
        if row is None:
            return None
        try:
            return row, _request(session, row, now)
        except _Unsendable as exc:
            L.mark_failed_attempt(session, deliveries, row, str(exc), now, permanent=True)
            return None


def _post(row: dict, request: tuple[str, bytes, dict]) -> tuple[Verdict, int | None, str | None, float | None]:
    """POST once: (verdict, status code, response excerpt, Retry-After seconds)."""
    url, body, headers = request
    try:
        response = requests.post(url, data=body, headers=headers, timeout=row["timeout"], allow_redirects=False)
    except requests.RequestException as exc:
        return Verdict("retry", scrub(f"{type(exc).__name__}: {exc}", url)), None, None, None
    excerpt = scrub(response.text[:EXCERPT], url)
    if row["kind"] == WEBHOOK:
        verdict = http_verdict(response.status_code) or Verdict(SENT)
    else:
        try:
            data = response.json()
        except ValueError:
            data = None
        verdict = CHANNEL_KINDS.get(row["kind"]).verdict(response.status_code, data)
    return verdict, response.status_code, excerpt, _retry_after(response)


def _retry_after(response) -> float | None:
    value = response.headers.get("Retry-After", "")
    return float(value) if value.strip().isdigit() else None


def deliver(database_url: str, delivery_id: int) -> None:
    """Job: POST delivery ``delivery_id`` once; a no-op when it is missing, sent, or leased by another worker."""
    engine = queue.engine_for(database_url)
    claimed = _claim(engine, delivery_id)
    if claimed is None:
        return
    row, request = claimed
    verdict, code, excerpt, retry_after = _post(row, request)     # outside any transaction
    with session_scope(engine) as session:
        now, answer = L.now_utc(), {"response_code": code, "response_excerpt": excerpt}
        if verdict.state == SENT:
            L.mark_sent(session, deliveries, row, "delivered_at", now, **answer)
        else:
            L.mark_failed_attempt(session, deliveries, row, verdict.error or "", now, permanent=verdict.state == FAIL,
                                  retry_after=retry_after, **answer)


def due_jobs(session: Session, now: datetime, limit: int = 500) -> list[tuple[str, tuple]]:
    """The job calls the periodic sweep should enqueue: due pending rows and expired leases."""
    url = queue.database_url(session)
    return [(DELIVERY_JOB, (url, delivery_id)) for delivery_id in L.due_ids(session, deliveries, now, limit)]


# ---------------------------------------------------------------------------- the log (admins)

def _masked_headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    return {k: ("***" if any(s in k.lower() for s in SENSITIVE) and not k.startswith("X-QMS-") else v)
            for k, v in (headers or {}).items()}


def _public(row: Mapping) -> dict:
    out = {k: v for k, v in row.items() if k not in ("url", "headers")}
    if "headers" in row:
        out["headers"] = _masked_headers(row["headers"])
    return out


def list_deliveries(session: Session, actor: Actor, *, status: str | None = None, kind: str | None = None,
                    page: int = 1, per_page: int = 50) -> dict:
    """The tenant's delivery log, newest first (admins): ``{"items", "total", "counts", "page", "per_page"}``."""
    require_admin(actor)
    page, per_page = max(1, int(page)), min(max(1, int(per_page)), 200)
    where = deliveries.c.tenant_id == actor.tenant_id
    if status in L.STATUSES:
        where = and_(where, deliveries.c.status == status)
    if kind:
        where = and_(where, deliveries.c.kind == kind)
    columns = [c for c in deliveries.c if c.name not in ("url", "headers", "request_body")]
    rows = session.execute(select(*columns).where(where).order_by(deliveries.c.id.desc())
                           .limit(per_page).offset((page - 1) * per_page)).mappings()
    total = session.execute(select(func.count()).select_from(deliveries).where(where)).scalar_one()
    counts = dict(session.execute(select(deliveries.c.status, func.count()).where(
        deliveries.c.tenant_id == actor.tenant_id).group_by(deliveries.c.status)).all())
    return {"items": [dict(r) for r in rows], "total": total, "counts": counts, "page": page, "per_page": per_page}


def get_delivery(session: Session, actor: Actor, delivery_id: int) -> dict:
    """One delivery with its request body and masked headers (admins); NotFound outside the tenant."""
    require_admin(actor)
    row = session.execute(select(deliveries).where(and_(
        deliveries.c.id == delivery_id, deliveries.c.tenant_id == actor.tenant_id))).mappings().first()
    if row is None:
        raise NotFound(msg("投递记录 {i} 不存在", "Delivery {i} does not exist", i=delivery_id))
    return _public(dict(row))


def retry(session: Session, actor: Actor, delivery_id: int) -> None:
    """Try a failed (or waiting) delivery again now with a fresh set of attempts (admins)."""
    row = get_delivery(session, actor, delivery_id)
    if row["status"] not in (L.FAILED, L.PENDING):
        raise Conflict(msg("只能重试失败或等待中的投递", "Only failed or waiting deliveries can be retried"))
    session.execute(update(deliveries).where(and_(deliveries.c.id == delivery_id,
                                                  deliveries.c.tenant_id == actor.tenant_id)).values(
        status=L.PENDING, attempts=0, next_attempt_at=L.now_utc(), error=None))
    queue.after_commit_job(session, DELIVERY_JOB, delivery_id)
