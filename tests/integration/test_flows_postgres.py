"""The flow tests on PostgreSQL, and 50 approvers acting at the same moment on real connections."""
import threading
from collections import Counter

import pytest
from sqlalchemy import select

from engine.errors import Conflict
from engine.services import accounts, flow_actions
from engine.services.flow_actions import TaskAction
from engine.storage.db import make_engine, session_scope
from engine.storage.flow_tables import flow_events, flow_instances, flow_tasks
from tests.engine.flows.support import PASSWORD, T0, make_world
from tests.engine.flows.test_flow_deadlines_signatures import *  # noqa: F401,F403
from tests.engine.flows.test_flow_run import *  # noqa: F401,F403
from tests.engine.flows.test_flow_runtime import *  # noqa: F401,F403

pytestmark = pytest.mark.integration
RECORDS, MRB_MEMBERS, SAME_TASK_RACERS = 10, 5, 5


def _race(engine, jobs):
    """Run every job(session) in its own thread and connection, all released at once."""
    barrier, outcomes = threading.Barrier(len(jobs)), []

    def run(job):
        barrier.wait()
        try:
            with session_scope(engine) as s:
                job(s)
            outcomes.append("ok")
        except Conflict:
            outcomes.append("conflict")
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            outcomes.append(repr(exc))
    threads = [threading.Thread(target=run, args=(j,)) for j in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return Counter(outcomes)


def test_fifty_concurrent_approvers_on_the_same_and_on_different_tasks(pg_engine, actor):
    engine = make_engine(pg_engine.url.render_as_string(hide_password=False),
                         connect_args={"options": f"-csearch_path={_schema(pg_engine)}"}, pool_size=55, max_overflow=5)
    try:
        world = make_world(engine, actor)
        with session_scope(engine) as s:
            extra = [accounts.actor_for_user(s, accounts.create_user(
                s, actor.tenant_id, f"m{i}-{actor.tenant_id}@x.cn", f"M{i}", PASSWORD, roles=["mrb"]))
                for i in range(MRB_MEMBERS - 2)]
        members = [world["mia"], world["max"], *extra]
        rids = [world.submit(cost=5000, now=T0) for _ in range(RECORDS)]
        # 1. the same QE task, five times at once per record: exactly one wins
        jobs = [(lambda s, r=r: flow_actions.act(s, world["quinn"], world.open_task(r, "quinn"), "approve",
                                                 TaskAction(password=PASSWORD), now=T0))
                for r in rids for _ in range(SAME_TASK_RACERS)]
        assert _race(engine, jobs) == Counter(ok=RECORDS, conflict=RECORDS * (SAME_TASK_RACERS - 1))
        # 2. every MRB member of every record at once (different tasks): all succeed, each instance ends once
        jobs = [(lambda s, r=r, m=m: flow_actions.act(s, m, _open(engine, actor.tenant_id, r, m.user_id), "approve",
                                                      now=T0))
                for r in rids for m in members]
        assert _race(engine, jobs) == Counter(ok=RECORDS * MRB_MEMBERS)
        with session_scope(engine) as s:
            for rid in rids:
                inst = s.execute(select(flow_instances).where(flow_instances.c.tenant_id == actor.tenant_id,
                                                              flow_instances.c.record_id == rid)).mappings().one()
                assert inst["state"] == "approved" and inst["tokens"] == []
                kinds = Counter(s.execute(select(flow_events.c.kind).where(
                    flow_events.c.instance_id == inst["id"])).scalars())
                assert kinds["node_approved"] == 2 and kinds["approved"] == 1 and kinds["approve"] == 1 + MRB_MEMBERS
                acted = Counter(s.execute(select(flow_events.c.task_id).where(
                    flow_events.c.instance_id == inst["id"], flow_events.c.kind == "approve")).scalars())
                assert max(acted.values()) == 1                                  # no task completed twice
                statuses = Counter(s.execute(select(flow_tasks.c.status).where(
                    flow_tasks.c.instance_id == inst["id"])).scalars())
                assert statuses == Counter(approved=1 + MRB_MEMBERS, cancelled=1)
    finally:
        engine.dispose()


def _open(engine, tenant_id, record_id, user_id):
    with session_scope(engine) as s:
        inst = s.execute(select(flow_instances.c.id).where(flow_instances.c.tenant_id == tenant_id,
                                                           flow_instances.c.record_id == record_id)
                         .order_by(flow_instances.c.id.desc())).scalars().first()
        return s.execute(select(flow_tasks.c.id).where(flow_tasks.c.instance_id == inst,
                                                       flow_tasks.c.assignee_id == user_id,
                                                       flow_tasks.c.status == "open")).scalar_one()


def _schema(engine):
    with engine.connect() as conn:
        return conn.exec_driver_sql("SELECT current_schema()").scalar()
