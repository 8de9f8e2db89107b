"""Deadlines with a controllable clock (remind, escalate, approve, return), e-signatures
(verify, tamper), delegation and batch approval. Re-run on PostgreSQL by tests/integration."""
import copy

import pytest
from sqlalchemy import update

from engine.errors import RecordValidationError
from engine.services import flow_actions, flow_timers, signatures
from engine.services import records as record_service
from engine.services.flow_directory import set_delegation
from engine.storage.flow_tables import flow_signatures
from engine.storage.platform import users
from tests.engine.flows.support import REVIEW, T0, later, make_world


def review_with(deadline: dict, **qe) -> dict:
    flow = copy.deepcopy(REVIEW)
    node = flow["nodes"][1]
    node["deadline"] = deadline
    node.update(qe)
    return flow


def test_remind_before_the_due_time_then_escalate_to_the_department_head(db_engine, actor):
    flow = review_with({"hours": 4, "remind_before_hours": 1, "on_overdue": "escalate",
                        "escalate_to": [{"kind": "department_head"}]})
    world = make_world(db_engine, actor, flow)
    rid = world.submit()
    task = world.tasks(rid, status="open")[0]
    assert task["due_at"].replace(tzinfo=None) == later(4).replace(tzinfo=None)
    assert flow_timers.run_due(db_engine, later(2)) == 0                    # nothing due yet
    assert flow_timers.run_due(db_engine, later(3.5)) == 2                  # both QEs reminded
    assert flow_timers.run_due(db_engine, later(3.6)) == 0                  # once
    assert flow_timers.run_due(db_engine, later(4.5)) == 2                  # overdue: escalated
    assert world.events(rid).count("escalated") == 2
    assert world.tasks(rid, assignee_id=world["hannah"].user_id, status="open")
    world.act(rid, "hannah", now=later(5))                                  # the head approves for them
    assert world.instance(rid)["state"] == "approved"


def test_overdue_auto_return_and_auto_approve(db_engine, actor):
    world = make_world(db_engine, actor, review_with({"hours": 2, "on_overdue": "return"}))
    rid = world.submit()
    flow_timers.run_due(db_engine, later(3))
    assert world.instance(rid)["state"] == "returned" and "auto_returned" in world.events(rid)
    flow = review_with({"hours": 2, "on_overdue": "approve"})
    del flow["nodes"][1]["signature"]                  # nobody can sign for an absent approver
    other = make_world(db_engine, actor.__class__(**{**actor.__dict__, "tenant_id": _tenant(db_engine)}), flow)
    rid = other.submit()
    flow_timers.run_due(db_engine, later(3))
    assert other.instance(rid)["state"] == "approved" and "auto_approved" in other.events(rid)


def _tenant(engine):
    from tests.engine.storage.support import create_tenant
    return create_tenant(engine)


def test_working_hours_deadline_skips_the_weekend(db_engine, actor):
    world = make_world(db_engine, actor, review_with({"hours": 8, "working_hours": True}))
    friday_4pm_shanghai = T0.replace(day=6, hour=8)           # Fri 2026-03-06 16:00 +08:00
    rid = world.submit(now=friday_4pm_shanghai)
    due = world.tasks(rid, status="open")[0]["due_at"]
    assert (due.month, due.day, due.hour, due.minute) == (3, 9, 8, 0)      # 1.5 h Fri + 6.5 h Mon: 16:00 +08:00


def test_signatures_verify_and_detect_tampering_and_later_changes(world_signed):
    world, rid = world_signed
    with world.session() as s:
        [sig] = signatures.record_signatures(s, world.admin.tenant_id, "ncr", rid)
    assert sig["intact"] and sig["matches_record"] and sig["printed_name"] == "Quinn"
    assert sig["meaning"] == "reviewed" and sig["meaning_label"]["en"] == "Reviewed"
    with world.session() as s:                                          # a later change (with a reason)
        record_service.update_record(s, world.admin, "ncr", rid, 2, {"subject": "changed"}, "typo")
        after = signatures.verify(s, world.admin.tenant_id, sig["id"])
    assert after["intact"] and not after["matches_record"]
    with world.session() as s:                                          # someone edits the signature row
        s.execute(update(flow_signatures).where(flow_signatures.c.id == sig["id"]).values(printed_name="Mallory"))
        assert not signatures.verify(s, world.admin.tenant_id, sig["id"])["intact"]


@pytest.fixture
def world_signed(db_engine, actor):
    world = make_world(db_engine, actor)
    rid = world.submit()
    with pytest.raises(RecordValidationError) as err:
        world.act(rid, "quinn", password="wrong")
    assert err.value.errors[0].field == "password"
    world.act(rid, "quinn", data={"disposition": "scrap"})
    return world, rid


def test_delegation_sends_new_tasks_to_the_delegate_in_the_date_range(db_engine, actor):
    world = make_world(db_engine, actor)
    with world.session() as s:
        set_delegation(s, world["quinn"], world["dora"].user_id, T0.date(), later(48).date())
    rid = world.submit()
    dora = world.tasks(rid, assignee_id=world["dora"].user_id)
    assert dora and dora[0]["delegated_from"] == world["quinn"].user_id
    rid2 = world.submit(now=later(24 * 5))
    assert not world.tasks(rid2, assignee_id=world["dora"].user_id)


def test_a_delegate_who_has_left_gets_no_tasks(db_engine, actor):
    world = make_world(db_engine, actor)
    with world.session() as s:
        set_delegation(s, world["quinn"], world["dora"].user_id, T0.date(), later(48).date())
    with world.session() as s:
        s.execute(update(users).where(users.c.id == world["dora"].user_id).values(is_active=False))
    rid = world.submit()
    assert not world.tasks(rid, assignee_id=world["dora"].user_id)
    assert world.tasks(rid, assignee_id=world["quinn"].user_id, status="open")


def test_batch_approve_reports_each_task(db_engine, actor):
    world = make_world(db_engine, actor)
    rids = [world.submit() for _ in range(3)]
    ids = [world.open_task(r, "quinn") for r in rids]
    with world.session() as s:
        done = flow_actions.batch_approve(s, world["quinn"], ids + [999999], password="sign-it-123", now=T0)
    assert [done[i] for i in ids] == [None, None, None] and "999999" in done[999999]
    assert {world.instance(r)["state"] for r in rids} == {"approved"}


def test_exports_carry_the_approval_state_and_signatures_and_import_back(world_signed):
    import csv
    import io
    from engine.services import exports, imports
    world, rid = world_signed
    with world.session() as s:
        data = exports.export_records(s, world.admin, "ncr", "csv", lang="en")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    header, row = rows[0], next(r for r in rows[1:] if r[0] == str(rid))
    assert header[-2:] == ["Approval state", "E-signatures"]
    assert row[-2] == "approved" and row[-1].startswith("Quinn · Reviewed · ") and row[-1].endswith(" UTC")
    with world.session() as s:
        report = imports.import_records(s, world.admin, "ncr", data, "ncr.csv", mode="upsert", key_field="subject",
                                        dry_run=True)
    assert {"Approval state", "E-signatures"} <= set(report.ignored_columns)


def test_one_failing_timer_does_not_stop_the_others(db_engine, actor, monkeypatch):
    world = make_world(db_engine, actor, review_with({"hours": 2, "on_overdue": "remind"}))
    rids = [world.submit() for _ in range(2)]
    real_fire, calls = flow_timers.fire, []

    def flaky(session, tenant_id, task_id, now=None):
        calls.append(task_id)
        if len(calls) == 1:
            raise RuntimeError("boom")
        return real_fire(session, tenant_id, task_id, now)
    monkeypatch.setattr(flow_timers, "fire", flaky)
    assert flow_timers.run_due(db_engine, later(3)) == 3                  # 4 due tasks, the first one failed
    monkeypatch.setattr(flow_timers, "fire", real_fire)
    assert flow_timers.run_due(db_engine, later(3)) == 1                  # it is still due and handled next time
    assert sum(world.events(r).count("overdue") for r in rids) == 4
