"""The rule engine's tables (part of the platform metadata; migration 0005 creates them).

``rule_outbox`` is both the outbox and the run log: a row is written in the same transaction
as the change that fired the rule (so a crash never loses the intent), carries the trigger's
inputs, and moves pending → queued → running → done | failed as jobs pick it up.
``rule_action_runs`` holds one row per action that ran for an outbox row, written in the same
transaction as the action's effect: a retried run skips the actions that already have one, so
an action's effect happens exactly once.
"""
from __future__ import annotations

from sqlalchemy import (BigInteger, Boolean, Column, ForeignKey, Index, Integer, String, Table, Text,
                        UniqueConstraint, true)

from engine.storage.platform import IdType, JSONType, _tenant_fk, _utc, metadata

rule_definitions = Table(
    "rule_definitions", metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    _tenant_fk(),
    Column("key", String(40), nullable=False),
    Column("app_key", String(40), nullable=True),
    Column("form_key", String(40), nullable=True),          # the form whose events fire it (None: schedule/webhook)
    Column("trigger_type", String(30), nullable=False),
    Column("enabled", Boolean, nullable=False, server_default=true()),
    Column("current_version", Integer, nullable=False, server_default="0"),
    _utc("next_run_at", nullable=True),                      # schedule rules: the next cron time (UTC)
    Column("hook_token_hash", String(64), nullable=True, unique=True),   # webhook rules: sha256 of the URL token
    Column("hook_secret", String(128), nullable=True),       # webhook rules: optional HMAC-SHA256 secret
    _utc("updated_at", nullable=False),
    Column("updated_by", BigInteger, nullable=True),
    UniqueConstraint("tenant_id", "key"),
    Index("ix_rule_definitions_form", "tenant_id", "form_key", "enabled"),
    Index("ix_rule_definitions_next_run", "next_run_at"),
)

rule_versions = Table(
    "rule_versions", metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    _tenant_fk(),
    Column("rule_key", String(40), nullable=False),
    Column("version", Integer, nullable=False),
    Column("definition", JSONType, nullable=False),
    _utc("published_at", nullable=False),
    Column("published_by", BigInteger, nullable=True),
    UniqueConstraint("tenant_id", "rule_key", "version"),
)

rule_outbox = Table(
    "rule_outbox", metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    _tenant_fk(),
    Column("rule_key", String(100), nullable=False),        # a rule, or "flow:<flow>.<node>" for automatic nodes
    Column("rule_version", Integer, nullable=False),
    Column("trigger", String(30), nullable=False),           # the trigger type that fired
    Column("form_key", String(40), nullable=True),
    Column("record_id", BigInteger, nullable=True),
    Column("event", JSONType, nullable=False),               # inputs: values, old values, changed fields, payload
    Column("depth", Integer, nullable=False, server_default="0"),
    Column("origin_id", BigInteger, nullable=True),          # the run whose action caused this one
    Column("actor_id", BigInteger, nullable=True),
    Column("status", String(12), nullable=False),            # pending queued running done failed
    Column("attempts", Integer, nullable=False, server_default="0"),
    _utc("next_attempt_at", nullable=True),                  # when the sweep may (re)enqueue it
    _utc("lease_until", nullable=True),                      # running: a worker holds it until then
    _utc("created_at", nullable=False),
    _utc("started_at", nullable=True),
    _utc("finished_at", nullable=True),
    Column("error", Text, nullable=True),
    Index("ix_rule_outbox_due", "status", "next_attempt_at"),
    Index("ix_rule_outbox_rule", "tenant_id", "rule_key", "id"),
    Index("ix_rule_outbox_status", "tenant_id", "status", "id"),
)

rule_action_runs = Table(
    "rule_action_runs", metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column("outbox_id", IdType, ForeignKey("rule_outbox.id", ondelete="CASCADE"), nullable=False),
    Column("idx", Integer, nullable=False),                  # position of the action in the rule
    Column("action_type", String(30), nullable=False),
    Column("outcome", JSONType, nullable=True),              # what it did: ids created, recipients, …
    _utc("at", nullable=False),
    UniqueConstraint("outbox_id", "idx"),
)
