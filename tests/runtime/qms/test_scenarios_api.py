"""End-to-end scenarios of the shipped QMS apps through the REST API, each step done by the person
whose job it is (inspector, QE, quality manager, production, the supplier's portal user), acting on
their own tasks from ``GET /api/v1/tasks``:

1. an NG incoming lot → frozen → NCR → supplier 8D answered by the supplier → closed → the month's
   supplier scorecard shows the rejected lot (and the 8D);
2. a drifting IPQC measurement → run-rule violation → an SPC alarm and a notification for the line QE;
3. a customer shipment traced back to the supplier's material lot, and that lot forward to the customer.

The 13 apps are installed once for the module (see :mod:`tests.runtime.qms.support`).
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone

import pytest

from engine.jobs import queue
from engine.services import accounts
from engine.storage.db import session_scope
from tests.runtime.qms.support import Plant, at_eight, build_plant, unique

TODAY = date.today()
MONTH = TODAY.replace(day=1)


@pytest.fixture(scope="module")
def shared(tmp_path_factory) -> Plant:
    return build_plant(tmp_path_factory.mktemp("qms-scenarios"))


@contextmanager
def own_jobs(plant: Plant):
    """The plant's rule runs wait in a deferred queue while the block runs (module-scoped set-ups
    run before the per-test ``deferred_jobs`` fixture is in place)."""
    backend = queue.DeferredBackend()
    previous, plant.jobs = queue.use(backend), backend
    try:
        yield plant
    finally:
        queue.use(previous)
        plant.jobs = None


@pytest.fixture
def plant(shared, deferred_jobs) -> Plant:
    shared.jobs = deferred_jobs
    yield shared
    shared.jobs = None


def master_data(plant: Plant, portal_user: str | None = None) -> tuple[dict, dict]:
    """A qualified supplier (the QM registers it) and its part (the QE adds it)."""
    supplier = plant.create("mary", "supplier", code=unique("S"), name="Acme Castings Co.", category="mechanical",
                            supplier_status="qualified", approved_on="2025-06-01", grade="B",
                            quality_contact=plant.uid("quinn"), purchaser=plant.uid("paula"),
                            portal_user=plant.uid(portal_user) if portal_user else None, contact_name="Li Wei")
    part = plant.create("quinn", "part", part_no=unique("P"), name="Pump housing casting", unit="pcs",
                        drawing_rev="C", supplier=supplier["id"])
    return supplier, part


def incoming(plant: Plant, supplier: dict, part: dict, lot_size: int, defects: list[dict] = (), **extra) -> dict:
    """The inspector records an incoming inspection (the review flow starts by itself)."""
    return plant.create("ivan", "iqc_inspection", supplier=supplier["id"], part=part["id"], lot_no=unique("L"),
                        lot_size=lot_size, po_no=unique("PO"), received_on=TODAY.isoformat(),
                        inspector=plant.uid("ivan"), defects=list(defects), **extra)


def first_of_next(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def lot_status(plant: Plant, iqc: dict) -> str:
    lots = plant.find("material_lot", f'lot_no = "{iqc["data"]["lot_no"]}"')
    assert len(lots) == 1, lots
    return lots[0]["lot_status"]


# ---------------------------------------------------------------------------- 1. NG lot → NCR → 8D → scorecard

def ng_lot_to_ncr(plant: Plant, supplier: dict, part: dict) -> tuple[dict, dict]:
    """An inspection with major defects above Re, reviewed by the QE and the QM: (inspection, NCR)."""
    iqc = incoming(plant, supplier, part, 1200, disposition="return_to_supplier", defects=[
        {"code": "appearance", "description": "Porosity on face A", "defect_class": "MA", "qty": 3},
        {"code": "dimension", "description": "Bore Ø12 oversize", "defect_class": "MA", "qty": 2}])
    data = iqc["data"]
    assert (data["sample_size"], data["ac_major"], data["re_major"]) == (80, 2, 3)     # 1200, II, AQL 1.0: J
    assert data["ma_qty"] == 5 and data["result"] == "reject"
    assert lot_status(plant, iqc) == "pending"
    plant.act("quinn", "iqc_inspection", iqc["id"], comment="5 MA > Re 3: reject")
    assert lot_status(plant, iqc) == "frozen"
    assert plant.at("iqc_inspection", iqc["id"]) == {"qm_review"}
    assert plant.find("ncr", f"iqc = {iqc['id']}") == []                 # not before the QM confirms
    plant.act("mary", "iqc_inspection", iqc["id"])
    assert plant.state("iqc_inspection", iqc["id"]) == "approved"
    [ncr] = plant.find("ncr", f"iqc = {iqc['id']}")
    return iqc, ncr


def answer_8d(plant: Plant, report_id: int) -> None:
    """The supplier's portal user answers D1–D7, the QE verifies (signed), the champion closes D8."""
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    steps = [("d1_d2", {"d1_team": [{"name": "Li Wei", "department": "Quality", "team_role": "supplier"}],
                        "d2_statement": "Porosity on face A and oversize bore, 5 of 80 sampled"}),
             ("d3", {"d3_actions": [{"action": "100 % X-ray of stock", "scope": "warehouse", "qty_checked": 3400,
                                     "qty_found": 12}], "d3_completed_at": now, "d3_clean_point": "Date code 2026-W12"}),
             ("d4_d5", {"d4_occ_why1": "Gas in the melt", "d4_occurrence_cause": "Degassing time too short",
                        "d4_occurrence_6m": "method", "d4_escape_cause": "No X-ray on face A",
                        "d4_escape_6m": "measurement", "d4_verified": True,
                        "d5_actions": [{"cause_type": "occurrence", "action": "Degassing 12 min", "owner": "Li Wei",
                                        "due": (TODAY + timedelta(days=10)).isoformat()}]}),
             ("d6_d7", {"d6_validation": "0 porosity in 5 lots", "d7_pfmea_updated": True})]
    for node, data in steps:
        assert plant.at("eight_d", report_id) == {node}
        plant.act("sid", "eight_d", report_id, data=data)
    assert plant.at("eight_d", report_id) == {"verify"}
    plant.act("quinn", "eight_d", report_id, data={"verify_result": "effective", "verify_comment": "3 lots clean"})
    assert plant.at("eight_d", report_id) == {"d8"}
    plant.act("quinn", "eight_d", report_id, data={"d8_recognition": "Thanks, casting team",
                                                   "closed_on": TODAY.isoformat()})
    assert plant.state("eight_d", report_id) == "approved"


@pytest.fixture(scope="module")
def supplier_case(shared) -> dict:
    """Scenario 1 played once for the module; what each step left behind."""
    plant = shared
    with own_jobs(plant):
        supplier, part = master_data(plant, portal_user="sid")
        with session_scope(plant.engine) as s:                # the admin links the portal login to its supplier
            accounts.set_user_attributes(s, plant.admin.tenant_id, plant.uid("sid"), {"supplier_id": supplier["id"]})
        accepted = incoming(plant, supplier, part, 800)     # one good lot the same month
        plant.act("quinn", "iqc_inspection", accepted["id"])
        iqc, ncr = ng_lot_to_ncr(plant, supplier, part)
        case = {"supplier": supplier, "part": part, "iqc": iqc, "accepted": accepted, "ncr": ncr,
                "frozen_lot": lot_status(plant, iqc)}
        plant.act("quinn", "ncr", ncr["id"], data={"responsibility": "supplier", "qe": plant.uid("quinn"),
                                                   "containment": "Lot on hold in area R2, sorting at our dock"})
        case["eight_d"] = plant.find("eight_d", f"ncr = {ncr['id']}")
        case["ncr_nodes_after_review"] = plant.at("ncr", ncr["id"])
        plant.act("quinn", "ncr", ncr["id"], data={"closed_on": TODAY.isoformat(),
                                                   "closure_comment": "Returned to the supplier, RMA 2211"})
        case["ncr_state"] = plant.state("ncr", ncr["id"])
        case["lot_after_ncr"] = lot_status(plant, iqc)
        case["sid_tasks"] = plant.tasks("sid")
        case["sid_notes"] = plant.notifications("sid")
        answer_8d(plant, case["eight_d"][0]["id"])
        case["eight_d_closed"] = plant.get("eight_d", case["eight_d"][0]["id"])
        # the rule summarises complete months on the 1st: this month on the next 1st, the 8D (due in 30
        # days) on the 1st after its due month
        plant.run_schedule("supplier_quality", "monthly_supplier_scorecard", at_eight(first_of_next(TODAY)))
        due = date.fromisoformat(case["eight_d_closed"]["due_date"])
        plant.run_schedule("supplier_quality", "monthly_supplier_scorecard", at_eight(first_of_next(due)))
        case["scorecards"] = plant.find("supplier_scorecard", f"supplier = {supplier['id']}")
        case["portal_scorecards"] = plant.find("supplier_scorecard", "TRUE", who="sid")
    return case


def test_ng_lot_is_frozen_and_opens_a_prefilled_ncr(supplier_case):
    c = supplier_case
    assert c["frozen_lot"] == "frozen"
    ncr, iqc = c["ncr"], c["iqc"]["data"]
    assert (ncr["source"], ncr["supplier"], ncr["part"], ncr["lot_no"]) == ("iqc", c["supplier"]["id"], c["part"]["id"],
                                                                           iqc["lot_no"])
    assert (ncr["qty_nc"], ncr["qty_suspect"], ncr["defect_class"]) == (5, 1200, "MA")
    assert ncr["disposition"] == "return_to_supplier" and iqc["inspection_no"] in ncr["description"]
    assert sorted((d["code"], d["qty"]) for d in ncr["defects"]) == [("appearance", 3), ("dimension", 2)]


def test_supplier_ncr_opens_the_supplier_8d_and_the_return_returns_the_lot(supplier_case):
    c = supplier_case
    [report] = c["eight_d"]
    assert (report["source"], report["supplier"], report["supplier_contact"]) == ("ncr", c["supplier"]["id"],
                                                                                 c["supplier"]["data"]["portal_user"])
    assert report["source_no"] == c["ncr"]["ncr_no"]
    # return to supplier needs no MRB vote: the QE review routes straight to the QE's confirmation
    assert c["ncr_nodes_after_review"] == {"qe_confirm"}
    assert (c["ncr_state"], c["lot_after_ncr"]) == ("approved", "returned")
    assert [(t["form_key"], t["node_id"]) for t in c["sid_tasks"]] == [("eight_d", "d1_d2")]
    assert any(report["report_no"] in n["subject"] for n in c["sid_notes"])


def test_the_supplier_answers_the_8d_and_the_champion_closes_it(supplier_case):
    closed = supplier_case["eight_d_closed"]
    assert closed["d4_occurrence_cause"] == "Degassing time too short" and closed["verify_result"] == "effective"
    assert closed["closed_on"] == TODAY.isoformat() and closed["closed_on_time"] == 1 and closed["d3_on_time"] == 1


def test_the_monthly_scorecard_shows_the_rejected_lot(supplier_case):
    c = supplier_case
    [card] = [s for s in c["scorecards"] if s["period"] == MONTH.isoformat()]
    assert (card["lots_inspected"], card["lots_accepted"]) == (2, 1)
    assert (card["received_qty"], card["rejected_qty"]) == (2000, 1200)
    assert card["lar"] == 50 and card["ppm"] == 600000 and card["grade"] in ("C", "D")
    assert sorted(s["id"] for s in c["portal_scorecards"]) == sorted(s["id"] for s in c["scorecards"])  # its own only


def test_the_monthly_scorecard_counts_the_suppliers_8d(supplier_case):
    """The 8D counts on the card of the month it was due (closed on time: 100 %)."""
    due_month = date.fromisoformat(supplier_case["eight_d_closed"]["due_date"]).replace(day=1).isoformat()
    counted = [(s["period"], s["eight_d_due"], s["eight_d_on_time"], s["eight_d_rate"])
               for s in supplier_case["scorecards"] if s["eight_d_due"]]
    assert counted == [(due_month, 1, 1, 100)], supplier_case["scorecards"]


# ---------------------------------------------------------------------------- 2. drifting IPQC → SPC alarm → line QE

STEADY = [0.004, -0.003, 0.005, -0.004, 0.001, 0.003, -0.005, 0.002, -0.002, 0.004, -0.001, -0.004]
SHIFT = [0.002, 0.005, 0.008, 0.011, 0.014, 0.017, 0.020]      # the subgroup means walk up: a trend, then 3σ
SPREAD = [-0.01, 0.005, 0.0, 0.01, -0.005]                     # five readings per patrol, range 0.02


def test_a_drifting_ipqc_measurement_raises_an_spc_alarm_for_the_line_qe(plant):
    line = plant.create("mary", "production_line", code=unique("LINE"), name="Machining line 2", workshop="W2",
                        line_qe=plant.uid("quinn"))
    product = plant.create("mary", "part", part_no=unique("FG"), name="Pump housing (machined)", is_product=True)
    characteristic = f"Bore Ø10 {unique('C')}"

    def patrol(offset: float) -> dict:
        return plant.create("ivan", "ipqc_check", check_type="patrol", line=line["id"], part=product["id"],
                            shift="day", process="OP20 finish turning", characteristic=characteristic, nominal=10.0,
                            lsl=9.95, usl=10.05, inspector=plant.uid("ivan"),
                            checked_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                            readings=[{"value": round(10.0 + offset + d, 4)} for d in SPREAD])

    mine = f'characteristic = "{characteristic}"'
    for offset in STEADY:
        assert patrol(offset)["data"]["result"] == "OK"
    assert plant.find("spc_alarm", mine) == []
    for offset in SHIFT:
        patrol(offset)
    alarms = plant.find("spc_alarm", mine, who="quinn")
    assert alarms, "the shift was not flagged"
    alarm = alarms[0]
    assert (alarm["line"], alarm["line_qe"], alarm["part"]) == (line["id"], plant.uid("quinn"), product["id"])
    assert alarm["rules"].startswith("[") and alarm["alarm_no"]
    assert plant.at("spc_alarm", alarm["id"]) == {"investigate"}
    assert any(t["record_id"] == alarm["id"] for t in plant.tasks("quinn", "spc_alarm"))
    notes = [n for n in plant.notifications("quinn") if characteristic in n["subject"]]
    told = [n for n in notes if "SPC out of control" in n["subject"]]         # besides "waiting for you" (the task)
    assert len(told) == len(alarms) and not any(n["read"] for n in told), notes
    assert "Rules violated" in told[-1]["body"] and told[-1]["link"].endswith(f"/spc_alarm/{alarm['id']}")
    assert not [n for n in plant.notifications("qiu") if characteristic in n["subject"]]      # the line's QE only


# ---------------------------------------------------------------------------- 3. trace shipment ⇄ supplier lot

def test_a_shipment_traces_back_to_the_supplier_lot_and_the_lot_forward_to_the_customer(plant):
    supplier, material = master_data(plant)
    product = plant.create("mary", "part", part_no=unique("FG"), name="Pump assembly", is_product=True)
    line = plant.create("mary", "production_line", code=unique("LINE"), name="Assembly line 1", workshop="W1",
                        line_qe=plant.uid("quinn"))
    customer = plant.create("mary", "customer", code=unique("C"), name="Delta Motors", region="East China")
    iqc = incoming(plant, supplier, material, 1000)
    plant.act("quinn", "iqc_inspection", iqc["id"])
    [lot] = plant.find("material_lot", f'lot_no = "{iqc["data"]["lot_no"]}"')
    assert lot["lot_status"] == "released" and lot["iqc"] == iqc["id"]
    batch = plant.create("owen", "production_batch", part=product["id"], line=line["id"], shift="day",
                         started_at=datetime.now(timezone.utc).isoformat(timespec="seconds"), planned_qty=300,
                         materials=[{"material_lot": lot["id"], "qty_used": 300}])
    finished = plant.create("owen", "finished_lot", lot_no=unique("FL"), batch=batch["id"], part=product["id"],
                            qty=290, produced_on=TODAY.isoformat())
    fqc = plant.create("ivan", "fqc_inspection", part=product["id"], lot_no=finished["data"]["lot_no"], lot_size=290,
                       inspector=plant.uid("ivan"), inspected_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
    assert fqc["data"]["result"] == "accept"
    assert plant.get("finished_lot", finished["id"])["lot_status"] == "released"
    shipment = plant.create("owen", "shipment", customer=customer["id"], shipped_on=TODAY.isoformat(),
                            destination="Shanghai", items=[{"finished_lot": finished["id"], "qty": 200}])

    back = plant.call("quinn", "GET", f"/api/v1/trace/shipment/{shipment['id']}?direction=backward")
    reached = {(n["form"], n["id"]) for n in back["nodes"]}
    assert {("finished_lot", finished["id"]), ("production_batch", batch["id"]), ("material_lot", lot["id"]),
            ("supplier", supplier["id"])} <= reached, reached
    forward = plant.call("quinn", "GET", f"/api/v1/trace/material_lot/{lot['id']}?direction=forward")
    reached = {(n["form"], n["id"]) for n in forward["nodes"]}
    assert {("production_batch", batch["id"]), ("finished_lot", finished["id"]), ("shipment", shipment["id"])} <= reached
    assert ("customer", customer["id"]) in reached, reached
