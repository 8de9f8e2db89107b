"""Two suppliers, A and B, each with a portal login made by :func:`engine.services.portal.create_supplier_user`,
and for each: an NCR, an 8D running its flow (waiting for the supplier at D1–D2), two monthly
scorecards; A also has three certificates (expired, due in 10 days, valid for a year).

Shared by the service tests, the web tests and the browser test (``build`` works on any engine
and admin Actor).
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select

from engine.services import accounts, flow_actions, flows
from engine.services import portal as portal_service
from engine.services import records as record_service
from engine.services.flow_actions import TaskAction
from engine.storage.db import session_scope
from engine.storage.flow_tables import flow_instances, flow_tasks
from engine.types import Actor
from templates_qms.catalog import install_all

APPS = ["qms_base", "iqc", "ncr", "eight_d", "supplier_quality"]
PASSWORD = "portal-pass-2026"
_seq = itertools.count(1)


@dataclass
class World:
    engine: object
    admin: Actor
    qe: Actor = None
    suppliers: dict = field(default_factory=dict)       # "A"/"B" → supplier record id
    users: dict = field(default_factory=dict)           # "A"/"B" → portal user id
    emails: dict = field(default_factory=dict)
    ncrs: dict = field(default_factory=dict)
    eight_ds: dict = field(default_factory=dict)
    scorecards: dict = field(default_factory=dict)

    def actor(self, who: str) -> Actor:
        """The Actor of supplier ``who``'s portal user, or of "qe"."""
        with session_scope(self.engine) as s:
            uid = self.qe.user_id if who == "qe" else self.users[who]
            return accounts.actor_for_user(s, uid, lang="en")

    def open_tasks(self, form_key: str, record_id: int) -> list[dict]:
        with session_scope(self.engine) as s:
            inst = s.execute(select(flow_instances.c.id).where(
                flow_instances.c.tenant_id == self.admin.tenant_id, flow_instances.c.form_key == form_key,
                flow_instances.c.record_id == record_id).order_by(flow_instances.c.id.desc())).scalar()
            rows = s.execute(select(flow_tasks).where(flow_tasks.c.instance_id == inst, flow_tasks.c.status == "open")
                             .order_by(flow_tasks.c.id)).mappings()
            return [dict(r) for r in rows]

    def task_of(self, who: str) -> dict:
        """``who``'s one open task on their own 8D."""
        tasks = self.open_tasks("eight_d", self.eight_ds[who])
        assert len(tasks) == 1, tasks
        return tasks[0]

    def answer_d1_d2(self, who: str) -> None:
        """The supplier answers D1–D2 (so the 8D waits at D3)."""
        actor = self.actor(who)
        with session_scope(self.engine) as s:
            flow_actions.act(s, actor, self.task_of(who)["id"], "approve", TaskAction(data={
                "d1_team": [{"name": "Li Wei", "department": "Quality", "team_role": "supplier"}],
                "d2_statement": f"Porosity on face A ({who})"}))


def build(engine, admin: Actor, today: date | None = None) -> World:
    """Install the apps and make both suppliers with their records (see the module docstring)."""
    today = today or date.today()
    world = World(engine, admin)
    with session_scope(engine) as s:
        install_all(s, admin, only=APPS)
        n = next(_seq)
        qe_id = accounts.create_user(s, admin.tenant_id, f"qe{n}@plant.cn", "Quinn QE", PASSWORD,
                                     roles=["quality_engineer"], lang="en")
        world.qe = accounts.actor_for_user(s, qe_id)
        world.emails["qe"] = f"qe{n}@plant.cn"
        for who in ("A", "B"):
            _supplier(s, world, who, n, today)
    return world


def _supplier(s, world: World, who: str, n: int, today: date) -> None:
    admin, qe = world.admin, world.qe
    certs = [] if who == "B" else [
        {"cert_type": "iso9001", "cert_no": "Q-1", "issued_on": today - timedelta(days=900),
         "expires_on": today - timedelta(days=5)},
        {"cert_type": "iatf16949", "cert_no": "T-2", "issued_on": today - timedelta(days=700),
         "expires_on": today + timedelta(days=10)},
        {"cert_type": "iso14001", "cert_no": "E-3", "issued_on": today - timedelta(days=30),
         "expires_on": today + timedelta(days=365)}]
    supplier = record_service.create_record(s, admin, "supplier", {
        "code": f"S{who}{n:03d}", "name": f"Supplier {who} Castings", "supplier_status": "qualified",
        "approved_on": today - timedelta(days=400), "certificates": certs}).id
    world.suppliers[who] = supplier
    world.emails[who] = f"portal{who.lower()}{n}@supplier{who.lower()}.cn"
    world.users[who] = portal_service.create_supplier_user(s, admin, supplier, world.emails[who],
                                                           f"{who} Quality", PASSWORD)
    part = record_service.create_record(s, admin, "part", {"part_no": f"P-{who}{n}", "name": f"Housing {who}",
                                                           "supplier": supplier}).id
    world.ncrs[who] = record_service.create_record(s, qe, "ncr", {
        "source": "supplier", "detected_on": today, "supplier": supplier, "part": part, "lot_no": f"L-{who}-1",
        "qty_nc": 7, "description": f"Porosity on face A, supplier {who}", "rework_cost": 120}).id
    world.eight_ds[who] = record_service.create_record(s, qe, "eight_d", {
        "problem_title": f"Porosity {who}", "source": "ncr", "ncr": world.ncrs[who], "supplier": supplier,
        "part": part, "leader": qe.user_id, "opened_on": today, "due_date": today + timedelta(days=30),
        "d0_symptom": "Porosity found at incoming inspection"}).id
    flows.start_flow(s, qe, "eight_d", world.eight_ds[who], "eight_d_flow")
    first = date(today.year, today.month, 1)
    months = [(first - timedelta(days=40)).replace(day=1), (first - timedelta(days=10)).replace(day=1)]
    world.scorecards[who] = [record_service.create_record(s, qe, "supplier_scorecard", {
        "supplier": supplier, "period": month, "lots_inspected": 10, "lots_accepted": 10 - i * 2,
        "received_qty": 10000, "rejected_qty": 1 + 30 * i, "deliveries": 10, "deliveries_on_time": 10 - i,
        "comments": "internal note"}).id for i, month in enumerate(months)]
