"""Signatures: the generic outbound webhook's, and the robots' (DingTalk 加签, Feishu 签名校验).

Generic webhook (our own contract, for integrators): every request carries
``X-QMS-Signature: sha256=<hex HMAC-SHA256 of the raw body, keyed with the shared secret>``,
``X-QMS-Timestamp`` (Unix seconds of the attempt) and ``X-QMS-Delivery`` (the delivery id; the same
on every retry of one delivery, so a receiver dedupes on it). :func:`verify_webhook` is what a
receiver does.

DingTalk custom robot, "加签": string_to_sign = ``timestamp_ms + "\\n" + secret``; HMAC-SHA256
keyed with the secret over that string; base64; URL-encoded; sent as ``&timestamp=&sign=``.

Feishu custom bot, "签名校验": string_to_sign = ``timestamp_s + "\\n" + secret`` is the HMAC *key*
and the message is empty; base64; sent as ``"timestamp"`` and ``"sign"`` in the JSON body.
"""
from __future__ import annotations

import base64
import hashlib
import hmac

SIGNATURE_HEADER = "X-QMS-Signature"
TIMESTAMP_HEADER = "X-QMS-Timestamp"
DELIVERY_HEADER = "X-QMS-Delivery"
PREFIX = "sha256="


def webhook_signature(secret: str, body: bytes) -> str:
    """The ``X-QMS-Signature`` value of ``body``: ``sha256=`` + hex HMAC-SHA256."""
    return PREFIX + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify_webhook(secret: str, body: bytes, header: str | None) -> bool:
    """True when ``header`` is the signature of ``body`` under ``secret`` (constant-time compare)."""
    if not header:
        return False
    return hmac.compare_digest(webhook_signature(secret, body).encode(), header.strip().encode())


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's ``sign`` (base64, not yet URL-encoded) for ``timestamp_ms``."""
    to_sign = f"{timestamp_ms}\n{secret}".encode("utf-8")
    return base64.b64encode(hmac.new(secret.encode("utf-8"), to_sign, hashlib.sha256).digest()).decode("ascii")


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Feishu's ``sign`` for ``timestamp_s``: HMAC keyed with ``timestamp + "\\n" + secret`` of b""."""
    key = f"{timestamp_s}\n{secret}".encode("utf-8")
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode("ascii")
