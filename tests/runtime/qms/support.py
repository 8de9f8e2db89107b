"""A plant for end-to-end scenarios of the shipped QMS apps, driven through the REST API.

One Flask app on a temporary SQLite database with all 13 apps of ``templates_qms`` installed
(once per module: the import is the slow part), the people of a quality department — each with
their roles and an API token — and helpers that act as one of them through the Flask test client:
create a record, find it, act on their own open task from ``GET /api/v1/tasks``.

Background jobs (rule runs) wait in a :class:`engine.jobs.queue.DeferredBackend` until
:meth:`Plant.run_jobs`, so a scenario decides when rules run, like a worker draining the queue.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime, time, timezone
from urllib.parse import urlencode

from sqlalchemy import select

from engine.jobs import queue
from engine.services import accounts, logins, rule_defs, rule_events
from engine.storage.db import session_scope
from engine.storage.platform import users
from engine.types import Actor
from templates_qms.catalog import install_all
from tests.runtime.web_support import make_app

PASSWORD = "plant-pass-2026"
# name → roles (the role keys the QMS packages grant their permissions to)
PEOPLE = {"ivan": ["inspector"], "quinn": ["quality_engineer"], "qiu": ["quality_engineer"],
          "mary": ["quality_manager"], "mia": ["mrb"], "max": ["mrb"], "paula": ["purchasing"],
          "owen": ["production"], "sid": ["supplier_portal"]}
EXTERNAL = {"sid"}                                # the supplier's own login (portal user)
_codes = itertools.count(1)


def unique(prefix: str) -> str:
    """A code no other scenario in this module uses (the plant is shared by the module's tests)."""
    return f"{prefix}-{next(_codes):03d}"


@dataclass
class Person:
    """A user of the plant: id and API token."""

    user_id: int
    token: str


@dataclass
class Plant:
    """The app, its test client, the people and the deferred job queue of the running test."""

    app: object
    admin: Actor
    people: dict[str, Person] = field(default_factory=dict)
    jobs: queue.DeferredBackend | None = None

    @property
    def engine(self):
        return self.app.extensions["qms_db"]

    def uid(self, who: str) -> int:
        return self.people[who].user_id

    # ------------------------------------------------------------------ HTTP as a person

    def call(self, who: str, method: str, path: str, body: dict | None = None, expect: int | None = 200) -> dict:
        """``method path`` with ``who``'s token; the JSON reply (asserting the status unless None)."""
        client = self.app.test_client()
        headers = {"Authorization": f"Bearer {self.people[who].token}", "Accept-Language": "en"}
        res = client.open(path, method=method, json=body, headers=headers)
        if expect is not None:
            assert res.status_code == expect, f"{who} {method} {path}: {res.status_code} {res.get_data(as_text=True)[:2000]}"
        return res.get_json(silent=True) or {}

    def create(self, who: str, form: str, **data) -> dict:
        """``who`` creates a record of ``form`` through the API (then the rules it fired run)."""
        record = self.call(who, "POST", f"/api/v1/forms/{form}/records", {"data": data}, expect=201)
        self.run_jobs()
        return record

    def get(self, form: str, record_id: int, who: str = "mary") -> dict:
        """The record's data as ``who`` reads it."""
        return self.call(who, "GET", f"/api/v1/forms/{form}/records/{record_id}")["data"]

    def find(self, form: str, filter: str, who: str = "mary") -> list[dict]:
        """Records of ``form`` matching the expression ``filter``: data with ``id`` added."""
        found = self.call(who, "GET", query_path(f"/api/v1/forms/{form}/records", filter=filter, sort="id", per_page=200))
        return [dict(r["data"], id=r["id"]) for r in found["items"]]

    # ------------------------------------------------------------------ tasks and flows

    def tasks(self, who: str, form: str | None = None) -> list[dict]:
        """``who``'s open tasks (their inbox), optionally of one form."""
        return self.call(who, "GET", "/api/v1/tasks?per_page=200" + (f"&form={form}" if form else ""))["items"]

    def task_of(self, who: str, form: str, record_id: int) -> dict:
        mine = [t for t in self.tasks(who, form) if t["record_id"] == record_id]
        assert mine, f"{who} has no open task on {form} {record_id}; the flow: {self.flow(form, record_id)['tasks']}"
        return mine[0]

    def act(self, who: str, form: str, record_id: int, action: str = "approve", sign: bool = True, **body) -> dict:
        """``who`` acts on their open task of the record (re-entering the password for the
        e-signature where the step asks for one); then the rules it fired run."""
        task = self.task_of(who, form, record_id)
        if sign and task.get("signature_required"):
            body.setdefault("password", PASSWORD)
        done = self.call(who, "POST", f"/api/v1/tasks/{task['id']}/{action}", body)
        self.run_jobs()
        return done

    def flow(self, form: str, record_id: int, who: str = "mary") -> dict:
        return self.call(who, "GET", f"/api/v1/forms/{form}/records/{record_id}/flow")

    def at(self, form: str, record_id: int) -> set[str]:
        """The nodes with open tasks on the record's flow."""
        return {t["node_id"] for t in self.flow(form, record_id)["tasks"] if t["status"] == "open"}

    def state(self, form: str, record_id: int) -> str | None:
        instance = self.flow(form, record_id)["instance"]
        return instance and instance["state"]

    def notifications(self, who: str) -> list[dict]:
        return self.call(who, "GET", "/api/v1/notifications?per_page=200")["items"]

    # ------------------------------------------------------------------ jobs and schedules

    def run_jobs(self) -> None:
        """Drain the queue: rule runs, and the runs those rules' records fire."""
        if self.jobs is not None:
            while self.jobs.run_all():
                pass

    def run_schedule(self, app_key: str, rule_key: str, at: datetime) -> list[int]:
        """The schedule rule's run for the time ``at`` (as the scheduler fires it); the runs queued."""
        with session_scope(self.engine) as s:
            rule = next(r for r in rule_defs.app_rules(s, self.admin.tenant_id, app_key) if r.key == rule_key)
            runs = rule_events.schedule_event(s, self.admin.tenant_id, rule, at)
        self.run_jobs()
        return runs


def query_path(path: str, **params) -> str:
    """``path?params`` with the values URL-encoded (filters are expressions with quotes and spaces)."""
    return f"{path}?{urlencode(params)}"


def at_eight(day) -> datetime:
    return datetime.combine(day, time(8), tzinfo=timezone.utc)


def build_plant(tmp_path) -> Plant:
    """A new app with the QMS apps installed and the plant's people (each with a token)."""
    app = make_app(tmp_path)
    with session_scope(app.extensions["qms_db"]) as s:
        admin_id = s.execute(select(users.c.id).where(users.c.email == "admin@example.com")).scalar_one()
        admin = accounts.actor_for_user(s, admin_id)
        install_all(s, admin)
    plant = Plant(app, admin)
    with session_scope(plant.engine) as s:
        for name, roles in PEOPLE.items():
            uid = accounts.create_user(s, admin.tenant_id, f"{name}@plant.example.cn", name.title(), PASSWORD,
                                       roles=roles, lang="en", is_external=name in EXTERNAL)
            plant.people[name] = Person(uid, logins.create_api_token(s, admin.tenant_id, uid, "scenario"))
    return plant
