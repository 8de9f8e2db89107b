"""What follows an approval step: rules with flow triggers, the actions of automatic steps, and the
notices to the people concerned (sent after the step commits, never lost)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from engine.errors import DefinitionError
from engine.services import flow_actions, flow_defs, flow_notices, flow_timers
from engine.services.flow_actions import TaskAction
from engine.storage.flow_tables import flow_events, flow_tasks
from engine.storage.notify_tables import mail_outbox, notifications
from tests.engine.flows.support import T0
from tests.engine.rules.support import L, PASSWORD

REVIEW = {"format": 1, "key": "ncr_review", "label": L("评审", "Review"), "form": "ncr", "auto_start": True, "nodes": [
    {"id": "start", "type": "start", "next": "qe"},
    {"id": "qe", "type": "approval", "label": L("质量审核", "QE review"), "assignees": [{"kind": "role", "role": "quality"}],
     "deadline": {"hours": 4, "remind_before_hours": 1, "on_overdue": "remind"}, "next": "auto"},
    {"id": "auto", "type": "automatic", "actions": [
        {"type": "create_record", "form": "lot", "values": {"lot_no": 'lot_no & " (reviewed)"'}}], "next": "end"},
    {"id": "end", "type": "end"}]}



@pytest.fixture
def flow_world(world):
    with world.session() as s:
        flow_defs.publish_flow(s, world.admin, REVIEW)
    return world


def _approve(world, ncr_id: int, who: str = "quinn"):
    with world.session() as s:
        task = s.execute(select(flow_tasks.c.id).where(flow_tasks.c.assignee_id == world[who].user_id,
                                                       flow_tasks.c.status == "open")).scalar_one()
    with world.session() as s:
        flow_actions.act(s, world[who], task, "approve", TaskAction(comment="ok", password=PASSWORD), now=T0)


def test_the_assignee_is_told_after_the_step_commits(flow_world):
    world = flow_world
    ncr = world.create("ncr", "admin", lot_no="N-1")
    with world.session() as s:
        assert s.execute(select(notifications.c.id)).first() is None           # nothing in the step itself
        marked = s.execute(select(flow_events.c.kind).where(flow_events.c.notice == 1)).scalars().all()
    assert marked == ["entered"]
    world.run_jobs()
    with world.session() as s:
        got = s.execute(select(notifications.c.user_id, notifications.c.subject, notifications.c.link)).all()
        mails = s.execute(select(mail_outbox.c.to_addr)).scalars().all()
        left = s.execute(select(flow_events.c.id).where(flow_events.c.notice == 1)).all()
    assert [(u, subject) for u, subject, _ in got] == [(world["quinn"].user_id, "Waiting for you: " + _title(world, ncr))]
    assert got[0][2].endswith(f"/f/ncr/{ncr}") and len(mails) == 1 and left == []


def _title(world, ncr_id):
    record = world.get("ncr", ncr_id)
    return record.title or record.serial_no


def test_a_lost_notice_job_is_sent_by_the_sweep(flow_world):
    world = flow_world
    world.create("ncr", "admin", lot_no="N-2")
    world.backend.calls.clear()                          # the job was lost
    from engine.jobs import tasks
    assert tasks.dispatch(world.url) >= 1
    world.run_jobs()
    with world.session() as s:
        assert s.execute(select(notifications.c.user_id)).scalars().all() == [world["quinn"].user_id]


def test_reminders_reach_the_assignee(flow_world):
    world = flow_world
    world.create("ncr", "admin", lot_no="N-3")
    world.run_jobs()
    acted = flow_timers.run_due(world.engine, datetime.now(timezone.utc) + timedelta(days=30))
    assert acted >= 1
    world.run_jobs()
    with world.session() as s:
        subjects = s.execute(select(notifications.c.subject).order_by(notifications.c.id)).scalars().all()
    assert any(x.startswith(("Reminder", "Overdue")) for x in subjects), subjects


def test_an_automatic_step_runs_its_actions_once_through_the_outbox(flow_world):
    world = flow_world
    ncr = world.create("ncr", "admin", lot_no="N-4")
    _approve(world, ncr)
    world.run_jobs()
    runs = world.runs()
    assert [r["rule_key"] for r in runs] == ["flow:ncr_review.auto"] and runs[0]["status"] == "done"
    assert [r.data["lot_no"] for r in world.records("lot")] == ["N-4 (reviewed)"]


def test_rules_with_flow_triggers_fire_on_entered_and_completed(flow_world):
    world = flow_world
    for key, trigger in (("on_enter", {"type": "flow_node_entered", "flow": "ncr_review", "nodes": ["qe"]}),
                         ("on_done", {"type": "flow_node_completed", "flow": "ncr_review", "outcome": "approved"})):
        world.publish({"format": 1, "key": key, "label": L(key, key), "form": "ncr", "trigger": trigger,
                       "actions": [{"type": "set_status", "status": key}]})
    ncr = world.create("ncr", "admin", lot_no="N-5")
    assert [r["rule_key"] for r in world.runs()] == ["on_enter"]
    _approve(world, ncr)
    assert sorted(r["rule_key"] for r in world.runs()) == ["flow:ncr_review.auto", "on_done", "on_enter"]


def test_automatic_step_actions_are_checked_when_the_flow_is_published(world):
    bad = dict(REVIEW, key="bad_review", auto_start=False,
               nodes=[dict(n, actions=[{"type": "create_record", "form": "lot", "values": {"nope": "1"}}])
                      if n["type"] == "automatic" else n for n in REVIEW["nodes"]])
    with pytest.raises(DefinitionError) as err, world.session() as s:
        flow_defs.publish_flow(s, world.admin, bad)
    assert [p.path for p in err.value.problems] == ["$.nodes[2].actions[0].values.nope"]


def test_notice_kinds_are_the_ones_the_flow_writes():
    assert {"entered", "cc", "reminder", "escalated", "approved"} <= flow_notices.NOTICE_KINDS
