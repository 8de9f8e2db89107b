"""A tenant with an IQC form, an NCR form and a lot register, people in roles, and helpers to
publish rules and run the outbox synchronously (a DeferredBackend instead of worker threads)."""
from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass, field

import pytest
from sqlalchemy import select

from engine.jobs import queue
from engine.services import accounts, rule_defs
from engine.services import forms as form_service
from engine.services import records as record_service
from engine.storage.db import session_scope
from engine.storage.rule_tables import rule_action_runs, rule_outbox
from engine.types import Actor

L = lambda zh, en: {"zh-CN": zh, "en": en}  # noqa: E731
PASSWORD = "rules-pass-123"
_emails = itertools.count(1)
OK_NG = [{"code": "OK", "label": L("合格", "OK")}, {"code": "NG", "label": L("不合格", "NG")}]

LOT_FORM = {"format": 1, "key": "lot", "label": L("批次", "Lot"), "fields": [
    {"key": "lot_no", "type": "text", "label": L("批号", "Lot number")},
    {"key": "remark", "type": "text", "label": L("备注", "Remark")}]}

IQC_FORM = {"format": 1, "key": "iqc", "label": L("来料检验", "Incoming inspection"), "numbering": "IQC-{0000}",
            "fields": [
    {"key": "lot_no", "type": "text", "label": L("批号", "Lot number")},
    {"key": "qty", "type": "number", "label": L("数量", "Quantity"), "precision": 0},
    {"key": "result", "type": "select", "label": L("结果", "Result"), "choices": OK_NG},
    {"key": "inspector", "type": "user", "label": L("检验员", "Inspector")},
    {"key": "defects", "type": "subtable", "label": L("缺陷", "Defects"), "fields": [
        {"key": "code", "type": "text", "label": L("代码", "Code")},
        {"key": "n", "type": "number", "label": L("数量", "Count"), "precision": 0}]}]}

NCR_FORM = {"format": 1, "key": "ncr", "label": L("不合格品报告", "NCR"), "numbering": "NCR-{YYYY}-{0000}", "fields": [
    {"key": "lot_no", "type": "text", "label": L("批号", "Lot number")},
    {"key": "qty", "type": "number", "label": L("数量", "Quantity"), "precision": 0},
    {"key": "source", "type": "text", "label": L("来源", "Source")},
    {"key": "items", "type": "subtable", "label": L("项目", "Items"), "fields": [
        {"key": "code", "type": "text", "label": L("代码", "Code")},
        {"key": "n", "type": "number", "label": L("数量", "Count"), "precision": 0}]}]}

NG_OPENS_NCR = {"format": 1, "key": "ng_opens_ncr", "label": L("不合格开 NCR", "NG opens an NCR"), "form": "iqc",
                "trigger": {"type": "record_created"}, "condition": 'result = "NG"',
                "actions": [{"type": "create_record", "form": "ncr",
                             "values": {"lot_no": "lot_no", "qty": "qty", "source": '"IQC " & serial_no'},
                             "rows": {"items": {"from": "defects", "where": "n > 0",
                                                "values": {"code": "code", "n": "n"}}}},
                            {"type": "set_status", "status": "frozen",
                             "target": {"form": "lot", "match": {"lot_no": "lot_no"}}}]}


@dataclass
class World:
    engine: object
    admin: Actor
    people: dict[str, Actor] = field(default_factory=dict)
    backend: queue.DeferredBackend = field(default_factory=queue.DeferredBackend)

    def session(self):
        return session_scope(self.engine)

    @property
    def url(self) -> str:
        """The database URL job functions take."""
        return self.engine.url.render_as_string(hide_password=False)

    def __getitem__(self, name: str) -> Actor:
        return self.people[name]

    def publish(self, rule: dict) -> None:
        with self.session() as s:
            rule_defs.publish_rule(s, self.admin, copy.deepcopy(rule))

    def create(self, form: str, who: str = "ivan", **data) -> int:
        with self.session() as s:
            return record_service.create_record(s, self[who] if who != "admin" else self.admin, form, data).id

    def get(self, form: str, record_id: int):
        with self.session() as s:
            return record_service.get_record(s, self.admin, form, record_id)

    def records(self, form: str) -> list:
        with self.session() as s:
            return record_service.query_records(s, self.admin, form, sort="id").items

    def run_jobs(self) -> int:
        return self.backend.run_all()

    def runs(self, rule_key: str | None = None) -> list[dict]:
        with self.session() as s:
            stmt = select(rule_outbox).where(rule_outbox.c.tenant_id == self.admin.tenant_id).order_by(rule_outbox.c.id)
            if rule_key:
                stmt = stmt.where(rule_outbox.c.rule_key == rule_key)
            return [dict(r) for r in s.execute(stmt).mappings()]

    def action_runs(self, outbox_id: int) -> list[dict]:
        with self.session() as s:
            return [dict(r) for r in s.execute(select(rule_action_runs).where(rule_action_runs.c.outbox_id == outbox_id)
                                               .order_by(rule_action_runs.c.idx)).mappings()]


def make_world(engine, admin: Actor) -> World:
    world = World(engine, admin)
    t = admin.tenant_id
    with session_scope(engine) as s:
        for key in ("inspector", "purchasing", "quality"):
            accounts.create_role(s, t, key, L(key, key))
        accounts.set_permissions(s, t, "inspector", "form:iqc", {"create": True, "read": "own", "update": "own"})
        ids = {}
        for name, roles in {"ivan": ["inspector"], "paula": ["purchasing"], "peter": ["purchasing"],
                            "quinn": ["quality"]}.items():
            ids[name] = accounts.create_user(s, t, f"{name}{next(_emails)}@x.cn", name.title(), PASSWORD,
                                             roles=roles, lang="en")
        world.people = {name: accounts.actor_for_user(s, uid) for name, uid in ids.items()}
        for form in (LOT_FORM, IQC_FORM, NCR_FORM):
            form_service.publish_form(s, admin, copy.deepcopy(form))
    return world


@pytest.fixture
def world(db_engine, actor):
    w = make_world(db_engine, actor)
    previous = queue.use(w.backend)
    yield w
    queue.use(previous)
