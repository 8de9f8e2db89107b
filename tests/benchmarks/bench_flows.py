"""Benchmark: flow instances started and completed per second vs SpiffWorkflow, same run; and the
overdue-timer query among 1,000,000 open tasks.

Run ``python tests/benchmarks/bench_flows.py`` (``--quick`` for a smoke run, ``--db postgres`` for
PostgreSQL instead of a SQLite file, ``--no-spiff`` to run our side only). SpiffWorkflow is only
needed here: ``pip install "SpiffWorkflow>=3,<4"`` (or ``pip install -e ".[bench]"``).

Part A — the same process on both engines::

    start → a (approval) → b (approval) → check (exclusive: cost > 1000 → c, default → done)
          → c (approval) → done

Every record has ``cost = 5000``, so the branch to ``c`` is taken and three approvals run one
after the other (the default branch is there so the gateway really decides). Each approval node
has one assignee (a user, mode "any"; no signature, no deadline).

* QMS: in-process, on a migrated SQLite file (WAL, as in production) or a throwaway PostgreSQL
  database. Per instance: ``records.create_record`` (starts the auto-start flow), then for each of
  the 3 approvers the look-up of their open task on the record (as the inbox and the record page
  do) and ``flow_actions.act(…, "approve")`` — 4 transactions per instance, every move persisted
  (instance, tasks, timeline, record state). The report gives the SQL statements one instance
  costs and, on PostgreSQL, the network round trips (BEGIN, COMMIT, each statement, or a whole
  pipeline of writes sent together).
* SpiffWorkflow: the equivalent BPMN 2.0 process (start event, 3 user tasks, an exclusive gateway
  with a ``conditionExpression`` and a ``default`` flow, end event), parsed once with
  ``BpmnParser``. Per instance: a new ``BpmnWorkflow``, ``do_engine_steps``, then each READY user
  task is completed (``task.run()`` + ``do_engine_steps``) until ``is_completed()``. Variants:
  ``memory`` (nothing persisted), ``+json save`` (``BpmnWorkflowSerializer.serialize_json`` after
  every step — the documented way an application persists a workflow), ``+json load/save`` (also
  ``deserialize_json`` before every task, as separate requests would) and ``+json in db`` (load/save
  with the JSON kept in one row of the same database, every step its own transaction, the submitted
  record stored with the first step — the equivalent of what an approval system must do, and of
  what our engine does).

* QMS engine in memory: the same published flow on our pure state machine
  (``engine.flows.runtime``, conditions through the compiled expression), no database — compared
  with SpiffWorkflow ``memory``: the interpreters side by side.

The variants take turns for several rounds and each figure is the median, so load from elsewhere
on a shared machine skews no side alone. Target: faster than SpiffWorkflow deployed the same way
(``+json in db``: durable after every step, in the same database, ratio ≥ 1). The in-memory
variants are reported alongside: they show the interpreter without persistence, which no approval
system can run on (a restart would lose every open approval).

Part B — ``flow_timers.due_timers(session, now, limit=500)`` among 1,000,000 open tasks (20,000 in
``--quick``) spread over ±30 days, ~1 % of them due, in 5,000 instances (SQLite unless ``--db
postgres``), best of 5. Target: under 50 ms.
"""
from __future__ import annotations

import argparse
import copy
import importlib.util
import json
import os
import random
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager, nullcontext
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Iterator

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy import (Column, Integer, MetaData, Table, Text, and_, bindparam, func, insert, select,  # noqa: E402
                        text, update)

from engine.services import accounts, flow_actions, flow_timers  # noqa: E402
from engine.services import forms as form_service  # noqa: E402
from engine.services import records as record_service  # noqa: E402
from engine.services.flow_actions import TaskAction  # noqa: E402
from engine.services.flow_defs import publish_flow  # noqa: E402
from engine.storage.db import make_engine, session_scope, upgrade_database  # noqa: E402
from engine.storage.flow_tables import flow_instances, flow_tasks  # noqa: E402
from engine.storage.platform import tenants  # noqa: E402

INSTALL_HINT = ('SpiffWorkflow is not installed: pip install "SpiffWorkflow>=3,<4"  (or pip install -e ".[bench]"); '
                "--no-spiff runs our side only")
OVERDUE_TARGET_MS = 50.0
SPEED_TARGET = 1.0                   # QMS / Spiff(+json save)
TARGET_VARIANT = "+json in db"      # the equivalent deployment: see the module docstring
COST = 5000                          # > 1000: the exclusive branch goes to approval c
APPROVERS = ("a", "b", "c")
L = lambda zh, en: {"zh-CN": zh, "en": en}  # noqa: E731

NCR_FORM = {"format": 1, "key": "ncr", "label": L("不合格品报告", "NCR"), "fields": [
    {"key": "subject", "type": "text", "label": L("主题", "Subject")},
    {"key": "cost", "type": "number", "label": L("成本", "Cost"), "precision": 0},
]}


def qms_flow(users: dict[str, int]) -> dict:
    """start → a → b → check (cost > 1000 → c, default → done) → c → done; one user per approval."""
    def approval(node_id: str, nxt: str) -> dict:
        return {"id": node_id, "type": "approval", "label": L(f"审批 {node_id.upper()}", f"Approval {node_id.upper()}"),
                "assignees": [{"kind": "user", "user": users[node_id]}], "mode": "any", "next": nxt}
    return {"format": 1, "key": "ncr_bench", "label": L("基准流程", "Benchmark flow"), "form": "ncr",
            "auto_start": True, "nodes": [
                {"id": "start", "type": "start", "next": "a"},
                approval("a", "b"),
                approval("b", "check"),
                {"id": "check", "type": "exclusive", "branches": [
                    {"label": L("高成本", "High cost"), "condition": "cost > 1000", "next": "c"},
                    {"label": L("其他", "Otherwise"), "default": True, "next": "done"}]},
                approval("c", "done"),
                {"id": "done", "type": "end"}]}


BPMN_XML = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
                  id="ncr_bench_defs" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="ncr_bench" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f_start</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="a" name="Approval A"><bpmn:incoming>f_start</bpmn:incoming><bpmn:outgoing>f_a</bpmn:outgoing></bpmn:userTask>
    <bpmn:userTask id="b" name="Approval B"><bpmn:incoming>f_a</bpmn:incoming><bpmn:outgoing>f_b</bpmn:outgoing></bpmn:userTask>
    <bpmn:exclusiveGateway id="check" default="f_default">
      <bpmn:incoming>f_b</bpmn:incoming><bpmn:outgoing>f_high</bpmn:outgoing><bpmn:outgoing>f_default</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:userTask id="c" name="Approval C"><bpmn:incoming>f_high</bpmn:incoming><bpmn:outgoing>f_c</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="done"><bpmn:incoming>f_c</bpmn:incoming><bpmn:incoming>f_default</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f_start" sourceRef="start" targetRef="a"/>
    <bpmn:sequenceFlow id="f_a" sourceRef="a" targetRef="b"/>
    <bpmn:sequenceFlow id="f_b" sourceRef="b" targetRef="check"/>
    <bpmn:sequenceFlow id="f_high" sourceRef="check" targetRef="c">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">cost &gt; 1000</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_default" sourceRef="check" targetRef="done"/>
    <bpmn:sequenceFlow id="f_c" sourceRef="c" targetRef="done"/>
  </bpmn:process>
</bpmn:definitions>
"""


def spiff_installed() -> bool:
    try:
        return importlib.util.find_spec("SpiffWorkflow") is not None and __import__("SpiffWorkflow") is not None
    except ImportError:
        return False


# ---------------------------------------------------------------------------- databases

@contextmanager
def database(backend: str, workdir: Path, name: str) -> Iterator[str]:
    """A SQLite file in ``workdir``, or a throwaway PostgreSQL database (dropped afterwards)."""
    if backend == "sqlite":
        yield f"sqlite:///{workdir / (name + '.sqlite3')}"
        return
    from tests.benchmarks.bench_api import database as pg_database
    with pg_database("postgres", workdir) as (url, _):
        yield url


def migrated(url: str):
    engine = make_engine(url)
    upgrade_database(engine)
    return engine


def new_tenant(engine, key: str) -> int:
    with session_scope(engine) as s:
        return s.execute(insert(tenants).values(key=key, name="Benchmark company",
                                                created_at=datetime.now(timezone.utc))).inserted_primary_key[0]


# ---------------------------------------------------------------------------- Part A: QMS

# the approver's open task on the record (what the record page and the inbox look up)
_MY_OPEN_TASK = (select(flow_tasks.c.id).join(flow_instances, flow_instances.c.id == flow_tasks.c.instance_id)
                 .where(and_(flow_tasks.c.tenant_id == bindparam("tenant_id"),
                             flow_tasks.c.assignee_id == bindparam("user_id"), flow_tasks.c.status == "open",
                             flow_instances.c.tenant_id == bindparam("tenant_id"), flow_instances.c.form_key == "ncr",
                             flow_instances.c.record_id == bindparam("record_id"))))


class QmsFlows:
    """A tenant with a submitter and three approvers, the NCR form and the benchmark flow."""

    def __init__(self, engine):
        self.engine = engine
        tenant_id = new_tenant(engine, f"bench{os.getpid()}")
        with session_scope(engine) as s:
            admin = accounts.actor_for_user(s, accounts.create_user(s, tenant_id, "admin@bench.cn", "Admin",
                                                                    "bench-pass-1", is_admin=True, lang="en"))
            accounts.create_role(s, tenant_id, "clerk", L("提交人", "Clerk"))
            accounts.set_permissions(s, tenant_id, "clerk", "form:ncr", {"create": True, "read": "own", "update": "own"})
            ids = {"sam": accounts.create_user(s, tenant_id, "sam@bench.cn", "Sam", "bench-pass-1", roles=["clerk"],
                                               lang="en")}
            for name in APPROVERS:
                ids[name] = accounts.create_user(s, tenant_id, f"{name}@bench.cn", f"Approver {name.upper()}",
                                                 "bench-pass-1", lang="en")
            self.people = {name: accounts.actor_for_user(s, uid) for name, uid in ids.items()}
            form_service.publish_form(s, admin, NCR_FORM)
            publish_flow(s, admin, qms_flow(ids))
        self.count = 0

    def statements_per_instance(self) -> tuple[int, int | None]:
        """SQL statements and (PostgreSQL) network round trips one instance costs, counted once
        outside the timed rounds. A round trip: a statement, a BEGIN, a COMMIT — or a whole
        psycopg pipeline (statements queued and sent together, see engine/services/flow_writes.py)."""
        from sqlalchemy import event
        counted = {"statements": 0, "trips": 0, "piped": False}

        def count(conn, *_args) -> None:
            counted["statements"] += 1
            raw = conn.connection.driver_connection
            piped = getattr(getattr(raw, "pgconn", None), "pipeline_status", 0) != 0
            counted["trips"] += not (piped and counted["piped"])       # a pipeline's first statement
            counted["piped"] = piped

        def transaction(*_args) -> None:
            counted["trips"] += 1
            counted["piped"] = False
        events = (("before_cursor_execute", count), ("begin", transaction), ("commit", transaction))
        for name, fn in events:
            event.listen(self.engine, name, fn)
        try:
            self.one()
        finally:
            for name, fn in events:
                event.remove(self.engine, name, fn)
        return counted["statements"], counted["trips"] if self.engine.dialect.name == "postgresql" else None

    def one(self) -> None:
        """Submit one NCR (starts the flow), then a, b and c approve it: 4 transactions."""
        self.count += 1
        with session_scope(self.engine) as s:
            record = record_service.create_record(s, self.people["sam"], "ncr",
                                                  {"subject": f"burr {self.count}", "cost": COST})
        for name in APPROVERS:
            approver = self.people[name]
            with session_scope(self.engine) as s:
                task_id = s.execute(_MY_OPEN_TASK, {                      # the approver's inbox entry
                    "tenant_id": approver.tenant_id, "user_id": approver.user_id, "record_id": record.id}).scalar_one()
                flow_actions.act(s, approver, task_id, "approve", TaskAction(comment="ok"))

    def check(self) -> None:
        """Every instance ran a, b and c and ended approved."""
        with session_scope(self.engine) as s:
            states = dict(s.execute(select(flow_instances.c.state, func.count()).group_by(flow_instances.c.state)).all())
            approved = s.execute(select(func.count()).select_from(flow_tasks).where(
                flow_tasks.c.status == "approved")).scalar_one()
        if states != {"approved": self.count} or approved != 3 * self.count:
            raise RuntimeError(f"QMS flow did not run as expected: instances {states}, approved tasks {approved}")


# ---------------------------------------------------------------------------- Part A: SpiffWorkflow

class SpiffFlows:
    """The equivalent BPMN process on SpiffWorkflow; ``mode`` is one of VARIANTS."""

    VARIANTS = ("memory", "+json save", "+json load/save", "+json in db")

    def __init__(self, engine=None):
        from SpiffWorkflow.bpmn import BpmnWorkflow
        from SpiffWorkflow.bpmn.parser import BpmnParser
        from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
        from SpiffWorkflow.util.task import TaskState

        parser = BpmnParser()
        parser.add_bpmn_str(BPMN_XML.encode(), filename="ncr_bench.bpmn")
        self.spec = parser.get_spec("ncr_bench")           # parsed once
        self.workflow_class, self.ready = BpmnWorkflow, TaskState.READY
        self.serializer = BpmnWorkflowSerializer()
        self.engine = engine
        meta = MetaData()
        self.table = Table("bench_spiff_workflows", meta, Column("id", Integer, primary_key=True),
                           Column("state", Text, nullable=False))
        # the submitted record itself, stored with the workflow's first step as the QMS side stores its NCR
        self.records = Table("bench_spiff_records", meta, Column("id", Integer, primary_key=True),
                             Column("subject", Text), Column("cost", Integer), Column("workflow_id", Integer))
        if engine is not None:
            meta.create_all(engine, checkfirst=True)
        self.steps: list[str] = []

    def one(self, mode: str) -> None:
        """Run one instance to its end; in ``+json in db`` every step is one transaction (load, run, save)."""
        wf = self.workflow_class(self.spec)
        wf.get_next_task(state=self.ready).data["cost"] = COST         # the submitted record
        wf.do_engine_steps()
        with self._transaction(mode) as conn:
            row_id = self._save(conn, wf, mode, None)
            if conn is not None:
                conn.execute(insert(self.records).values(subject="burr", cost=COST, workflow_id=row_id))
        steps = []
        while not wf.is_completed():
            with self._transaction(mode) as conn:
                if mode in ("+json load/save", "+json in db"):
                    wf = self._load(conn, mode, row_id)
                ready = wf.get_tasks(state=self.ready, manual=True)
                if len(ready) != 1:
                    raise RuntimeError(f"SpiffWorkflow: expected one ready user task, got {ready}")
                task = ready[0]
                steps.append(task.task_spec.bpmn_id)
                task.data["approved"] = True
                task.run()
                wf.do_engine_steps()
                self._save(conn, wf, mode, row_id)
        self.steps = steps

    def _transaction(self, mode: str):
        return self.engine.begin() if mode == "+json in db" else nullcontext()

    def _save(self, conn, wf, mode: str, row_id: int | None) -> int | None:
        """Serialise (all but ``memory``); in ``+json in db`` insert or update the row, returning its id."""
        if mode == "memory":
            return None
        state = self.serializer.serialize_json(wf)
        if conn is None:
            self._state = state
            return None
        if row_id is None:
            return conn.execute(insert(self.table).values(state=state)).inserted_primary_key[0]
        conn.execute(update(self.table).where(self.table.c.id == row_id).values(state=state))
        return row_id

    def _load(self, conn, mode: str, row_id: int | None):
        state = (conn.execute(select(self.table.c.state).where(self.table.c.id == row_id)).scalar_one()
                 if conn is not None else self._state)
        return self.serializer.deserialize_json(state)


class QmsInMemory:
    """Our engine without a database, like SpiffWorkflow's ``memory`` variant: the same published
    flow on the pure state machine (``engine.flows.runtime``), the exclusive condition evaluated by
    the compiled expression, and each approval decided by the node's multi-approver rule."""

    def __init__(self):
        from engine.definitions import form_scope, load_form
        from engine.expressions import compile_expression
        from engine.flows.definition import load_flow
        form = load_form(copy.deepcopy(NCR_FORM))
        self.flow = load_flow(qms_flow({name: i + 2 for i, name in enumerate(APPROVERS)}), form)
        scope = form_scope(form)
        self.condition = lambda source, values: compile_expression(source, scope).evaluate(values) is True

    def one(self) -> None:
        from engine.flows import runtime
        values = {"subject": "burr", "cost": COST}
        state, _effects = runtime.start(self.flow, values, self.condition)
        while state.tokens:
            node = self.flow.node(state.tokens[0])
            if runtime.node_decision(node.mode, node.ratio, ["approved"]) == "approved":
                runtime.complete(self.flow, state, node.id, values, self.condition)
        if state.state != "approved":
            raise RuntimeError(f"in-memory run ended {state.state}")


# ---------------------------------------------------------------------------- Part A: timing

def rate(work: Callable[[], None], n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        work()
    return n / (time.perf_counter() - start)


def bench_part_a(url: str, sizes: dict, rounds: int, with_spiff: bool) -> dict:
    """{"qms": rate, "spiff": {variant: rate}, "ratios": {variant: ratio}} — medians over alternating rounds."""
    engine = migrated(url)
    # Notices to approvers (new task → in-app + e-mail) are sent by a background job after each step
    # commits; they are delivery work like Spiff's application would do elsewhere, not the flow
    # engine's transitions, so their jobs are held back here (a real deployment runs them on workers).
    from engine.jobs import queue
    held = queue.use(queue.DeferredBackend())
    try:
        qms = QmsFlows(engine)
        spiff = SpiffFlows(engine) if with_spiff else None
        runners: dict[str, tuple[Callable[[], None], int]] = {"qms": (qms.one, sizes["qms"]),
                                                              "qms memory": (QmsInMemory().one, sizes["spiff"])}
        if spiff is not None:
            for variant in SpiffFlows.VARIANTS:
                runners[variant] = ((lambda v=variant: spiff.one(v)), sizes["spiff_db" if variant == "+json in db"
                                                                          else "spiff"])
        for work, _ in runners.values():       # warm-up: caches, first-use imports, SQLite pages
            for _ in range(sizes["warmup"]):
                work()
        if spiff is not None and spiff.steps != list(APPROVERS):
            raise RuntimeError(f"SpiffWorkflow ran {spiff.steps}, expected {list(APPROVERS)}")
        samples: dict[str, list[float]] = {name: [] for name in runners}
        ratios: dict[str, list[float]] = {name: [] for name in runners if not name.startswith("qms")}
        memory_ratios: list[float] = []
        for _ in range(rounds):
            q = rate(*runners["qms"])
            samples["qms"].append(q)
            qm = rate(*runners["qms memory"])
            samples["qms memory"].append(qm)
            for name, (work, n) in runners.items():
                if not name.startswith("qms"):
                    s = rate(work, n)
                    samples[name].append(s)
                    ratios[name].append(q / s)
                    if name == "memory":
                        memory_ratios.append(qm / s)
        statements, trips = qms.statements_per_instance()
        qms.check()
        return {"qms": statistics.median(samples["qms"]), "qms_statements": statements, "qms_round_trips": trips,
                "qms_memory": statistics.median(samples["qms memory"]),
                "memory_ratio": statistics.median(memory_ratios) if memory_ratios else None,
                "spiff": {name: statistics.median(v) for name, v in samples.items() if not name.startswith("qms")},
                "ratios": {name: statistics.median(v) for name, v in ratios.items()}}
    finally:
        queue.use(held)
        engine.dispose()


# ---------------------------------------------------------------------------- Part B: overdue query

def fill_open_tasks(engine, tasks: int, instances: int, now: datetime, batch: int = 20_000) -> tuple[int, float]:
    """Insert ``instances`` running instances and ``tasks`` open tasks (~1 % due); returns (due count, seconds)."""
    started = time.perf_counter()
    tenant_id = new_tenant(engine, f"timers{os.getpid()}")
    rng = random.Random(42)
    span = 30 * 24 * 3600
    with engine.begin() as conn:
        first = conn.execute(select(func.coalesce(func.max(flow_instances.c.id), 0))).scalar_one() + 1
        conn.execute(insert(flow_instances), [dict(
            id=first + i, tenant_id=tenant_id, flow_key="ncr_review", flow_version=1, form_key="ncr",
            record_id=i + 1, state="running", submitter_id=1, run=1, tokens=["qe"], joins={},
            started_at=now - timedelta(days=31), updated_at=now - timedelta(days=31), lock_version=0)
            for i in range(instances)])
    due = 0
    for offset in range(0, tasks, batch):
        rows = []
        for n in range(offset, min(offset + batch, tasks)):
            if rng.random() < 0.01:                       # overdue: due some time in the last 30 days
                timer = now - timedelta(seconds=rng.randint(1, span))
                due += 1
            else:                                         # a reminder or deadline in the next 30 days
                timer = now + timedelta(seconds=rng.randint(1, span))
            rows.append(dict(tenant_id=tenant_id, instance_id=first + n % instances, node_id="qe", entry=1,
                             kind="approval", slot=n // instances, seq=0, assignee_id=1000 + n % 500, status="open",
                             created_at=now - timedelta(days=31), due_at=timer, next_timer_at=timer, reminders=0))
        with engine.begin() as conn:
            conn.execute(insert(flow_tasks), rows)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("ANALYZE flow_tasks"))
    return due, time.perf_counter() - started


def bench_part_b(url: str, tasks: int, instances: int, repeats: int = 5) -> dict:
    engine = migrated(url)
    try:
        now = datetime.now(timezone.utc).replace(microsecond=0)
        due, fill_s = fill_open_tasks(engine, tasks, instances, now)
        times, found = [], None
        for _ in range(repeats):
            with session_scope(engine) as s:
                start = time.perf_counter()
                found = flow_timers.due_timers(s, now, limit=500)
                times.append((time.perf_counter() - start) * 1000)
        with engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(flow_tasks)).scalar_one()
            plan = query_plan(conn, now)
        if len(found) != min(500, due):
            raise RuntimeError(f"due_timers found {len(found)} tasks, expected {min(500, due)}")
        return {"tasks": total, "due": due, "fill_s": fill_s, "best_ms": min(times),
                "median_ms": statistics.median(times), "found": len(found), "plan": plan}
    finally:
        engine.dispose()


def query_plan(conn, now: datetime) -> str:
    stmt = select(flow_tasks.c.tenant_id, flow_tasks.c.id).where(flow_tasks.c.next_timer_at <= now).order_by(
        flow_tasks.c.next_timer_at).limit(500)
    sql = str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": False}))
    params = stmt.compile(dialect=conn.dialect).params
    prefix = "EXPLAIN QUERY PLAN " if conn.dialect.name == "sqlite" else "EXPLAIN "
    rows = conn.exec_driver_sql(prefix + sql, tuple(params.values()) if conn.dialect.name == "sqlite" else params).all()
    return "; ".join(" ".join(str(r[-1]).split()) for r in rows)


# ---------------------------------------------------------------------------- report

def report(a: dict, b: dict, backend: str, quick: bool) -> bool:
    """Print both tables; True when every target is met (never checked in --quick)."""
    ok = True
    print(f"\nPart A — flow instances started and completed per second ({backend}; 3 approvals + 1 exclusive)")
    print(f"{'engine':<28} {'instances/s':>12} {'ratio':>8}  target")
    trips = f", {a['qms_round_trips']} round trips" if a.get("qms_round_trips") else ""
    print(f"{'QMS (db, 4 transactions)':<28} {a['qms']:>12.1f} {'':>8}  "
          f"({a['qms_statements']} SQL statements{trips} per instance)")
    memory = f"{a['memory_ratio']:>7.2f}×" if a.get("memory_ratio") else f"{'-':>8}"
    print(f"{'QMS engine in memory':<28} {a['qms_memory']:>12.1f} {memory}  (vs SpiffWorkflow memory; no database)")
    if not a["spiff"]:
        print(f"{'SpiffWorkflow':<28} {'-':>12} {'-':>8}  skipped (--no-spiff)")
    for variant, spiff_rate in a["spiff"].items():
        ratio = a["ratios"][variant]
        verdict = "(faster)" if ratio >= SPEED_TARGET else "(slower)"
        if variant == TARGET_VARIANT and not quick:
            met = ratio >= SPEED_TARGET
            ok &= met
            verdict = f"≥{SPEED_TARGET:.1f}× {'target met' if met else 'MISSED'}"
        elif variant == TARGET_VARIANT:
            verdict = f"≥{SPEED_TARGET:.1f}× (not checked in --quick)"
        print(f"{'SpiffWorkflow ' + variant:<28} {spiff_rate:>12.1f} {ratio:>7.2f}×  {verdict}")
    print("ratio = QMS / SpiffWorkflow (above 1: QMS is faster)")
    print(f"\nPart B — overdue query: due_timers(limit=500) among {b['tasks']:,} open tasks ({backend})")
    met = b["best_ms"] < OVERDUE_TARGET_MS
    verdict = "(not checked in --quick)" if quick else ("target met" if met else "MISSED")
    if not quick:
        ok &= met
    print(f"{'tasks':>10} {'due':>8} {'found':>6} {'best ms':>9} {'median ms':>10}  target")
    print(f"{b['tasks']:>10,} {b['due']:>8,} {b['found']:>6} {b['best_ms']:>9.2f} {b['median_ms']:>10.2f}  "
          f"<{OVERDUE_TARGET_MS:.0f} ms {verdict}")
    print(f"insert: {b['fill_s']:.1f} s; plan: {b['plan']}")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few instances and 20,000 tasks (smoke run, no targets)")
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per figure (median kept)")
    parser.add_argument("--tasks", type=int, help="open tasks for Part B (default 1,000,000; 20,000 with --quick)")
    parser.add_argument("--no-spiff", action="store_true", help="run our side only (no SpiffWorkflow needed)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    with_spiff = not args.no_spiff
    if with_spiff and not spiff_installed():
        print(INSTALL_HINT, file=sys.stderr)
        return 2
    if args.quick:
        sizes, rounds = {"warmup": 1, "qms": 5, "spiff": 10, "spiff_db": 5}, 1
        tasks, instances = args.tasks or 20_000, 200
    else:
        sizes, rounds = {"warmup": 20, "qms": 200, "spiff": 500, "spiff_db": 200}, args.rounds
        tasks, instances = args.tasks or 1_000_000, 5_000
    if with_spiff:
        from SpiffWorkflow.version import __version__ as spiff_version
        print(f"SpiffWorkflow {spiff_version}; ", end="")
    spiff_sizes = (f", {sizes['spiff']} Spiff instances ({sizes['spiff_db']} for +json in db)" if with_spiff else "")
    print(f"{args.db}; per round {sizes['qms']} QMS instances{spiff_sizes}; median of {rounds} alternating rounds")
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="qms-bench-flows-") as tmp:
        workdir = Path(tmp)
        with database(args.db, workdir, "flows") as url:
            part_a = bench_part_a(url, sizes, rounds, with_spiff)
        with database(args.db, workdir, "timers") as url:
            part_b = bench_part_b(url, tasks, instances)
    met = report(part_a, part_b, args.db, args.quick)
    print(f"\nload average (1 min): {load_before:.1f} before, {os.getloadavg()[0]:.1f} after; {os.cpu_count()} CPUs")
    if args.json:
        args.json.write_text(json.dumps({"backend": args.db, "part_a": part_a, "part_b": part_b}, indent=2))
    if args.quick:
        return 0
    print("\nall targets met" if met else "\nsome targets MISSED")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
