"""The qms_base, iqc and supplier_quality packages: they import in catalogue order, an IQC record
computes the ISO 2859-1 plan and the lot decision (checked against the reference tables), a
rejected lot is frozen with purchasing and quality told, and the monthly scorecard summarises."""
from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from engine.errors import RecordValidationError
from engine.jobs import queue
from engine.services import accounts, flow_actions
from engine.services import apps as app_service
from engine.services import records as record_service
from engine.services.flow_actions import TaskAction
from engine.storage.db import session_scope
from engine.storage.flow_tables import flow_tasks
from engine.storage.notify_tables import notifications
from engine.types import Actor
from templates_qms.catalog import ROOT as PACKAGES
from templates_qms.catalog import load_package
from tests.templates_qms.support import install

from tests.engine.quality.conftest import REFERENCE_DIR as REFERENCE
PASSWORD = "iqc-pass-123"


def install_apps(engine, admin: Actor, *keys: str) -> None:
    """Install the packages (and what they require) in their own transaction."""
    with session_scope(engine) as s:
        install(s, admin, keys)


@pytest.fixture
def world(db_engine, actor):
    backend = queue.DeferredBackend()
    previous = queue.use(backend)
    t = actor.tenant_id
    people = {}
    install_apps(db_engine, actor, "qms_base", "iqc")                 # brings the roles the people need
    with session_scope(db_engine) as s:
        for name, role in (("ivan", "inspector"), ("quinn", "quality_engineer"), ("mona", "quality_manager"),
                           ("paula", "purchasing")):
            uid = accounts.create_user(s, t, f"{name}@example.cn", name.title(), PASSWORD, roles=[role], lang="en")
            people[name] = accounts.actor_for_user(s, uid)
    yield {"engine": db_engine, "admin": actor, "people": people, "backend": backend}
    queue.use(previous)


def create(world, form: str, data: dict, who: Actor | None = None):
    with session_scope(world["engine"]) as s:
        return record_service.create_record(s, who or world["admin"], form, data)


def records(world, form: str) -> list:
    with session_scope(world["engine"]) as s:
        return record_service.query_records(s, world["admin"], form, sort="id").items


def master_data(world, level: str = "II", aql_major: str = "1.0", aql_minor: str = "2.5"):
    supplier = create(world, "supplier", {"code": "S001", "name": "Acme Metals", "supplier_status": "qualified",
                                          "approved_on": "2026-01-05", "purchaser": world["people"]["paula"].user_id})
    part = create(world, "part", {"part_no": "P-100", "name": "Bracket", "inspection_level": level,
                                  "aql_major": aql_major, "aql_minor": aql_minor, "supplier": supplier.id})
    return supplier, part


def inspection(supplier_id: int, part_id: int, lot_size: int, defects=(), lot_no: str = "L-1", **extra) -> dict:
    return {"supplier": supplier_id, "part": part_id, "lot_no": lot_no, "lot_size": lot_size,
            "received_on": "2026-04-16", "defects": [dict(d) for d in defects], **extra}


def reference_plan(lot_size: int, level: str, aql: str) -> dict:
    if REFERENCE is None:
        pytest.skip("shared/qms-reference is not available (set QMS_REFERENCE_DIR)")
    """{letter, n, ac, re} from the reference tables, capped at 100 % inspection."""
    letters = json.loads((REFERENCE / "aql_code_letters.json").read_text(encoding="utf-8"))
    normal = json.loads((REFERENCE / "aql_single_normal.json").read_text(encoding="utf-8"))
    letter = _letter(letters, lot_size, level)
    plan = dict(normal["resolved"][letter][aql])
    plan["n"] = min(plan["n"], lot_size)
    return plan


def _letter(table, lot_size: int, level: str) -> str:
    for row in table["rows"]:
        if row["lot_min"] <= lot_size and (row["lot_max"] is None or lot_size <= row["lot_max"]):
            return row["letters"][level]
    raise AssertionError("no code letter")


def test_the_packages_validate_and_import_in_catalogue_order(world):
    with session_scope(world["engine"]) as s:
        installed = {a["key"]: a["forms"] for a in app_service.list_apps(s, world["admin"].tenant_id)}
    assert installed == {"qms_base": ["supplier", "part", "customer", "production_line"],
                         "iqc": ["iqc_inspection", "material_lot"]}
    for key in ("qms_base", "iqc", "supplier_quality"):
        data = load_package(key)
        assert re.fullmatch(r"\d+\.\d+\.\d+", data["version"]) and data["label"]["zh-CN"] and data["label"]["en"]
        assert (PACKAGES / key / "README.md").is_file()


@pytest.mark.parametrize("lot_size", [5, 40, 280, 1000, 3201, 20000])
def test_an_inspection_computes_the_plan_of_the_reference_tables(world, lot_size):
    supplier, part = master_data(world)
    record = create(world, "iqc_inspection", inspection(supplier.id, part.id, lot_size), world["people"]["ivan"])
    data = record.data
    major, minor = reference_plan(lot_size, "II", "1.0"), reference_plan(lot_size, "II", "2.5")
    assert (data["inspection_level"], data["aql_major"], data["aql_minor"], data["severity"]) == ("II", "1.0", "2.5", "normal")
    assert (data["sample_size"], data["ac_major"], data["re_major"]) == (major["n"], major["ac"], major["re"])
    assert (data["sample_size_minor"], data["ac_minor"], data["re_minor"]) == (minor["n"], minor["ac"], minor["re"])
    assert data["result"] == "accept" and data["inspection_no"].startswith("IQC-")


def test_each_defect_class_is_judged_on_its_own(world):
    supplier, part = master_data(world)
    ivan = world["people"]["ivan"]
    # lot 1000, level II: code J, n = 80; AQL 1.0 → Ac 2 Re 3; AQL 2.5 → Ac 5 Re 6
    cases = [([{"code": "appearance", "defect_class": "MA", "qty": 2}], "accept"),
             ([{"code": "dimension", "defect_class": "MA", "qty": 3}], "reject"),
             ([{"code": "appearance", "defect_class": "MI", "qty": 5}], "accept"),
             ([{"code": "appearance", "defect_class": "MI", "qty": 6}], "reject"),
             ([{"code": "function", "defect_class": "CR", "qty": 1}], "reject"),
             ([{"code": "appearance", "defect_class": "MA", "qty": 2},
               {"code": "marking", "defect_class": "MI", "qty": 5}], "accept")]
    for i, (defects, expected) in enumerate(cases):
        data = create(world, "iqc_inspection", inspection(supplier.id, part.id, 1000, defects, lot_no=f"L-{i}",
                                                          disposition="return_to_supplier"), ivan).data
        assert data["result"] == expected, (defects, data)


def test_overrides_and_the_parts_defaults_choose_the_plan(world):
    supplier, part = master_data(world, level="S-2", aql_major="0.65", aql_minor="4.0")
    data = create(world, "iqc_inspection", inspection(supplier.id, part.id, 1000)).data
    assert (data["inspection_level"], data["aql_major"], data["code_letter"]) == ("S-2", "0.65", "C")
    plan = reference_plan(1000, "S-2", "0.65")
    assert (data["sample_size"], data["ac_major"], data["re_major"]) == (plan["n"], plan["ac"], plan["re"])
    data = create(world, "iqc_inspection", inspection(supplier.id, part.id, 1000, lot_no="L-2",
                                                      level_override="III", aql_major_override="1.5")).data
    plan = reference_plan(1000, "III", "1.5")
    assert (data["code_letter"], data["sample_size"], data["ac_major"]) == ("K", plan["n"], plan["ac"])


def test_characteristics_outside_the_limits_are_ng_and_need_a_defect(world):
    supplier, part = master_data(world)
    chars = [{"name": "Length", "lsl": 9.9, "usl": 10.1, "value": 10.0, "v2": 10.15},
             {"name": "Width", "lsl": 4.9, "usl": 5.1, "value": 5.0},
             {"name": "Hardness", "lsl": 60, "value": 58}]
    with pytest.raises(RecordValidationError) as err:
        create(world, "iqc_inspection", inspection(supplier.id, part.id, 500, characteristics=chars))
    assert [p.field for p in err.value.errors] == ["defects"]
    data = create(world, "iqc_inspection", inspection(
        supplier.id, part.id, 500, [{"code": "dimension", "defect_class": "MA", "qty": 2}],
        characteristics=chars, disposition="sorting")).data
    assert [c["result"] for c in data["characteristics"]] == ["NG", "OK", "NG"]
    assert data["ng_characteristics"] == 2 and data["characteristics"][0]["max_value"] == 10.15


def _approve(world, who: str) -> None:
    person = world["people"][who]
    with session_scope(world["engine"]) as s:
        task = s.execute(select(flow_tasks.c.id).where(flow_tasks.c.assignee_id == person.user_id,
                                                       flow_tasks.c.status == "open")).scalar_one()
    with session_scope(world["engine"]) as s:
        flow_actions.act(s, person, task, "approve", TaskAction(comment="ok", password=PASSWORD))


def test_a_rejected_lot_is_frozen_and_purchasing_and_quality_are_told(world):
    supplier, part = master_data(world)
    ivan = world["people"]["ivan"]
    record = create(world, "iqc_inspection", inspection(
        supplier.id, part.id, 1000, [{"code": "dimension", "defect_class": "MA", "qty": 3}],
        lot_no="L-NG", disposition="return_to_supplier", inspector=ivan.user_id), ivan)
    world["backend"].run_all()
    lots = records(world, "material_lot")
    assert [(lot.data["lot_no"], lot.data["lot_status"], lot.data["iqc"]) for lot in lots] == [("L-NG", "pending", record.id)]
    _approve(world, "quinn")
    world["backend"].run_all()
    assert [lot.data["lot_status"] for lot in records(world, "material_lot")] == ["frozen"]
    with session_scope(world["engine"]) as s:
        told = set(s.execute(select(notifications.c.user_id).where(notifications.c.subject.contains("L-NG"))).scalars())
    people = world["people"]
    assert {people["paula"].user_id, people["quinn"].user_id, people["mona"].user_id, ivan.user_id} <= told


def test_an_accepted_lot_is_released_after_review(world):
    supplier, part = master_data(world)
    ivan = world["people"]["ivan"]
    create(world, "iqc_inspection", inspection(supplier.id, part.id, 1000, lot_no="L-OK"), ivan)
    world["backend"].run_all()
    _approve(world, "quinn")
    world["backend"].run_all()
    assert [lot.data["lot_status"] for lot in records(world, "material_lot")] == ["released"]


def test_supplier_quality_imports_and_scores_a_month(world):
    install_apps(world["engine"], world["admin"], "ncr", "eight_d", "supplier_quality")
    supplier, _part = master_data(world)
    on_time = create(world, "delivery", {"supplier": supplier.id, "po_no": "PO-1", "promised_date": "2026-03-10",
                                         "received_date": "2026-03-08"}).data
    early = create(world, "delivery", {"supplier": supplier.id, "po_no": "PO-2", "promised_date": "2026-03-10",
                                       "received_date": "2026-03-06"}).data
    assert (on_time["on_time"], early["on_time"], str(on_time["period"])[:10]) == (1, 0, "2026-03-01")
    # LAR 95 %, PPM 2550 → 50 points, quality (95 + 50) / 2 = 72.5; OTD 90; 8D 100 → 72.5·.5 + 90·.3 + 100·.2 = 83.25
    card = create(world, "supplier_scorecard", {
        "supplier": supplier.id, "period": "2026-03-01", "lots_inspected": 20, "lots_accepted": 19,
        "received_qty": 100000, "rejected_qty": 255, "deliveries": 10, "deliveries_on_time": 9,
        "eight_d_due": 2, "eight_d_on_time": 2}).data
    assert (card["ppm"], card["ppm_points"], card["quality_points"]) == (2550, 50, 72.5)
    assert (card["total_score"], card["grade"]) == (83.3, "B")
    # a month without 8Ds due leaves service out and re-weights the rest: (72.5·50 + 90·30) / 80 = 79.06
    card = create(world, "supplier_scorecard", {
        "supplier": supplier.id, "period": "2026-04-01", "lots_inspected": 20, "lots_accepted": 19,
        "received_qty": 100000, "rejected_qty": 255, "deliveries": 10, "deliveries_on_time": 9}).data
    assert (card["rated_weight"], card["total_score"], card["grade"]) == (80, 79.1, "C")


def test_the_monthly_rule_scores_the_three_months_before_its_run(world):
    from datetime import datetime, timezone

    from engine.services import rule_defs, rule_events
    install_apps(world["engine"], world["admin"], "ncr", "eight_d", "supplier_quality")
    supplier, part = master_data(world)
    ivan = world["people"]["ivan"]
    for day, defects in (("2026-03-03", ()), ("2026-03-20", [{"code": "dimension", "defect_class": "MA", "qty": 5}]),
                         ("2025-11-02", ())):          # November is outside the window of a 1 April run
        create(world, "iqc_inspection", inspection(supplier.id, part.id, 1000, defects, lot_no=f"L-{day}",
                                                   received_on=day, inspector=ivan.user_id,
                                                   disposition="return_to_supplier" if defects else None), ivan)
    create(world, "delivery", {"supplier": supplier.id, "po_no": "PO-9", "promised_date": "2026-03-10",
                               "received_date": "2026-03-09"})
    with session_scope(world["engine"]) as s:
        rule = rule_defs.load_rule_version(s, world["admin"].tenant_id, "monthly_supplier_scorecard")
        rule_events.schedule_event(s, world["admin"].tenant_id, rule, datetime(2026, 4, 1, 2, 0, tzinfo=timezone.utc))
    world["backend"].run_all()
    cards = {str(r.data["period"])[:10]: r.data for r in records(world, "supplier_scorecard")}
    assert sorted(cards) == ["2026-03-01"]
    march = cards["2026-03-01"]
    assert (march["lots_inspected"], march["lots_accepted"], march["received_qty"]) == (2, 1, 2000)
    assert (march["deliveries"], march["deliveries_on_time"]) == (1, 1)
