"""An approved record changes only with a reason, on every path (update, delete, status, bulk),
and the audit trail keeps who/when/old→new/reason for each change."""
import pytest

from engine.errors import PermissionDenied
from engine.services import bulk
from engine.services import records as record_service
from tests.engine.flows.support import make_world


@pytest.fixture
def world(db_engine, actor):
    return make_world(db_engine, actor)


def _approved(world) -> int:
    rid = world.submit(cost=500)
    world.act(rid, "quinn", data={"disposition": "scrap"})
    assert world.instance(rid)["state"] == "approved"
    return rid


def _refused_without_a_reason(world, rid: int) -> None:
    refused = [
        lambda s: record_service.update_record(s, world.admin, "ncr", rid, 2, {"cost": 1}, "  "),
        lambda s: record_service.delete_record(s, world.admin, "ncr", rid),
        lambda s: record_service.set_status(s, world.admin, "ncr", rid, "frozen"),
    ]
    for change in refused:
        with pytest.raises(PermissionDenied) as err, world.session() as s:
            change(s)
        assert "reason" in err.value.message.en and "原因" in err.value.message.zh
    with world.session() as s:
        edit = bulk.bulk_update(s, world.admin, "ncr", [rid], None, {"cost": 2})
        gone = bulk.bulk_delete(s, world.admin, "ncr", [rid], None)
    assert (edit.done, edit.failed, gone.done, gone.failed) == (0, 1, 0, 1)
    assert "reason" in edit.problems[0].message.en and "reason" in gone.problems[0].message.en


def test_an_approved_record_changes_only_with_a_reason_and_the_timeline_keeps_who_when_old_new_why(world):
    """One world for both halves (building it is the slow part)."""
    rid = _approved(world)
    _refused_without_a_reason(world, rid)
    with world.session() as s:
        record_service.update_record(s, world.admin, "ncr", rid, 2, {"cost": 7}, "typo")
        assert record_service.set_status(s, world.admin, "ncr", rid, "frozen", "on hold")
        report = bulk.bulk_update(s, world.admin, "ncr", [rid], None, {"cost": 8}, "bulk fix")
        assert report.done == 1
        history = record_service.record_history(s, world.admin, "ncr", rid)
    changes = [(e["action"], e["reason"], e["changes"]) for e in history[-3:]]
    assert changes == [("update", "typo", {"cost": {"old": 500, "new": 7}}),
                       ("update", "on hold", {"status": {"old": "active", "new": "frozen"}}),
                       ("update", "bulk fix", {"cost": {"old": 7, "new": 8}})]
    assert all(e["actor_id"] == world.admin.user_id and e["at"] is not None for e in history[-3:])
    with world.session() as s:
        bulk.bulk_delete(s, world.admin, "ncr", [rid], None, "duplicate")
        from engine.storage import audit
        last = audit.entries(s, world.admin.tenant_id, "ncr", rid)[-1]
    assert (last["action"], last["reason"], last["changes"]["cost"]) == ("delete", "duplicate", {"old": 8, "new": None})
