"""The delivery side's tables (platform metadata; migration 0006 creates them).

``notifications`` is the in-app notification centre (one row per recipient). ``mail_outbox`` and
``deliveries`` are outboxes *and* logs: a row is written in the caller's transaction (so the
intent survives a crash), a job claims it with a lease (``status`` sending, ``lease_until``),
sends outside any transaction and records the outcome; ``next_attempt_at`` is when the periodic
sweep may try again. Stored secrets (SMTP password, robot signing secret) are Fernet tokens
(:mod:`engine.notify.crypto`), never plain text.
"""
from __future__ import annotations

from sqlalchemy import Column, Float, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint

from engine.storage.platform import IdType, JSONType, _tenant_fk, _utc, metadata

notifications = Table(
    "notifications", metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    _tenant_fk(),
    Column("user_id", IdType, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("subject", String(300), nullable=False),
    Column("body", Text, nullable=False),
    Column("link", String(1000), nullable=True),             # a path in this app, or an absolute URL
    Column("source", String(200), nullable=True),            # what sent it, e.g. "rule:ncr_alert"
    _utc("created_at", nullable=False),
    _utc("read_at", nullable=True),
    Index("ix_notifications_inbox", "tenant_id", "user_id", "read_at", "id"),
)

mail_outbox = Table(
    "mail_outbox", metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    _tenant_fk(),
    Column("to_addr", String(254), nullable=False),           # one recipient per row
    Column("subject", String(300), nullable=False),
    Column("body", Text, nullable=False),
    Column("html", Text, nullable=True),
    Column("status", String(12), nullable=False),             # held pending sending sent failed
    Column("attempts", Integer, nullable=False, server_default="0"),
    _utc("next_attempt_at", nullable=True),
    _utc("lease_until", nullable=True),
    Column("error", Text, nullable=True),
    Column("source", String(200), nullable=True),
    _utc("created_at", nullable=False),
    _utc("sent_at", nullable=True),
    Index("ix_mail_outbox_due", "status", "next_attempt_at"),
    Index("ix_mail_outbox_status", "tenant_id", "status", "id"),
)

smtp_settings = Table(
    "smtp_settings", metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    _tenant_fk(),
    Column("host", String(255), nullable=False),
    Column("port", Integer, nullable=False),
    Column("security", String(10), nullable=False),           # none starttls ssl
    Column("username", String(255), nullable=True),
    Column("password_enc", Text, nullable=True),              # Fernet token
    Column("from_addr", String(254), nullable=False),
    _utc("updated_at", nullable=False),
    Column("updated_by", IdType, nullable=True),
    UniqueConstraint("tenant_id"),
)

notify_channels = Table(
    "notify_channels", metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    _tenant_fk(),
    Column("key", String(40), nullable=False),
    Column("kind", String(20), nullable=False),               # a key of engine.notify.CHANNEL_KINDS
    Column("name", String(200), nullable=False),
    Column("url", String(2000), nullable=False),              # the robot's webhook (its key inside)
    Column("secret_enc", Text, nullable=True),                # Fernet token of the signing secret
    _utc("updated_at", nullable=False),
    Column("updated_by", IdType, nullable=True),
    UniqueConstraint("tenant_id", "key"),
)

deliveries = Table(
    "deliveries", metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    _tenant_fk(),
    Column("kind", String(20), nullable=False),               # webhook, or a channel kind
    Column("channel_id", IdType, ForeignKey("notify_channels.id", ondelete="SET NULL"), nullable=True),
    Column("channel_key", String(40), nullable=True),
    Column("url", String(2000), nullable=False),              # the real URL, for sending only
    Column("url_display", String(2000), nullable=False),      # credentials masked, for pages and logs
    Column("headers", JSONType, nullable=True),               # extra request headers (incl. the signature)
    Column("request_body", Text, nullable=False),             # the exact bytes sent (UTF-8), before robot signing
    Column("timeout", Float, nullable=False),
    Column("status", String(12), nullable=False),             # pending sending sent failed
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("response_code", Integer, nullable=True),
    Column("response_excerpt", Text, nullable=True),
    Column("error", Text, nullable=True),
    _utc("next_attempt_at", nullable=True),
    _utc("lease_until", nullable=True),
    _utc("created_at", nullable=False),
    _utc("delivered_at", nullable=True),
    Column("source", String(200), nullable=True),
    Index("ix_deliveries_due", "status", "next_attempt_at"),
    Index("ix_deliveries_status", "tenant_id", "status", "id"),
)
