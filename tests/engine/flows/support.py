"""A tenant with people, an NCR form and its review flow, for the flow service tests (SQLite here,
PostgreSQL in tests/integration)."""
from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from engine.services import accounts, flow_actions, flows
from engine.services import forms as form_service
from engine.services import records as record_service
from engine.services.flow_actions import TaskAction
from engine.services.flow_defs import publish_flow
from engine.storage.db import session_scope
from engine.storage.flow_tables import flow_events, flow_instances, flow_tasks
from engine.types import Actor

PASSWORD = "sign-it-123"
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)      # a Monday, 09:00 in Shanghai
L = lambda zh, en: {"zh-CN": zh, "en": en}  # noqa: E731
_emails = itertools.count(1)

NCR_FORM = {"format": 1, "key": "ncr", "label": L("不合格品报告", "NCR"), "fields": [
    {"key": "subject", "type": "text", "label": L("主题", "Subject")},
    {"key": "cost", "type": "number", "label": L("成本", "Cost"), "precision": 0},
    {"key": "disposition", "type": "select", "label": L("处置", "Disposition"),
     "choices": [{"code": "scrap", "label": L("报废", "Scrap")}, {"code": "rework", "label": L("返工", "Rework")}]},
    {"key": "owner", "type": "user", "label": L("负责人", "Owner")},
]}

REVIEW = {"format": 1, "key": "ncr_review", "label": L("不合格品评审", "NCR review"), "form": "ncr",
          "nodes": [
              {"id": "start", "type": "start", "next": "qe"},
              {"id": "qe", "type": "approval", "label": L("质量审核", "QE review"),
               "assignees": [{"kind": "role", "role": "qe"}], "mode": "any",
               "fields": {"disposition": "editable"}, "signature": {"meaning": "reviewed"}, "next": "check"},
              {"id": "check", "type": "exclusive", "branches": [
                  {"label": L("高成本", "High cost"), "condition": "cost > 1000", "next": "mrb"},
                  {"label": L("其他", "Otherwise"), "default": True, "next": "done"}]},
              {"id": "mrb", "type": "approval", "label": L("MRB 评审", "MRB"),
               "assignees": [{"kind": "role", "role": "mrb"}], "mode": "all", "next": "done"},
              {"id": "done", "type": "end"}]}


@dataclass
class World:
    engine: object
    admin: Actor
    people: dict[str, Actor] = field(default_factory=dict)

    def session(self):
        return session_scope(self.engine)

    def __getitem__(self, name: str) -> Actor:
        return self.people[name]

    def submit(self, who: str = "sam", now: datetime = T0, **data) -> int:
        """Create an NCR as ``who`` (the flow starts by itself); returns the record id."""
        with self.session() as s:
            values = {"subject": "burr", "cost": 500, **data}
            return record_service.create_record(s, self[who], "ncr", values, now=now).id

    def instance(self, record_id: int) -> dict:
        with self.session() as s:
            return dict(s.execute(select(flow_instances).where(flow_instances.c.record_id == record_id,
                                                              flow_instances.c.tenant_id == self.admin.tenant_id)
                                  .order_by(flow_instances.c.id.desc())).mappings().first())

    def tasks(self, record_id: int, **where) -> list[dict]:
        inst = self.instance(record_id)
        with self.session() as s:
            rows = s.execute(select(flow_tasks).where(flow_tasks.c.instance_id == inst["id"])
                             .order_by(flow_tasks.c.id)).mappings().all()
        return [dict(r) for r in rows if all(r[k] == v for k, v in where.items())]

    def open_task(self, record_id: int, who: str) -> int:
        found = self.tasks(record_id, assignee_id=self[who].user_id, status="open")
        assert found, f"{who} has no open task: {self.tasks(record_id)}"
        return found[-1]["id"]

    def act(self, record_id: int, who: str, action: str = "approve", now: datetime = T0, **params) -> dict:
        if action in ("approve", "add_after") and "password" not in params:
            params["password"] = PASSWORD
        with self.session() as s:
            return flow_actions.act(s, self[who], self.open_task(record_id, who), action, TaskAction(**params), now=now)

    def events(self, record_id: int) -> list[str]:
        inst = self.instance(record_id)
        with self.session() as s:
            return list(s.execute(select(flow_events.c.kind).where(flow_events.c.instance_id == inst["id"])
                                  .order_by(flow_events.c.id)).scalars())


def make_world(engine, admin: Actor, flow: dict | None = None, form: dict | None = None) -> World:
    world = World(engine, admin)
    t = admin.tenant_id
    with session_scope(engine) as s:
        for key in ("qe", "mrb", "clerk"):
            accounts.create_role(s, t, key, L(key, key))
        accounts.set_permissions(s, t, "clerk", "form:ncr", {"create": True, "read": "own", "update": "own"})
        head = accounts.create_user(s, t, f"head{next(_emails)}@x.cn", "Hannah Head", PASSWORD)
        dept = accounts.create_department(s, t, f"d{next(_emails)}", L("质量部", "Quality"), head_user_id=head)
        specs = {"sam": ["clerk"], "quinn": ["qe"], "quincy": ["qe"], "mia": ["mrb"], "max": ["mrb"],
                 "dora": [], "eve": []}
        ids = {"hannah": head}
        for name, roles in specs.items():
            ids[name] = accounts.create_user(s, t, f"{name}{next(_emails)}@x.cn", name.title(), PASSWORD,
                                             roles=roles, department=dept if name == "sam" else None, lang="en")
        world.people = {name: accounts.actor_for_user(s, uid) for name, uid in ids.items()}
        form_service.publish_form(s, admin, form or NCR_FORM)
        publish_flow(s, admin, copy.deepcopy(flow or REVIEW))
    return world


def later(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


__all__ = ["World", "make_world", "T0", "later", "PASSWORD", "REVIEW", "NCR_FORM", "flows", "L"]
