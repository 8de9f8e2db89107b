"""The per-tenant audit chain: written gap-free, and any direct change to a row is detected.

Every tampering case edits the database with raw SQL (as someone with database access would)
and expects :func:`engine.services.audit_verify.verify_tenant` to name the first broken link,
while the other tenant's chain stays intact.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select, text

from engine.services import audit_verify
from engine.storage import audit
from engine.storage.db import make_engine, session_scope, upgrade_database
from engine.storage.platform import audit_log
from tests.engine.storage.support import create_tenant, form

ROOT = Path(__file__).resolve().parents[3]
NCR, CAPA = form("ncr"), form("capa")
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def chain_db(tmp_path_factory):
    """One migrated SQLite file for the module; each test makes its own tenants in it."""
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('audit') / 'qms.db'}")
    upgrade_database(engine)
    yield engine
    engine.dispose()


def _write(s, tenant: int, k: int) -> None:
    """The k-th change of a small history: three records of two forms, created then edited."""
    target = (NCR, 10 + k % 3) if k % 2 else (CAPA, 20 + k % 3)
    audit.write_entry(s, tenant, target[0], target[1], "create" if k < 3 else "update", 100 + k,
                      {"qty": {"old": k, "new": k + 1}, "note": {"old": None, "new": f"变更 {k}"}}, 1,
                      reason=f"reason {k}" if k % 2 else None, at=T0 + timedelta(minutes=k))


@pytest.fixture
def tenants(chain_db):
    """(A, B): two tenants with 8 and 5 entries written interleaved."""
    a, b = create_tenant(chain_db), create_tenant(chain_db)
    with session_scope(chain_db) as s:
        for k in range(8):
            _write(s, a, k)
            if k < 5:
                _write(s, b, k)
    return a, b


def _sql(engine, statement: str, **params) -> None:
    with engine.begin() as conn:
        conn.execute(text(statement), params)


def _verify(engine, tenant: int, anchor=None) -> audit_verify.Verification:
    with session_scope(engine) as s:
        return audit_verify.verify_tenant(s, tenant, anchor, batch=3)      # small batches: the keyset paging


def _entry(engine, tenant: int, seq: int) -> dict:
    with engine.connect() as conn:
        return dict(conn.execute(select(audit_log).where(audit_log.c.tenant_id == tenant, audit_log.c.seq == seq))
                    .mappings().one())


def test_entries_are_numbered_per_tenant_and_linked_and_verify_intact(chain_db, tenants):
    a, b = tenants
    for tenant, n in ((a, 8), (b, 5)):
        result = _verify(chain_db, tenant)
        assert result.ok and result.checked == n and result.head_seq == n
        assert result.head_hash == _entry(chain_db, tenant, n)["entry_hash"]
        assert _entry(chain_db, tenant, 1)["prev_hash"] is None
        assert _entry(chain_db, tenant, 2)["prev_hash"] == _entry(chain_db, tenant, 1)["entry_hash"]
    with session_scope(chain_db) as s:
        assert audit.verify_chain(s, a, "ncr", 11) == []
        assert [e["seq"] for e in audit.entries(s, a, "ncr", 11)] == [2, 8]
    assert _verify(chain_db, a, (4, _entry(chain_db, a, 4)["entry_hash"])).ok


def test_a_batch_takes_the_head_once_and_continues_the_chain(chain_db, tenants):
    a, _ = tenants
    with session_scope(chain_db) as s:
        ids = audit.write_entries(s, a, [{"form_key": "ncr", "record_id": 30 + i, "action": "delete", "actor_id": 1,
                                          "changes": {"_system": {"id": 30 + i}}, "def_version": 2} for i in range(3)])
        assert audit.write_entries(s, a, []) == []
        assert audit.head(s, a)[0] == 11
    assert [_entry(chain_db, a, seq)["id"] for seq in (9, 10, 11)] == ids
    assert _verify(chain_db, a).ok


_AT = "2020-01-01 00:00:00.000000"
ALTERATIONS = {
    "changes": "changes = '{\"qty\": {\"old\": 1, \"new\": 99}}'",
    "reason": "reason = 'forged'",
    "actor_id": "actor_id = 7",
    "at": f"at = '{_AT}'",
    "record_id": "record_id = 999",
    "action": "action = 'delete'",
    "form_key": "form_key = 'capa'",
    "def_version": "def_version = 9",
    "entry_hash": "entry_hash = '" + "0" * 64 + "'",
    "prev_hash": "prev_hash = '" + "f" * 64 + "'",
}


@pytest.mark.parametrize("column", sorted(ALTERATIONS))
def test_altering_any_column_of_a_middle_entry_is_detected_there(chain_db, tenants, column):
    a, b = tenants
    target = _entry(chain_db, a, 4)
    _sql(chain_db, f"UPDATE audit_log SET {ALTERATIONS[column]} WHERE id = :i", i=target["id"])
    result = _verify(chain_db, a)
    assert (result.broken.kind, result.broken.seq, result.broken.entry_id) == ("altered", 4, target["id"])
    assert result.checked == 3 and not result.ok
    assert _verify(chain_db, b).ok
    with session_scope(chain_db) as s:         # the record timeline's helper sees it too
        assert target["id"] in audit.verify_chain(s, a, target["form_key"], target["record_id"]) or column in (
            "record_id", "form_key")


def test_an_altered_entry_with_a_recomputed_hash_breaks_the_next_link(chain_db, tenants):
    a, b = tenants
    forged = _entry(chain_db, a, 4) | {"reason": "forged"}
    _sql(chain_db, "UPDATE audit_log SET reason = 'forged', entry_hash = :h WHERE id = :i",
         h=audit.entry_hash(forged), i=forged["id"])
    broken = _verify(chain_db, a).broken
    assert (broken.kind, broken.seq, broken.entry_id) == ("link", 5, _entry(chain_db, a, 5)["id"])
    assert _verify(chain_db, b).ok


def _tamper_delete_middle(engine, a):
    _sql(engine, "DELETE FROM audit_log WHERE tenant_id = :t AND seq = 4", t=a)


def _tamper_delete_last(engine, a):
    _sql(engine, "DELETE FROM audit_log WHERE tenant_id = :t AND seq = 8", t=a)


def _tamper_delete_head(engine, a):
    _sql(engine, "DELETE FROM audit_heads WHERE tenant_id = :t", t=a)


def _tamper_delete_all(engine, a):
    _sql(engine, "DELETE FROM audit_log WHERE tenant_id = :t", t=a)


def _tamper_head_seq(engine, a):
    _sql(engine, "UPDATE audit_heads SET seq = 7 WHERE tenant_id = :t", t=a)


def _tamper_head_hash(engine, a):
    _sql(engine, "UPDATE audit_heads SET entry_hash = :h WHERE tenant_id = :t", h="a" * 64, t=a)


def _tamper_swap(engine, a):
    for old, new in ((3, -1), (4, 3), (-1, 4)):
        _sql(engine, "UPDATE audit_log SET seq = :n WHERE tenant_id = :t AND seq = :o", n=new, o=old, t=a)


def _tamper_renumber(engine, a):
    """Delete entry 4 and shift the later ones down: the seqs close up, but the hashes cover seq."""
    _tamper_delete_middle(engine, a)
    for seq in range(5, 9):
        _sql(engine, "UPDATE audit_log SET seq = :n WHERE tenant_id = :t AND seq = :o", n=seq - 1, o=seq, t=a)


TAMPERING = [  # (how, kind, seq of the first broken link, its entry's seq or None)
    (_tamper_delete_middle, "gap", 4, 5),
    (_tamper_delete_last, "tail", 8, None),
    (_tamper_delete_head, "head_missing", 8, None),
    (_tamper_delete_all, "tail", 8, None),
    (_tamper_head_seq, "tail", 7, None),
    (_tamper_head_hash, "tail", 8, None),
    (_tamper_swap, "altered", 3, 4),
    (_tamper_renumber, "altered", 4, 5),
]


@pytest.mark.parametrize("tamper, kind, seq, entry_seq", TAMPERING, ids=[t[0].__name__[8:] for t in TAMPERING])
def test_deleting_or_moving_rows_is_detected_at_the_first_broken_link(chain_db, tenants, tamper, kind, seq, entry_seq):
    a, b = tenants
    entry_id = _entry(chain_db, a, entry_seq)["id"] if entry_seq else None
    tamper(chain_db, a)
    result = _verify(chain_db, a)
    assert (result.broken.kind, result.broken.seq, result.broken.entry_id) == (kind, seq, entry_id)
    assert result.broken.message.en and result.broken.message.zh
    assert _verify(chain_db, b).ok and _verify(chain_db, b).checked == 5


def test_an_anchor_catches_what_the_database_alone_cannot(chain_db, tenants):
    a, _ = tenants
    anchor = (8, _entry(chain_db, a, 8)["entry_hash"])
    assert _verify(chain_db, a, anchor).ok
    # the last entry deleted and the head rewritten to the one before: consistent inside the database
    seventh = _entry(chain_db, a, 7)["entry_hash"]
    _tamper_delete_last(chain_db, a)
    _sql(chain_db, "UPDATE audit_heads SET seq = 7, entry_hash = :h WHERE tenant_id = :t", h=seventh, t=a)
    assert _verify(chain_db, a).ok
    broken = _verify(chain_db, a, anchor).broken
    assert (broken.kind, broken.seq, broken.entry_id) == ("anchor", 8, None)
    assert _verify(chain_db, a, (7, "b" * 64)).broken.kind == "anchor"
    # everything deleted, head included
    _tamper_delete_all(chain_db, a)
    _tamper_delete_head(chain_db, a)
    assert _verify(chain_db, a).ok and _verify(chain_db, a).checked == 0
    assert _verify(chain_db, a, anchor).broken.kind == "anchor"


def test_anchor_text_is_parsed_strictly():
    assert audit_verify.parse_anchor(f" 12:{'AB' * 32} ") == (12, "ab" * 32)
    for bad in ("", "12", "x:" + "a" * 64, "0:" + "a" * 64, "3:abc", "3:" + "g" * 64):
        with pytest.raises(ValueError):
            audit_verify.parse_anchor(bad)


def test_checks_are_recorded_and_the_last_one_is_read_back(chain_db, tenants):
    a, _ = tenants
    with session_scope(chain_db) as s:
        assert audit_verify.last_check(s, a) is None
        audit_verify.record_check(s, audit_verify.verify_tenant(s, a), actor_id=None)
    _tamper_delete_middle(chain_db, a)
    with session_scope(chain_db) as s:
        audit_verify.record_check(s, audit_verify.verify_tenant(s, a), actor_id=5)
        last = audit_verify.last_check(s, a)
        assert audit_verify.entry_count(s, a) == 7
    assert not last["ok"] and last["actor_id"] == 5 and last["broken"]["kind"] == "gap"
    assert last["broken"]["message"]["en"].startswith("Audit entry 4 is missing")


_WRITES = [re.compile(p, re.IGNORECASE) for p in (
    r"\b(update|delete)\(\s*(audit_log|al|audit_heads|heads)\b(?!\.c)",
    r"\baudit_log\s*\.\s*(update|delete)\(",
    r"\b(update|delete\s+from)\s+\"?audit_log\b",
)]


def test_the_application_never_updates_or_deletes_audit_entries():
    """Only engine/storage/audit.py moves the chain's head; nothing changes or removes an entry."""
    offenders = []
    for top in ("engine", "runtime", "designer", "templates_qms"):
        for path in (ROOT / top).rglob("*.py"):
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if any(p.search(line) for p in _WRITES):
                    offenders.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    allowed = [o for o in offenders if o.startswith("engine/storage/audit.py") and "update(heads)" in o]
    assert offenders == allowed and len(allowed) == 2


def test_the_migration_rechains_old_per_record_entries_per_tenant(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        upgrade_database(engine, "0010")
        a, b = create_tenant(engine), create_tenant(engine)
        old = ("INSERT INTO audit_log (tenant_id, form_key, record_id, action, actor_id, at, reason, def_version, "
               "changes, prev_hash, entry_hash) VALUES (:t, 'ncr', :r, 'update', 1, :at, :why, 1, :c, :p, :h)")
        for k in range(7):       # per-record chains of the old kind, two tenants interleaved
            _sql(engine, old, t=(a, b)[k % 2], r=k % 3, at=T0 + timedelta(hours=k), why=f"老原因 {k}",
                 c='{"qty": {"old": %d, "new": %d}}' % (k, k + 1), p=None if k < 3 else "c" * 64, h=f"{k:064d}")
        upgrade_database(engine)
        for tenant, n in ((a, 4), (b, 3)):
            result = _verify(engine, tenant)
            assert result.ok and result.checked == result.head_seq == n
        ids = [_entry(engine, a, seq)["id"] for seq in range(1, 5)]
        assert ids == sorted(ids) and _entry(engine, a, 2)["reason"] == "老原因 2"
        with session_scope(engine) as s:
            _write(s, a, 9)
        assert _verify(engine, a).checked == 5 and _verify(engine, a).ok
    finally:
        engine.dispose()
