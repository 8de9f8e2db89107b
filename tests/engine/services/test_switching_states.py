"""The AQL switching state per supplier × part in the database: lots move it by the ISO 2859-1
rules, the next lot gets the plan of the current severity, and each key has its own state."""
from __future__ import annotations

import pytest

from engine.errors import PermissionDenied
from engine.services import switching as service
from engine.storage.db import session_scope

LOT = {"lot_size": 1000, "level": "II", "aql": "1.0"}     # normal J n=80 Ac 2 Re 3; tightened J n=80 Ac 1 Re 2


def _lot(engine, actor, defects, supplier="S1", part="P1"):
    with session_scope(engine) as s:
        return service.record_lot(s, actor, supplier, part, defects=defects, **LOT)


def test_two_rejects_in_five_tighten_and_five_accepts_relax(db_engine, actor):
    assert _lot(db_engine, actor, 3).decision.value == "reject"
    _lot(db_engine, actor, 0)
    out = _lot(db_engine, actor, 5)
    assert out.transition.changed and out.transition.state.severity.value == "tightened"
    with session_scope(db_engine) as s:
        plan = service.plan_for(s, actor.tenant_id, "S1", "P1", **LOT)
        assert (plan.severity.value, plan.ac, plan.re) == ("tightened", 1, 2)
        # another part of the same supplier is on its own state
        assert service.state_of(s, actor.tenant_id, "S1", "P2").severity.value == "normal"
    for _ in range(4):
        assert not _lot(db_engine, actor, 0).transition.changed
    back = _lot(db_engine, actor, 0)
    assert back.transition.state.severity.value == "normal" and back.transition.reason is not None
    with session_scope(db_engine) as s:
        history = service.history(s, actor.tenant_id, "S1", "P1")
    assert len(history) == 8 and [h for h in history if "switch" in h][0]["switch"]["to"] == "tightened"


def test_one_reject_in_five_stays_normal(db_engine, actor):
    _lot(db_engine, actor, 3)
    for _ in range(5):
        _lot(db_engine, actor, 0)
    out = _lot(db_engine, actor, 3)
    assert out.transition.state.severity.value == "normal"


def test_resume_is_for_administrators(db_engine, actor, member):
    with session_scope(db_engine) as s, pytest.raises(PermissionDenied):
        service.resume(s, member, "S1", "P1")
