"""Verify a tenant's audit chain end to end and name the first broken link.

The entries are read in seq order in batches (keyset on seq, never all at once). Each entry must
have the next seq (else ``gap``: an entry was deleted), a hash that matches its content
(``altered``) and the previous entry's hash as its link (``link``); the chain must end where
``audit_heads`` says (``tail``: the last entries were deleted or the head edited), and a tenant
with entries must have a head (``head_missing``). An anchor — a (seq, hash) recorded outside the
database from an earlier run — must still be in the chain (``anchor``), which also catches the
removal of everything including the head. :func:`record_check` keeps each run in ``audit_checks``.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any, Iterator

from sqlalchemy import and_, func, insert, select
from sqlalchemy.orm import Session

from engine.i18n import Msg, msg
from engine.storage.audit import entry_hash, head
from engine.storage.platform import audit_checks, audit_log as al

BATCH = 1000
KINDS = ("altered", "link", "gap", "tail", "head_missing", "anchor")

_MESSAGES = {
    "altered": ("第 {seq} 条审计记录的内容与其哈希不符（被修改）",
                "Audit entry {seq} does not match its hash (it was altered)"),
    "link": ("第 {seq} 条审计记录没有链接到上一条记录的哈希",
             "Audit entry {seq} does not link to the previous entry's hash"),
    "gap": ("缺少第 {seq} 条审计记录（被删除）", "Audit entry {seq} is missing (it was deleted)"),
    "tail": ("审计链应结束于第 {seq} 条，但最后一条记录不符（末尾记录被删除或修改）",
             "The audit chain should end at entry {seq}, but its last entry differs (deleted or altered tail)"),
    "head_missing": ("存在审计记录，但链尾记录（audit_heads）缺失",
                     "There are audit entries but the chain's head row (audit_heads) is missing"),
    "anchor": ("审计链中已没有锚点第 {seq} 条（哈希 {hash}）",
               "The audit chain no longer contains the anchor entry {seq} (hash {hash})"),
}


@dataclass(frozen=True)
class Break:
    """The first broken link: its kind, the seq where the chain breaks and the entry found there."""

    kind: str
    seq: int | None
    entry_id: int | None = None
    form_key: str | None = None
    record_id: int | None = None
    anchor_hash: str | None = None

    @property
    def message(self) -> Msg:
        zh, en = _MESSAGES[self.kind]
        return msg(zh, en, seq=self.seq if self.seq is not None else "?", hash=(self.anchor_hash or "")[:16])

    def to_json(self) -> dict[str, Any]:
        return asdict(self) | {"message": self.message.to_dict()}


@dataclass(frozen=True)
class Verification:
    """One tenant's result: entries checked, the head (the anchor to note down) and the first break."""

    tenant_id: int
    checked: int
    head_seq: int | None
    head_hash: str | None
    broken: Break | None

    @property
    def ok(self) -> bool:
        return self.broken is None


def parse_anchor(text: str) -> tuple[int, str]:
    """``"SEQ:HASH"`` → (seq, hash); ValueError when it is not a positive seq and a 64-hex hash."""
    seq, sep, digest = (text or "").strip().partition(":")
    digest = digest.strip().lower()
    if not sep or not seq.strip().isdigit() or int(seq) < 1 or len(digest) != 64 or \
            any(c not in "0123456789abcdef" for c in digest):
        raise ValueError(text)
    return int(seq), digest


def _stream(session: Session, tenant_id: int, batch: int) -> Iterator[dict]:
    last = None
    while True:
        where = al.c.tenant_id == tenant_id if last is None else and_(al.c.tenant_id == tenant_id, al.c.seq > last)
        rows = session.execute(select(al).where(where).order_by(al.c.seq).limit(batch)).mappings().all()
        yield from (dict(r) for r in rows)
        if len(rows) < batch:
            return
        last = rows[-1]["seq"]


def _at(entry: dict, kind: str, seq: int | None = None) -> Break:
    return Break(kind, entry["seq"] if seq is None else seq, entry["id"], entry["form_key"], entry["record_id"])


def verify_tenant(session: Session, tenant_id: int, anchor: tuple[int, str] | None = None,
                  *, batch: int = BATCH) -> Verification:
    """Walk the tenant's chain in seq order; stop at the first broken link."""
    end = head(session, tenant_id)
    checked, expected, prev, found_anchor = 0, 1, None, anchor is None
    broken: Break | None = None
    for entry in _stream(session, tenant_id, batch):
        if entry["seq"] != expected:
            broken = _at(entry, "gap", expected)
        elif entry_hash(entry) != entry["entry_hash"]:
            broken = _at(entry, "altered")
        elif entry["prev_hash"] != prev:
            broken = _at(entry, "link")
        elif anchor is not None and entry["seq"] == anchor[0]:
            found_anchor = entry["entry_hash"] == anchor[1]
            if not found_anchor:
                broken = Break("anchor", anchor[0], entry["id"], entry["form_key"], entry["record_id"], anchor[1])
        if broken is not None:
            break
        checked, expected, prev = checked + 1, expected + 1, entry["entry_hash"]
    if broken is None:
        broken = _end_break(end, checked, prev, anchor, found_anchor)
    return Verification(tenant_id, checked, end[0] if end else None, end[1] if end else None, broken)


def _end_break(end, checked: int, last_hash: str | None, anchor, found_anchor: bool) -> Break | None:
    if end is None:
        return Break("head_missing", checked) if checked else (
            Break("anchor", anchor[0], anchor_hash=anchor[1]) if not found_anchor else None)
    if end != (checked, last_hash):
        return Break("tail", end[0])
    if not found_anchor:
        return Break("anchor", anchor[0], anchor_hash=anchor[1])
    return None


def record_check(session: Session, result: Verification, actor_id: int | None,
                 now: datetime | None = None) -> None:
    """Keep the run in ``audit_checks`` (the admin page shows the last one)."""
    session.execute(insert(audit_checks).values(
        tenant_id=result.tenant_id, at=(now or datetime.now(timezone.utc)), actor_id=actor_id, ok=result.ok,
        checked=result.checked, head_seq=result.head_seq, head_hash=result.head_hash,
        broken=result.broken.to_json() if result.broken else None))


def last_check(session: Session, tenant_id: int) -> dict | None:
    """The tenant's latest verification run (``audit_checks`` row), None if never verified."""
    row = session.execute(select(audit_checks).where(audit_checks.c.tenant_id == tenant_id)
                          .order_by(audit_checks.c.id.desc()).limit(1)).mappings().first()
    return dict(row) if row else None


def entry_count(session: Session, tenant_id: int) -> int:
    """How many audit entries the tenant has."""
    return session.execute(select(func.count()).select_from(al).where(al.c.tenant_id == tenant_id)).scalar_one()
