"""The audit trail: one append-only entry per record change, hash-chained per tenant.

``changes`` maps each changed field to ``{"old", "new"}``; a sub-table maps to
``{"added": [rows], "removed": [rows], "changed": [{"id", "changes"}]}`` (nested the same way
for sub-tables inside rows). A tenant's entries are numbered ``seq`` 1, 2, 3 … without gaps;
each stores the previous entry's hash and its own hash over its content, seq and that link.
``audit_heads`` holds the chain's end (last seq and hash) per tenant: a writer locks that row
in its own transaction (UPDATE … RETURNING), so one tenant's writers chain one after another
until commit, and a deleted last entry no longer matches the head.
:mod:`engine.services.audit_verify` walks a whole tenant's chain. Entries are never updated or
deleted by the application.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping

from sqlalchemy import and_, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from engine.definitions.model import FormDef
from engine.fields import field_type
from engine.storage.platform import audit_heads as heads
from engine.storage.platform import audit_log as al

HASHED = ("tenant_id", "seq", "form_key", "record_id", "action", "actor_id", "reason", "def_version", "changes",
          "prev_hash")


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


def entry_hash(entry: Mapping[str, Any]) -> str:
    """sha256 (hex) of an entry's canonical JSON: the HASHED columns and ``at`` in UTC ISO form."""
    at = entry["at"]
    at = (at.replace(tzinfo=timezone.utc) if at.tzinfo is None else at.astimezone(timezone.utc)).isoformat()
    body = {k: entry[k] for k in HASHED} | {"at": at}
    text = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_INSERT = insert(al).returning(al.c.id)


def write_entry(session: Session, tenant_id: int, form: FormDef, record_id: int, action: str,
                actor_id: int | None, changes: dict, def_version: int, reason: str | None = None,
                at: datetime | None = None) -> int:
    """Append one audit entry (after the record change it describes, in the same transaction); its id."""
    return write_entries(session, tenant_id, [{
        "form_key": form.key, "record_id": record_id, "action": action, "actor_id": actor_id,
        "changes": changes, "def_version": def_version, "reason": reason, "at": at}])[0]


def write_entries(session: Session, tenant_id: int, entries: Iterable[Mapping[str, Any]]) -> list[int]:
    """Append several entries of one tenant in order, taking the chain's head once; their ids.

    Each entry: form_key, record_id, action, actor_id, changes, def_version, and optional reason
    and at (default now)."""
    batch = list(entries)
    if not batch:
        return []
    seq, prev = _take_head(session, tenant_id, len(batch))
    now, ids = datetime.now(timezone.utc), []
    for item in batch:
        entry = {"tenant_id": tenant_id, "seq": seq, "form_key": item["form_key"], "record_id": item["record_id"],
                 "action": item["action"], "actor_id": item.get("actor_id"), "reason": item.get("reason"),
                 "at": (item.get("at") or now).astimezone(timezone.utc), "def_version": item["def_version"],
                 "changes": item["changes"], "prev_hash": prev}
        entry["entry_hash"] = prev = entry_hash(entry)
        ids.append(session.execute(_INSERT, entry).scalar_one())
        seq += 1
    session.execute(update(heads).where(heads.c.tenant_id == tenant_id).values(entry_hash=prev))
    return ids


def _take_head(session: Session, tenant_id: int, count: int) -> tuple[int, str | None]:
    """Reserve ``count`` seqs at the tenant's chain end (row-locked until commit): (first seq, previous hash)."""
    for _ in range(3):
        row = session.execute(update(heads).where(heads.c.tenant_id == tenant_id)
                              .values(seq=heads.c.seq + count).returning(heads.c.seq, heads.c.entry_hash)).first()
        if row is not None:
            return row.seq - count + 1, row.entry_hash
        dialect = session.get_bind().dialect.name
        stmt = ((pg_insert if dialect == "postgresql" else sqlite_insert)(heads)
                .values(tenant_id=tenant_id, seq=count, entry_hash="")
                .on_conflict_do_nothing(index_elements=["tenant_id"]).returning(heads.c.seq))
        if session.execute(stmt).scalar_one_or_none() is not None:
            return 1, None
    raise RuntimeError(f"could not take the audit chain head of tenant {tenant_id}")


def head(session: Session, tenant_id: int) -> tuple[int, str] | None:
    """The tenant's chain end (last seq, its hash), None before the first entry."""
    row = session.execute(select(heads.c.seq, heads.c.entry_hash).where(heads.c.tenant_id == tenant_id)).first()
    return None if row is None else (row.seq, row.entry_hash)


def entries(session: Session, tenant_id: int, form_key: str, record_id: int) -> list[dict]:
    """A record's audit entries, oldest first."""
    stmt = (select(al).where(and_(al.c.tenant_id == tenant_id, al.c.form_key == form_key,
                                  al.c.record_id == record_id)).order_by(al.c.seq))
    return [dict(r) for r in session.execute(stmt).mappings()]


def verify_chain(session: Session, tenant_id: int, form_key: str, record_id: int) -> list[int]:
    """Ids of the record's entries whose hash does not match their content, or whose link does not
    match the tenant's previous entry (empty = intact). The whole tenant: audit_verify."""
    broken = []
    for entry in entries(session, tenant_id, form_key, record_id):
        before = None
        if entry["seq"] > 1:
            before = session.execute(select(al.c.entry_hash).where(
                and_(al.c.tenant_id == tenant_id, al.c.seq == entry["seq"] - 1))).scalar_one_or_none()
        if entry["prev_hash"] != before or entry_hash(entry) != entry["entry_hash"]:
            broken.append(entry["id"])
    return broken
