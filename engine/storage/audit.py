"""The audit trail: one append-only entry per record change, chained by hashes per record.

``changes`` maps each changed field to ``{"old", "new"}``; a sub-table maps to
``{"added": [rows], "removed": [rows], "changed": [{"id", "changes"}]}`` (nested the same way
for sub-tables inside rows). Each entry stores the hash of the record's previous entry and its
own hash over its content, so :func:`verify_chain` detects an edited or deleted entry. The
chain is per record because a record's changes are already serialised by its optimistic
lock; a per-tenant chain would make every writer of a tenant queue on one row.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from typing import Any, Mapping

from sqlalchemy import and_, bindparam, insert, select
from sqlalchemy.orm import Session

from engine.definitions.model import FormDef
from engine.fields import field_type
from engine.storage.platform import audit_log as al


def diff(fields, old: Mapping | None, new: Mapping | None) -> dict[str, Any]:
    """Field-by-field changes between two JSON-ready records (None = no record)."""
    old, new = old or {}, new or {}
    out: dict[str, Any] = {}
    for f in fields:
        if field_type(f.type).is_subtable:
            rows = _diff_rows(f.fields, old.get(f.key) or [], new.get(f.key) or [])
            if rows:
                out[f.key] = rows
        elif old.get(f.key) != new.get(f.key):
            out[f.key] = {"old": old.get(f.key), "new": new.get(f.key)}
    return out


def _diff_rows(fields, old_rows: list, new_rows: list) -> dict[str, list]:
    before = {r.get("id"): r for r in old_rows if r.get("id") is not None}
    after_ids = {r.get("id") for r in new_rows}
    added = [r for r in new_rows if r.get("id") not in before]
    removed = [r for r in old_rows if r.get("id") not in after_ids]
    changed = []
    for row in new_rows:
        if row.get("id") in before:
            changes = diff(fields, before[row["id"]], row)
            if changes:
                changed.append({"id": row["id"], "changes": changes})
    return {k: v for k, v in (("added", added), ("removed", removed), ("changed", changed)) if v}


def _entry_hash(entry: Mapping[str, Any]) -> str:
    at = entry["at"]
    at = (at.replace(tzinfo=timezone.utc) if at.tzinfo is None else at.astimezone(timezone.utc)).isoformat()
    body = {k: entry[k] for k in ("tenant_id", "form_key", "record_id", "action", "actor_id", "reason",
                                  "def_version", "changes", "prev_hash")} | {"at": at}
    text = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_LAST_HASH = (select(al.c.entry_hash)
              .where(and_(al.c.tenant_id == bindparam("tenant_id"), al.c.form_key == bindparam("form_key"),
                          al.c.record_id == bindparam("record_id")))
              .order_by(al.c.id.desc()).limit(1))
_INSERT = insert(al).returning(al.c.id)


def _last_hash(session: Session, tenant_id: int, form_key: str, record_id: int) -> str | None:
    params = {"tenant_id": tenant_id, "form_key": form_key, "record_id": record_id}
    return session.execute(_LAST_HASH, params).scalar_one_or_none()


def write_entry(session: Session, tenant_id: int, form: FormDef, record_id: int, action: str,
                actor_id: int | None, changes: dict, def_version: int, reason: str | None = None,
                at: datetime | None = None, first: bool = False) -> int:
    """Append one audit entry (after the record change it describes, in the same transaction).

    ``first``: the entry of a record just inserted into a table that never reuses ids
    (:func:`engine.storage.records.ids_never_reused`): it has no predecessor, so the look-up is
    skipped. Otherwise the chain continues from the id's last entry (a reused id's history).
    """
    fresh = first
    entry = {"tenant_id": tenant_id, "form_key": form.key, "record_id": record_id, "action": action,
             "actor_id": actor_id, "at": (at or datetime.now(timezone.utc)).astimezone(timezone.utc),
             "reason": reason, "def_version": def_version, "changes": changes,
             "prev_hash": None if fresh else _last_hash(session, tenant_id, form.key, record_id)}
    entry["entry_hash"] = _entry_hash(entry)
    return session.execute(_INSERT, entry).scalar_one()


def entries(session: Session, tenant_id: int, form_key: str, record_id: int) -> list[dict]:
    """A record's audit entries, oldest first."""
    stmt = (select(al).where(and_(al.c.tenant_id == tenant_id, al.c.form_key == form_key,
                                  al.c.record_id == record_id)).order_by(al.c.id))
    return [dict(r) for r in session.execute(stmt).mappings()]


def verify_chain(session: Session, tenant_id: int, form_key: str, record_id: int) -> list[int]:
    """Ids of the entries whose hash or link does not match (empty = the chain is intact)."""
    broken, prev = [], None
    for entry in entries(session, tenant_id, form_key, record_id):
        if entry["prev_hash"] != prev or _entry_hash(entry) != entry["entry_hash"]:
            broken.append(entry["id"])
        prev = entry["entry_hash"]
    return broken
