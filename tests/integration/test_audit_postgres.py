"""The per-tenant audit chain under concurrent writers on PostgreSQL: writers queue on the head
row, the chain stays gap-free and intact, and a raw tamper is still found."""
from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select, text

from engine.services import audit_verify
from engine.services import forms as form_service
from engine.services import records as record_service
from engine.storage.db import session_scope
from engine.storage.platform import audit_log
from tests.engine.storage.support import create_tenant

pytestmark = pytest.mark.integration
THREADS, UPDATES = 8, 25
FORM = {"format": 1, "key": "lot", "label": {"zh-CN": "批次", "en": "Lot"},
        "fields": [{"key": "qty", "type": "number", "label": {"zh-CN": "数量", "en": "Qty"}, "precision": 0}]}


def test_concurrent_writers_of_one_tenant_keep_one_gap_free_chain(db_engine):
    from engine.types import Actor
    actor = Actor(tenant_id=create_tenant(db_engine, f"a{uuid.uuid4().hex[:10]}"), user_id=1, lang="en",
                  is_admin=True)
    with session_scope(db_engine) as s:
        form_service.publish_form(s, actor, FORM)
        ids = [record_service.create_record(s, actor, "lot", {"qty": 0}).id for _ in range(THREADS)]

    def edit(record_id: int) -> None:
        for n in range(1, UPDATES + 1):
            with session_scope(db_engine) as s:
                record_service.update_record(s, actor, "lot", record_id, n, {"qty": n})

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(edit, ids))
    total = THREADS * (UPDATES + 1)
    with session_scope(db_engine) as s:
        seqs = s.execute(select(audit_log.c.seq).where(audit_log.c.tenant_id == actor.tenant_id)
                         .order_by(audit_log.c.seq)).scalars().all()
        result = audit_verify.verify_tenant(s, actor.tenant_id, batch=50)
    assert seqs == list(range(1, total + 1))
    assert result.ok and result.checked == result.head_seq == total
    with db_engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET changes = CAST(:c AS JSONB) WHERE tenant_id = :t AND seq = 100"),
                     {"c": '{"qty": {"old": 1, "new": 2}}', "t": actor.tenant_id})
    with session_scope(db_engine) as s:
        broken = audit_verify.verify_tenant(s, actor.tenant_id, batch=50).broken
    assert (broken.kind, broken.seq) == ("altered", 100)
