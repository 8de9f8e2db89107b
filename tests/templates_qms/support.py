"""Shared helpers of the QMS template tests: install shipped apps through the catalog, a ``Plant``
(a tenant with named people) that creates records and drives their flows, and the form keys a
definition names."""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from functools import lru_cache
from pathlib import Path
from typing import Iterable

from sqlalchemy import select

from engine.services import accounts, flow_actions, flows, notifications, rule_defs, rule_events
from engine.services import records as record_service
from engine.services.flow_actions import TaskAction
from engine.storage.db import session_scope
from engine.storage.flow_tables import flow_instances, flow_tasks
from engine.storage.platform import apps as apps_table
from engine.types import Actor
from templates_qms import catalog

PASSWORD = "qms-pass-2026"
_emails = itertools.count(1)


def needed(keys: Iterable[str]) -> list[str]:
    """``keys`` and every app they require (transitively), in catalog order."""
    out: set[str] = set()
    stack = list(keys)
    while stack:
        key = stack.pop()
        if key not in out:
            out.add(key)
            stack.extend(catalog.load_package(key).get("requires") or ())
    return [k for k in catalog.keys() if k in out]


def install(session, admin: Actor, keys: Iterable[str] | None = None) -> list[str]:
    """Install ``keys`` (None: the whole catalog) and the apps they require that the tenant lacks, in
    catalog order, each with its roles and their permissions; the keys installed."""
    have = set(session.execute(select(apps_table.c.key).where(apps_table.c.tenant_id == admin.tenant_id)).scalars())
    wanted = [k for k in needed(catalog.keys() if keys is None else keys) if k not in have]
    return [r.app_key for r in catalog.install_all(session, admin, only=wanted)]


def form_refs(node) -> set[str]:
    """Every form key a definition names (reference fields, rule forms and targets, report datasets)."""
    if isinstance(node, list):
        return set().union(*map(form_refs, node)) if node else set()
    if not isinstance(node, dict):
        return set()
    own = {node["form"]} if isinstance(node.get("form"), str) else set()
    return own.union(*map(form_refs, node.values()))


@lru_cache(maxsize=None)
def flow_of(form: str) -> str:
    """The key of the one shipped flow that runs on ``form``."""
    (key,) = [f["key"] for k in catalog.keys() for f in catalog.load_package(k).get("flows") or ()
              if f.get("form") == form]
    return key


@dataclass
class Plant:
    """A tenant with shipped apps installed and named people who create records and act on flows."""

    engine: object
    admin: Actor
    jobs: object
    people: dict[str, Actor] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)
    uploads: Path = Path(".")
    settle: bool = True                      # run the queued jobs after each create

    def session(self):
        """A transaction on the plant's database (committed when the block ends)."""
        return session_scope(self.engine)

    def uid(self, who: str) -> int:
        """``who``'s user id."""
        return self.people[who].user_id

    def hire(self, session, people: dict[str, list[str]], external: Iterable[str] = ()) -> None:
        """Create a user per name with these roles (``external`` names are portal users) and keep their actors."""
        ids = {name: accounts.create_user(session, self.admin.tenant_id, f"{name}{next(_emails)}@plant.cn",
                                          name.title(), PASSWORD, roles=roles, lang="en", is_external=name in external)
               for name, roles in people.items()}
        self.people.update({name: accounts.actor_for_user(session, uid) for name, uid in ids.items()})

    def create(self, form: str, who: str, **values) -> int:
        """``who`` creates a record of ``form``; its id (the queued jobs run after it if ``settle``)."""
        with self.session() as s:
            record_id = record_service.create_record(s, self.people[who], form, values).id
        if self.settle:
            self.run_jobs()
        return record_id

    def get(self, form: str, record_id: int) -> dict:
        """The record's values, read as the admin."""
        with self.session() as s:
            return dict(record_service.get_record(s, self.admin, form, record_id).values)

    def find(self, form: str, **match) -> list[dict]:
        """The form's records whose values include ``match`` (values plus ``id`` and ``status``), by id."""
        with self.session() as s:
            items = record_service.query_records(s, self.admin, form, sort="id", per_page=500).items
        return [dict(r.values, id=r.id, status=r.status) for r in items
                if all(r.values.get(k) == v for k, v in match.items())]

    def run_jobs(self) -> None:
        """Run queued rule jobs until nothing new is queued (rules that fire rules included)."""
        while self.jobs.run_all():
            pass

    def instance(self, form: str, record_id: int) -> dict | None:
        """The record's latest flow instance (None if no flow ever ran on it)."""
        with self.session() as s:
            row = s.execute(select(flow_instances).where(
                flow_instances.c.tenant_id == self.admin.tenant_id, flow_instances.c.form_key == form,
                flow_instances.c.record_id == record_id).order_by(flow_instances.c.id.desc())).mappings().first()
        return dict(row) if row else None

    def open_tasks(self, form: str, record_id: int) -> list[dict]:
        """The open tasks of the record's latest flow instance, oldest first."""
        inst = self.instance(form, record_id)
        stmt = select(flow_tasks).where(flow_tasks.c.instance_id == inst["id"], flow_tasks.c.status == "open")
        with self.session() as s:
            return [dict(r) for r in s.execute(stmt.order_by(flow_tasks.c.id)).mappings()]

    def at(self, form: str, record_id: int) -> set[str]:
        """The nodes with open tasks."""
        return {t["node_id"] for t in self.open_tasks(form, record_id)}

    def act(self, form: str, record_id: int, who: str, action: str = "approve", **params) -> None:
        """``who`` acts on their open task of the record (signing with their password), then jobs run."""
        mine = [t for t in self.open_tasks(form, record_id) if t["assignee_id"] == self.uid(who)]
        assert mine, f"{who} has no open task on {form} {record_id}: {self.open_tasks(form, record_id)}"
        params.setdefault("password", PASSWORD)
        with self.session() as s:
            flow_actions.act(s, self.people[who], mine[0]["id"], action, TaskAction(**params))
        self.run_jobs()

    def start(self, form: str, record_id: int, who: str, flow: str | None = None) -> None:
        """``who`` submits the record to its form's shipped flow (the record page's submit button), then jobs run."""
        with self.session() as s:
            flows.start_flow(s, self.people[who], form, record_id, flow or flow_of(form))
        self.run_jobs()

    def inbox(self, who: str) -> list[dict]:
        """``who``'s notifications (subject, body, link …), unread and newest first, at most 200."""
        with self.session() as s:
            return notifications.list_notifications(s, self.people[who], per_page=notifications.MAX_PER_PAGE)["items"]

    def schedule(self, app: str, rule_key: str, day: date) -> list[int]:
        """The app's schedule rule fired at 08:00 UTC on ``day`` as the scheduler would, jobs run; the runs queued."""
        with self.session() as s:
            rule = next(r for r in rule_defs.app_rules(s, self.admin.tenant_id, app) if r.key == rule_key)
            at = datetime.combine(day, time(8), tzinfo=timezone.utc)
            runs = rule_events.schedule_event(s, self.admin.tenant_id, rule, at)
        self.run_jobs()
        return runs
