"""The flow engine's tables (part of the platform metadata; migration 0004 creates them).

An instance is the only mutable state of a running flow; its tasks, timeline events and
signatures are written in the same transaction as every change of the instance, and the
instance row (``lock_version``) is locked for that transaction, so concurrent approvers are
serialised per instance.
"""
from __future__ import annotations

from sqlalchemy import (BigInteger, Column, Date, ForeignKey, Index, Integer, SmallInteger, String, Table, Text,
                        UniqueConstraint)

from engine.storage.platform import IdType, JSONType, _tenant_fk, _utc, metadata

flow_definitions = Table(
    "flow_definitions", metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    _tenant_fk(),
    Column("key", String(40), nullable=False),
    Column("form_key", String(40), nullable=False),
    Column("app_key", String(40), nullable=True),
    Column("draft", JSONType, nullable=True),
    Column("current_version", Integer, nullable=False, server_default="0"),
    _utc("updated_at", nullable=False),
    UniqueConstraint("tenant_id", "key"),
    Index("ix_flow_definitions_form", "tenant_id", "form_key"),
)

flow_versions = Table(
    "flow_versions", metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    _tenant_fk(),
    Column("flow_key", String(40), nullable=False),
    Column("version", Integer, nullable=False),
    Column("form_key", String(40), nullable=False),
    Column("definition", JSONType, nullable=False),
    _utc("published_at", nullable=False),
    Column("published_by", BigInteger, nullable=True),
    UniqueConstraint("tenant_id", "flow_key", "version"),
    Index("ix_flow_versions_form", "tenant_id", "form_key"),
)

flow_instances = Table(
    "flow_instances", metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    _tenant_fk(),
    Column("flow_key", String(40), nullable=False),
    Column("flow_version", Integer, nullable=False),
    Column("form_key", String(40), nullable=False),
    Column("record_id", BigInteger, nullable=False),
    Column("state", String(20), nullable=False),           # running returned withdrawn approved rejected cancelled
    Column("submitter_id", BigInteger, nullable=True),
    Column("run", Integer, nullable=False),                # 1, then +1 on every resubmission
    Column("tokens", JSONType, nullable=False),            # ids of the task nodes waiting now
    Column("joins", JSONType, nullable=False),             # join id → branches arrived (this run)
    Column("returned_to", String(40), nullable=True),      # node a rejection sent the flow back to
    _utc("started_at", nullable=False),
    _utc("updated_at", nullable=False),
    _utc("ended_at", nullable=True),
    Column("lock_version", Integer, nullable=False),
    Index("ix_flow_instances_record", "tenant_id", "form_key", "record_id"),
    Index("ix_flow_instances_submitter", "tenant_id", "submitter_id", "state"),
)

flow_tasks = Table(
    "flow_tasks", metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    _tenant_fk(),
    Column("instance_id", IdType, ForeignKey("flow_instances.id", ondelete="CASCADE"), nullable=False),
    Column("node_id", String(40), nullable=False),
    Column("entry", Integer, nullable=False),              # which arrival at the node (the instance's move number)
    Column("kind", String(10), nullable=False),            # approval handle cc
    Column("slot", Integer, nullable=False),               # one per assignee of the node; added approvers share it
    Column("seq", Integer, nullable=False),                # order within the slot (added before/after)
    Column("assignee_id", BigInteger, nullable=False),
    Column("delegated_from", BigInteger, nullable=True),
    Column("status", String(12), nullable=False),          # open waiting queued approved rejected done cancelled
    _utc("created_at", nullable=False),
    _utc("due_at", nullable=True),
    _utc("next_timer_at", nullable=True),                  # next reminder/overdue action; NULL when none or closed
    Column("reminders", Integer, nullable=False, server_default="0"),
    _utc("acted_at", nullable=True),
    Column("comment", Text, nullable=True),
    Column("added_by", BigInteger, nullable=True),         # the task whose assignee added this approver
    Column("signature_id", BigInteger, nullable=True),
    Index("ix_flow_tasks_inbox", "tenant_id", "assignee_id", "status"),
    Index("ix_flow_tasks_instance", "instance_id", "node_id", "entry"),
    Index("ix_flow_tasks_timer", "next_timer_at"),
)

flow_events = Table(   # the timeline of an instance: every step, comment and signature
    "flow_events", metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    _tenant_fk(),
    Column("instance_id", IdType, ForeignKey("flow_instances.id", ondelete="CASCADE"), nullable=False),
    Column("form_key", String(40), nullable=False),
    Column("record_id", BigInteger, nullable=False),
    _utc("at", nullable=False),
    Column("actor_id", BigInteger, nullable=True),
    Column("kind", String(30), nullable=False),
    Column("node_id", String(40), nullable=True),
    Column("task_id", BigInteger, nullable=True),
    Column("comment", Text, nullable=True),
    Column("data", JSONType, nullable=True),
    # 0007: 1 while the people concerned have not been told yet (engine.services.flow_notices), else NULL
    Column("notice", SmallInteger, nullable=True),
    Index("ix_flow_events_record", "tenant_id", "form_key", "record_id"),
    Index("ix_flow_events_instance", "instance_id"),
    Index("ix_flow_events_notice", "notice"),
)

flow_signatures = Table(
    "flow_signatures", metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    _tenant_fk(),
    Column("instance_id", IdType, ForeignKey("flow_instances.id", ondelete="CASCADE"), nullable=False),
    Column("task_id", BigInteger, nullable=False),
    Column("form_key", String(40), nullable=False),
    Column("record_id", BigInteger, nullable=False),
    Column("record_version", Integer, nullable=False),
    Column("user_id", BigInteger, nullable=False),
    Column("printed_name", String(200), nullable=False),
    Column("meaning", String(40), nullable=False),
    Column("meaning_label", JSONType, nullable=False),
    _utc("signed_at", nullable=False),
    Column("content_hash", String(64), nullable=False),    # the record's content at record_version
    Column("signature_hash", String(64), nullable=False),  # binds signer, time, meaning and content hash
    Index("ix_flow_signatures_record", "tenant_id", "form_key", "record_id"),
)

flow_delegations = Table(   # "out of office": new tasks of user_id go to delegate_id in the date range
    "flow_delegations", metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    _tenant_fk(),
    Column("user_id", BigInteger, nullable=False),
    Column("delegate_id", BigInteger, nullable=False),
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date, nullable=False),
    _utc("created_at", nullable=False),
    _utc("revoked_at", nullable=True),
    Index("ix_flow_delegations_user", "tenant_id", "user_id"),
)

work_calendars = Table(     # one per tenant: working hours for deadlines (engine.flows.calendar)
    "work_calendars", metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    _tenant_fk(),
    Column("data", JSONType, nullable=False),
    _utc("updated_at", nullable=False),
    UniqueConstraint("tenant_id"),
)
