"""Running the NCR review flow through the services: tasks, branches, modes, rejections,
withdraw/resubmit, people actions, field permissions — each move one transaction.
Re-run on PostgreSQL by tests/integration."""
import copy

import pytest

from engine.errors import Conflict, NotFound, PermissionDenied, RecordValidationError
from engine.services import records as record_service
from tests.engine.flows.support import REVIEW, T0, flows, make_world


@pytest.fixture
def world(db_engine, actor):
    return make_world(db_engine, actor)


def test_submitting_starts_the_flow_and_one_qe_approval_ends_a_cheap_ncr(world):
    rid = world.submit(cost=500)
    assert world.instance(rid)["state"] == "running" and world.instance(rid)["tokens"] == ["qe"]
    assert {t["assignee_id"] for t in world.tasks(rid, status="open")} == {world["quinn"].user_id,
                                                                          world["quincy"].user_id}
    world.act(rid, "quinn", data={"disposition": "scrap"}, comment="ok")
    inst = world.instance(rid)
    assert inst["state"] == "approved" and inst["tokens"] == [] and inst["ended_at"] is not None
    assert [t["status"] for t in world.tasks(rid)] == ["approved", "cancelled"]      # any-one: Quincy's is retired
    assert world.events(rid) == ["submitted", "entered", "signed", "approve", "node_approved", "branch", "approved"]
    with world.session() as s:
        record = record_service.get_record(s, world.admin, "ncr", rid)
    assert record.data["disposition"] == "scrap" and record.flow_state == "approved"


def test_an_expensive_ncr_needs_every_mrb_member(world):
    rid = world.submit(cost=5000)
    world.act(rid, "quincy")
    assert world.instance(rid)["tokens"] == ["mrb"]
    world.act(rid, "mia")
    assert world.instance(rid)["state"] == "running"
    world.act(rid, "max")
    assert world.instance(rid)["state"] == "approved"


def test_a_rejection_returns_it_to_the_submitter_who_edits_and_resubmits(world):
    rid = world.submit(cost=5000)
    world.act(rid, "quinn")
    with pytest.raises(RecordValidationError):                       # a reason is required
        world.act(rid, "mia", "reject")
    world.act(rid, "mia", "reject", comment="cost unclear")
    inst = world.instance(rid)
    assert inst["state"] == "returned" and [t["status"] for t in world.tasks(rid, node_id="mrb")] == [
        "rejected", "cancelled"]
    with world.session() as s:                                       # back with Sam: he may edit it again
        record_service.update_record(s, world["sam"], "ncr", rid, 1, {"cost": 800})
    from engine.services import flow_actions
    with world.session() as s:
        flow_actions.resubmit(s, world["sam"], inst["id"], now=T0)
    assert world.instance(rid)["run"] == 2 and world.instance(rid)["tokens"] == ["qe"]
    world.act(rid, "quinn")
    assert world.instance(rid)["state"] == "approved"                 # 800: no MRB this time


def test_reject_to_an_earlier_step_reopens_it(world):
    rid = world.submit(cost=5000)
    world.act(rid, "quinn")
    world.act(rid, "max", "reject", comment="QE must re-check", to_node="qe")
    inst = world.instance(rid)
    assert inst["state"] == "running" and inst["tokens"] == ["qe"]
    assert len(world.tasks(rid, node_id="qe", status="open")) == 2
    with pytest.raises(RecordValidationError):
        world.act(rid, "quinn", "reject", comment="x", to_node="mrb")   # mrb was never passed in this run
    world.act(rid, "quincy")
    assert world.instance(rid)["tokens"] == ["mrb"]


def test_withdraw_only_while_nobody_acted(world):
    from engine.services import flow_actions
    rid = world.submit(cost=5000)
    inst = world.instance(rid)
    with pytest.raises(PermissionDenied), world.session() as s:
        flow_actions.withdraw(s, world["quinn"], inst["id"])
    with world.session() as s:
        flow_actions.withdraw(s, world["sam"], inst["id"], "typo")
    assert world.instance(rid)["state"] == "withdrawn" and not world.tasks(rid, status="open")
    with world.session() as s:
        flow_actions.resubmit(s, world["sam"], inst["id"])
    world.act(rid, "quinn")
    with pytest.raises(Conflict), world.session() as s:
        flow_actions.withdraw(s, world["sam"], inst["id"])


def test_transfer_and_add_approver_before_and_after(world):
    rid = world.submit(cost=5000)
    world.act(rid, "quinn", "transfer", to_user=world["dora"].user_id, comment="on leave")
    assert world.tasks(rid, assignee_id=world["dora"].user_id, status="open")
    world.act(rid, "dora")                                             # any-one: done
    world.act(rid, "mia", "add_before", to_user=world["eve"].user_id)
    assert world.tasks(rid, assignee_id=world["mia"].user_id)[-1]["status"] == "waiting"
    world.act(rid, "eve")
    assert world.tasks(rid, assignee_id=world["mia"].user_id)[-1]["status"] == "open"
    world.act(rid, "mia")
    world.act(rid, "max", "add_after", to_user=world["hannah"].user_id)
    assert world.instance(rid)["state"] == "running"                   # Max's slot waits for Hannah
    world.act(rid, "hannah")
    assert world.instance(rid)["state"] == "approved"


def test_an_approver_added_before_me_who_adds_one_after_them_hands_the_task_back_to_me(world):
    rid = world.submit(cost=5000)
    world.act(rid, "quinn")
    world.act(rid, "mia", "add_before", to_user=world["eve"].user_id)        # Mia waits for Eve
    world.act(rid, "eve", "add_after", to_user=world["dora"].user_id)        # Eve approves, Dora too
    assert world.tasks(rid, assignee_id=world["mia"].user_id)[-1]["status"] == "waiting"
    world.act(rid, "dora")
    assert world.tasks(rid, assignee_id=world["mia"].user_id)[-1]["status"] == "open"   # back to Mia
    world.act(rid, "mia")
    world.act(rid, "max")
    assert world.instance(rid)["state"] == "approved"


def test_a_task_is_never_completed_twice_and_only_by_its_assignee(world):
    rid = world.submit()
    task = world.open_task(rid, "quinn")
    world.act(rid, "quinn")
    from engine.services import flow_actions
    from engine.services.flow_actions import TaskAction
    with pytest.raises(Conflict), world.session() as s:
        flow_actions.act(s, world["quinn"], task, "approve", TaskAction(password="sign-it-123"))
    rid2 = world.submit()
    with pytest.raises(NotFound), world.session() as s:
        flow_actions.act(s, world["mia"], world.open_task(rid2, "quinn"), "approve")


def test_a_step_changes_only_the_fields_it_allows_and_nobody_edits_around_the_flow(world):
    rid = world.submit(cost=5000)
    with pytest.raises(RecordValidationError) as err:
        world.act(rid, "quinn", data={"cost": 1, "disposition": "rework"})
    assert [e.field for e in err.value.errors] == ["cost"]
    with pytest.raises(PermissionDenied), world.session() as s:      # not even an admin, while it runs
        record_service.update_record(s, world.admin, "ncr", rid, 1, {"cost": 1})
    with pytest.raises(PermissionDenied), world.session() as s:
        record_service.delete_record(s, world.admin, "ncr", rid)
    world.act(rid, "quinn", data={"disposition": "rework"})
    world.act(rid, "mia"), world.act(rid, "max")
    with pytest.raises(PermissionDenied), world.session() as s:      # approved: only with a reason
        record_service.update_record(s, world.admin, "ncr", rid, 2, {"cost": 1})
    with world.session() as s:
        assert record_service.update_record(s, world.admin, "ncr", rid, 2, {"cost": 1}, "typo in cost").version == 3


def test_an_app_package_brings_its_flows_and_exports_them_again(db_engine, actor):
    from engine.services import apps
    from tests.engine.flows.support import NCR_FORM, REVIEW
    from engine.services import accounts
    from engine.storage.db import session_scope
    package = {"format": 1, "key": "ncr_app", "version": "1.0.0", "label": {"zh-CN": "不合格", "en": "NCR"},
               "forms": [copy.deepcopy(NCR_FORM)], "flows": [copy.deepcopy(REVIEW)]}
    with session_scope(db_engine) as s:
        for key in ("qe", "mrb"):
            accounts.create_role(s, actor.tenant_id, key, {"zh-CN": key, "en": key})
        result = apps.import_app(s, actor, package)
    assert ("flow:ncr_review", 1) in result.published
    with session_scope(db_engine) as s:
        again = apps.import_app(s, actor, package)                  # unchanged: no new version
        exported = apps.export_app(s, actor.tenant_id, "ncr_app")
    assert not [p for p in again.published if p[0].startswith("flow:")]
    assert [f["key"] for f in exported["flows"]] == ["ncr_review"]
    broken = copy.deepcopy(package)
    broken["flows"][0]["nodes"][1]["next"] = "nowhere"
    broken["version"] = "1.0.1"
    with pytest.raises(Exception) as err, session_scope(db_engine) as s:
        apps.import_app(s, actor, broken)
    assert any(p.path.startswith("$.flows[0]") for p in err.value.problems)


def test_only_someone_who_may_change_a_record_sends_it_for_approval(db_engine, actor):
    flow = copy.deepcopy(REVIEW)
    flow["auto_start"] = False
    world = make_world(db_engine, actor, flow)
    from engine.services import accounts, flows
    with world.session() as s:
        accounts.set_permissions(s, actor.tenant_id, "qe", "form:ncr", {"read": "all"})
    rid = world.submit()
    with world.session() as s:
        assert flows.latest_instance(s, actor.tenant_id, "ncr", rid) is None      # not started by itself
    with pytest.raises(PermissionDenied), world.session() as s:       # Quinn may read it, not change it
        flows.start_flow(s, world["quinn"], "ncr", rid, "ncr_review")
    with world.session() as s:
        flows.start_flow(s, world["sam"], "ncr", rid, "ncr_review")
    assert world.instance(rid)["state"] == "running"


# ---------------------------------------------------------------------------- how a move is written

QUICK = {"format": 1, "key": "ncr_quick", "label": {"zh-CN": "快速评审", "en": "Quick review"}, "form": "ncr",
         "nodes": [{"id": "start", "type": "start", "next": "qe"},
                   {"id": "qe", "type": "approval", "assignees": [{"kind": "role", "role": "qe"}], "mode": "any",
                    "next": "mrb"},
                   {"id": "mrb", "type": "approval", "assignees": [{"kind": "role", "role": "mrb"}], "mode": "all",
                    "next": "done"},
                   {"id": "done", "type": "end"}]}


def _counting(engine):
    """Statements and (PostgreSQL) round trips from here on: a pipeline's statements are one trip."""
    from sqlalchemy import event
    counted = {"statements": 0, "trips": 0, "piped": False}

    def statement(conn, *_args):
        piped = getattr(getattr(conn.connection.driver_connection, "pgconn", None), "pipeline_status", 0) != 0
        counted["statements"] += 1
        counted["trips"] += not (piped and counted["piped"])
        counted["piped"] = piped

    def transaction(*_args):
        counted["trips"] += 1
        counted["piped"] = False
    for name, fn in (("before_cursor_execute", statement), ("begin", transaction), ("commit", transaction)):
        event.listen(engine, name, fn)
        counted.setdefault("listeners", []).append((name, fn))
    return counted


def _stop(engine, counted) -> None:
    from sqlalchemy import event
    for name, fn in counted.pop("listeners"):
        event.remove(engine, name, fn)


def test_an_approval_reads_little_and_sends_its_writes_together(db_engine, actor):
    """Lock (with the step's tasks on SQLite), who gets the next step, then every write at once
    (on PostgreSQL: two reads, one pipeline and the COMMIT after the BEGIN)."""
    world = make_world(db_engine, actor, QUICK)
    rid = world.submit(cost=5000)
    task = world.open_task(rid, "quinn")
    from engine.services import flow_actions
    from engine.services.flow_actions import TaskAction
    with world.session() as s:
        s.connection()                                   # the transaction has begun: count the move alone
        counted = _counting(db_engine)
        flow_actions.act(s, world["quinn"], task, "approve", TaskAction(comment="ok"), now=T0)
    _stop(db_engine, counted)
    tasks = {t["assignee_id"]: t["status"] for t in world.tasks(rid, node_id="qe")}
    assert tasks == {world["quinn"].user_id: "approved", world["quincy"].user_id: "cancelled"}
    assert world.instance(rid)["tokens"] == ["mrb"] and len(world.tasks(rid, node_id="mrb", status="open")) == 2
    assert world.events(rid)[-3:] == ["approve", "node_approved", "entered"]
    if db_engine.dialect.name == "postgresql":
        assert counted["trips"] <= 4, counted
    else:
        assert counted["statements"] <= 8, counted        # lock, people, 6 writes


def test_the_writes_of_a_move_are_readable_in_its_transaction(world):
    rid = world.submit(cost=5000)
    from engine.services import flow_actions
    from engine.services.flow_actions import TaskAction
    from engine.storage.flow_tables import flow_events, flow_tasks
    from sqlalchemy import select
    with world.session() as s:
        done = flow_actions.act(s, world["quinn"], world.open_task(rid, "quinn"), "approve",
                                TaskAction(password="sign-it-123"), now=T0)
        status = s.execute(select(flow_tasks.c.status).where(flow_tasks.c.id == done["id"])).scalar_one()
        kinds = list(s.execute(select(flow_events.c.kind).where(flow_events.c.task_id == done["id"])).scalars())
    assert done["status"] == status == "approved" and "approve" in kinds


def test_a_move_that_lost_its_lock_writes_nothing(world):
    """The instance changed behind a move's back (never happens under the lock): the move fails whole."""
    from sqlalchemy import update
    from engine.flows import runtime
    from engine.services import flows
    from engine.storage.flow_tables import flow_instances
    rid = world.submit(cost=5000)
    before, events, tasks = world.instance(rid), world.events(rid), world.tasks(rid)
    with pytest.raises(Conflict), world.session() as s:
        move = flows.load_move(s, world["sam"], before["id"], T0)
        s.execute(update(flow_instances).where(flow_instances.c.id == before["id"])
                  .values(lock_version=before["lock_version"] + 7))
        state = move.state
        effects = runtime.withdraw(state)
        flows.event(move, "withdrawn", None)
        flows.persist(move, state, effects)
    assert world.instance(rid) == before and world.events(rid) == events and world.tasks(rid) == tasks


def test_a_failing_queued_write_fails_like_any_statement(world):
    """An error inside the pipeline surfaces as SQLAlchemy's exception (an IntegrityError here)."""
    from sqlalchemy import insert
    from sqlalchemy.exc import IntegrityError
    from engine.services import flow_writes, flows
    from engine.storage.flow_tables import flow_events
    rid = world.submit()
    inst, events = world.instance(rid), world.events(rid)
    row = dict(tenant_id=inst["tenant_id"], form_key="ncr", record_id=rid, at=T0, actor_id=None, kind="comment",
               node_id=None, task_id=None, comment="x", data=None)
    with pytest.raises(IntegrityError), world.session() as s:
        flow_writes.queue(s, insert(flow_events).inline(), {**row, "instance_id": inst["id"]})
        flow_writes.queue(s, insert(flow_events).inline(), {**row, "instance_id": -1})     # no such instance
        flows.flush_events(s)
    assert world.events(rid) == events


def test_a_flow_version_published_elsewhere_starts_on_the_next_record(world, monkeypatch):
    """The auto-start flow remembered by this process is confirmed by each instance's INSERT."""
    from engine.services import flow_defs
    first = world.submit()
    assert world.instance(first)["flow_version"] == 1
    changed = copy.deepcopy(REVIEW)
    changed["label"]["en"] = "NCR review, second edition"
    with monkeypatch.context() as m:                  # as if another process published: nothing forgotten here
        m.setattr(flow_defs, "forget_auto_flow", lambda *_args: None)
        with world.session() as s:
            flow_defs.publish_flow(s, world.admin, changed)
    second = world.submit()
    assert world.instance(second)["flow_version"] == 2 and world.instance(second)["state"] == "running"
    changed["auto_start"] = False
    with monkeypatch.context() as m:
        m.setattr(flow_defs, "forget_auto_flow", lambda *_args: None)
        with world.session() as s:
            flow_defs.publish_flow(s, world.admin, changed)
    third = world.submit()
    with world.session() as s:
        assert flows.latest_instance(s, world.admin.tenant_id, "ncr", third) is None
    assert world.instance(first)["flow_version"] == 1                 # running instances stay on theirs
