"""A tenant with suppliers and incoming inspections (defects and measured characteristics), a
restricted inspector, and helpers to publish and run reports."""
from __future__ import annotations

import copy
import random
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest

from engine.services import accounts
from engine.services import forms as form_service
from engine.services import records as record_service
from engine.services import reports as report_service
from engine.storage.db import session_scope
from engine.types import Actor

L = lambda zh, en: {"zh-CN": zh, "en": en}  # noqa: E731
PASSWORD = "reports-pass-123"

SUPPLIER_FORM = {"format": 1, "key": "supplier", "label": L("供应商", "Supplier"), "title_template": "{name}", "fields": [
    {"key": "name", "type": "text", "label": L("名称", "Name")},
    {"key": "region", "type": "text", "label": L("地区", "Region")}]}

IQC_FORM = {"format": 1, "key": "iqc", "label": L("来料检验", "Incoming inspection"), "numbering": "IQC-{0000}", "fields": [
    {"key": "supplier", "type": "reference", "label": L("供应商", "Supplier"), "form": "supplier"},
    {"key": "part", "type": "text", "label": L("料号", "Part")},
    {"key": "inspect_date", "type": "date", "label": L("检验日期", "Inspection date")},
    {"key": "lot_size", "type": "number", "label": L("批量", "Lot size"), "precision": 0},
    {"key": "sample_size", "type": "number", "label": L("样本量", "Sample size"), "precision": 0},
    {"key": "defective", "type": "number", "label": L("不良数", "Defective"), "precision": 0},
    {"key": "cost", "type": "number", "label": L("成本", "Cost"), "precision": 2},
    {"key": "result", "type": "select", "label": L("判定", "Result"),
     "choices": [{"code": "accept", "label": L("接收", "Accept")}, {"code": "reject", "label": L("拒收", "Reject")}]},
    {"key": "defects", "type": "subtable", "label": L("缺陷", "Defects"), "fields": [
        {"key": "code", "type": "select", "label": L("缺陷代码", "Defect code"),
         "choices": [{"code": c, "label": L(c, c)} for c in ("scratch", "burr", "dent", "size", "color")]},
        {"key": "class", "type": "select", "label": L("等级", "Class"),
         "choices": [{"code": c, "label": L(c, c)} for c in ("CR", "MA", "MI")]},
        {"key": "qty", "type": "number", "label": L("数量", "Quantity"), "precision": 0}]},
    {"key": "chars", "type": "subtable", "label": L("特性", "Characteristics"), "fields": [
        {"key": "name", "type": "text", "label": L("特性", "Characteristic")},
        {"key": "lsl", "type": "number", "label": L("下限", "LSL"), "precision": 4},
        {"key": "usl", "type": "number", "label": L("上限", "USL"), "precision": 4},
        {"key": "value", "type": "number", "label": L("实测值", "Measured"), "precision": 4}]}]}

CODES = ("scratch", "burr", "dent", "size", "color")


@dataclass
class Shop:
    engine: object
    admin: Actor
    people: dict[str, Actor] = field(default_factory=dict)
    suppliers: dict[str, int] = field(default_factory=dict)
    iqc: list[dict] = field(default_factory=list)        # what was stored (for hand-made expectations)

    def session(self):
        return session_scope(self.engine)

    def publish(self, definition: dict, who: Actor | None = None):
        with self.session() as s:
            return report_service.publish_report(s, who or self.admin, copy.deepcopy(definition))

    def run(self, key: str, who: Actor | None = None, **kw):
        with self.session() as s:
            return report_service.run_report(s, who or self.admin, key, **kw)


def make_shop(engine, admin: Actor, lots: int = 60, seed: int = 7) -> Shop:
    shop = Shop(engine, admin)
    rng = random.Random(seed)
    t = admin.tenant_id
    with session_scope(engine) as s:
        accounts.create_role(s, t, "inspector", L("检验员", "Inspector"))
        accounts.set_permissions(s, t, "inspector", "form:iqc", {"create": True, "read": "own", "update": "own"})
        accounts.set_permissions(s, t, "inspector", "form:supplier", {"read": "all"})
        accounts.create_role(s, t, "viewer", L("查看", "Viewer"))
        accounts.set_permissions(s, t, "viewer", "form:iqc", {"read": "all", "fields": {"cost": "hidden"}})
        accounts.set_permissions(s, t, "viewer", "form:supplier", {"read": "all"})
        for name, role in (("ivan", "inspector"), ("vera", "viewer")):
            uid = accounts.create_user(s, t, f"{name}@reports.cn", name.title(), PASSWORD, roles=[role], lang="en")
            shop.people[name] = accounts.actor_for_user(s, uid)
        form_service.publish_form(s, admin, copy.deepcopy(SUPPLIER_FORM))
        form_service.publish_form(s, admin, copy.deepcopy(IQC_FORM))
        for name, region in (("Acme", "East"), ("Bolt", "South"), ("Cogs", "East")):
            shop.suppliers[name] = record_service.create_record(s, admin, "supplier", {"name": name, "region": region}).id
    start = date(2026, 1, 5)
    for i in range(lots):
        supplier = rng.choice(list(shop.suppliers))
        day = start + timedelta(days=rng.randrange(0, 150))
        sample = rng.choice((20, 32, 50))
        defects = [{"code": rng.choice(CODES), "class": rng.choice(("CR", "MA", "MI")), "qty": rng.randrange(1, 6)}
                   for _ in range(rng.randrange(0, 4))]
        part = rng.choice(("P-100", "P-200"))
        chars = [{"name": "diameter", "lsl": 9.9, "usl": 10.1, "value": round(rng.gauss(10.0, 0.02), 4)}
                 for _ in range(5)]
        data = {"supplier": shop.suppliers[supplier], "part": part, "inspect_date": day.isoformat(),
                "lot_size": rng.randrange(100, 2000), "sample_size": sample,
                "defective": sum(d["qty"] for d in defects), "cost": round(rng.uniform(0, 500), 2),
                "result": "reject" if sum(d["qty"] for d in defects) > 6 else "accept",
                "defects": defects, "chars": chars}
        who = shop.people["ivan"] if i % 3 == 0 else admin
        with session_scope(engine) as s:
            rid = record_service.create_record(s, who, "iqc", data).id
        shop.iqc.append({"id": rid, "supplier_name": supplier, "mine": who is shop.people["ivan"], **data,
                         "day": day})
    return shop


@pytest.fixture
def shop(db_engine, actor):
    return make_shop(db_engine, actor)


def report(key: str, dataset: dict, chart: dict | None = None) -> dict:
    return {"format": 1, "key": key, "label": L(key, key), "dataset": dataset, "chart": chart or {"type": "table"}}
