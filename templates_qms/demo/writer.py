"""The engine path: records created, flows moved and rules run through the services, on the simulated day.

Every record is written by ``records.create_record(now=day)`` as the person who would write it;
flow tasks are acted on by their assignees (``flow_actions.act(now=day)``, signing with the demo
password); the rules these writes fire are drained synchronously from a :class:`DeferredBackend`.

Rule runs are dated at their event (``engine.services.rule_context._run_time``): a rule fired by a
record created or a task acted on at ``now=day`` creates and updates records and starts flows as of
that day, so an NCR opened by the IQC rule is dated on the day of the rejection.
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Iterator

from sqlalchemy import and_, select

from engine.errors import PermissionDenied
from engine.jobs import queue
from engine.services import flow_actions, flows
from engine.services import records as record_service
from engine.services.flow_actions import TaskAction
from engine.storage.db import session_scope
from engine.storage.flow_tables import flow_instances, flow_tasks
from engine.types import Actor

from templates_qms.demo.people import People


def at(day: date, hour: int = 9, minute: int = 0) -> datetime:
    """The moment ``day`` at ``hour``:``minute`` UTC (the demo plant works in UTC+8: 9:00 is 17:00 there)."""
    return datetime.combine(day, time(hour, minute), tzinfo=timezone.utc)


class Writer:
    """One tenant's engine-path writes: who writes, on which day, and the rule runs they cause."""

    def __init__(self, engine, tenant_id: int, admin: Actor, people: People):
        self.engine, self.tenant_id, self.admin, self.people = engine, tenant_id, admin, people
        self.backend = queue.DeferredBackend()
        self.ids: dict[str, Any] = {}
        self.engine_records = 0
        self.as_admin: dict[str, int] = {}

    # -- plumbing ----------------------------------------------------------------------------------
    def session(self):
        return session_scope(self.engine)

    def actor(self, who: str | Actor) -> Actor:
        return who if isinstance(who, Actor) else self.people[who]

    @contextmanager
    def jobs(self) -> Iterator[None]:
        """Rule jobs of the writes inside wait here instead of going to worker threads."""
        previous = queue.use(self.backend)
        try:
            yield
        finally:
            queue.use(previous)

    def drain(self, moment: datetime) -> int:
        """Run the queued rule jobs (and those they queue); they are dated at their events, ``moment``
        only documents when the caller expects them to have happened."""
        ran = 0
        while True:
            n = self.backend.run_all()
            ran += n
            if not n:
                return ran

    def create(self, who: str | Actor, form: str, data: dict, moment: datetime, session=None) -> int:
        """A record written by ``who`` at ``moment``; its id. When the packages' roles do not let
        ``who`` create it, the tenant administrator writes it (counted in ``as_admin``)."""
        self.engine_records += 1
        if session is None:
            with self.session() as s:
                return self.create(who, form, data, moment, s)
        try:
            return record_service.create_record(session, self.actor(who), form, data, now=moment).id
        except PermissionDenied:          # raised before anything is written
            self.as_admin[form] = self.as_admin.get(form, 0) + 1
            return record_service.create_record(session, self.admin, form, data, now=moment).id

    def update(self, who: str | Actor, form: str, record_id: int, data: dict, moment: datetime,
               reason: str | None = None) -> None:
        with self.session() as s:
            current = record_service.get_record(s, self.admin, form, record_id)
            record_service.update_record(s, self.actor(who), form, record_id, current.version, data, reason,
                                         now=moment)

    def get(self, form: str, record_id: int) -> dict:
        with self.session() as s:
            return dict(record_service.get_record(s, self.admin, form, record_id).values)

    def find(self, form: str, filter: str) -> list[dict]:
        with self.session() as s:
            page = record_service.query_records(s, self.admin, form, filter, "id", per_page=500)
        return [dict(r.values, id=r.id) for r in page.items]

    # -- flows -------------------------------------------------------------------------------------
    def open_tasks(self, form: str, record_id: int) -> list[dict]:
        """The open tasks of the record's running flow instance."""
        with self.session() as s:
            inst = s.execute(select(flow_instances.c.id).where(and_(
                flow_instances.c.tenant_id == self.tenant_id, flow_instances.c.form_key == form,
                flow_instances.c.record_id == record_id)).order_by(flow_instances.c.id.desc())).scalar()
            if inst is None:
                return []
            return [dict(r) for r in s.execute(select(flow_tasks).where(and_(
                flow_tasks.c.instance_id == inst, flow_tasks.c.status == "open", flow_tasks.c.kind != "cc"))
                .order_by(flow_tasks.c.id)).mappings()]

    def nodes(self, form: str, record_id: int) -> set[str]:
        return {t["node_id"] for t in self.open_tasks(form, record_id)}

    def act(self, form: str, record_id: int, moment: datetime, action: str = "approve", data: dict | None = None,
            comment: str | None = None, to_node: str | None = None) -> bool:
        """The assignee of the record's first open task acts on it (signing with the demo password);
        False when the record has no open task. Rules fired are drained as of ``moment``."""
        tasks = self.open_tasks(form, record_id)
        if not tasks:
            return False
        task = tasks[0]
        with self.session() as s:
            from engine.services.accounts import actor_for_user
            actor = actor_for_user(s, task["assignee_id"])
            flow_actions.act(s, actor, task["id"], action, TaskAction(
                comment=comment, data=data, password=self.people.password, to_node=to_node), now=moment)
        self.drain(moment)
        return True

    def start_flow(self, who: str | Actor, form: str, record_id: int, flow_key: str, moment: datetime) -> None:
        with self.session() as s:
            flows.start_flow(s, self.actor(who), form, record_id, flow_key, now=moment)
        self.drain(moment)


def business_hours(day: date, k: int) -> datetime:
    """The ``k``-th write of a day, spread over the morning shift (keeps creation order = time order)."""
    return at(day, 1) + timedelta(minutes=(k * 7) % 480)
