"""The ncr, eight_d and capa app packages: they import after qms_base and iqc, and their processes
run end to end — a rejected incoming lot opens a pre-filled NCR, the NCR's MRB flow decides a
disposition that releases (or returns) the lot and books its cost, a supplier NCR opens a supplier
8D that the supplier's portal user answers D1–D7, the QE verifies it (one round sent back to D4)
and the champion closes it; a CAPA runs owner → plan approval → implementation → closure and its
90-day effectiveness reminder reaches the owner.
"""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import pytest

from engine.errors import RecordValidationError
from engine.services import accounts, printing, reports
from engine.services import records as record_service
from engine.services.apps import import_app
from engine.storage.db import session_scope
from templates_qms.catalog import keys, load_package
from tests.templates_qms.support import Plant, form_refs, install

ORDER = ("qms_base", "iqc", "ncr", "eight_d", "capa")          # the catalog's first five apps
MINE = ("ncr", "eight_d", "capa")
PEOPLE = {"ivan": ["inspector"], "quinn": ["quality_engineer"], "mary": ["quality_manager"], "mia": ["mrb"],
          "max": ["mrb"], "paula": ["purchasing"], "owen": ["production"], "sid": ["supplier_portal"]}


@pytest.fixture
def plant(db_engine, actor, deferred_jobs) -> Plant:
    """The five packages, their people, a supplier (whose portal user is sid) and a part; creating a
    record leaves its jobs queued until ``run_jobs``."""
    p = Plant(db_engine, actor, deferred_jobs, settle=False)
    with p.session() as s:
        install(s, actor, ORDER)
        p.hire(s, PEOPLE, external=("sid",))
    sid = p.uid("sid")
    p.ids["supplier"] = p.create("supplier", "mary", code="S-001", name="Acme Castings", category="mechanical",
                                 supplier_status="qualified", approved_on=date(2025, 6, 1), grade="B", portal_user=sid,
                                 quality_contact=p.uid("quinn"))
    p.ids["part"] = p.create("part", "mary", part_no="P-100", name="Housing", drawing_rev="B",
                             supplier=p.ids["supplier"])
    with p.session() as s:
        accounts.set_user_attributes(s, actor.tenant_id, sid, {"supplier_id": p.ids["supplier"]})
        p.people["sid"] = accounts.actor_for_user(s, sid)
    p.run_jobs()
    return p


def rejected_lot(plant: Plant, lot_no: str = "L-2026-001") -> int:
    """An incoming inspection with 5 major defects in its sample, reviewed and rejected; returns its id."""
    iqc = plant.create("iqc_inspection", "ivan", supplier=plant.ids["supplier"], part=plant.ids["part"], lot_no=lot_no,
                       lot_size=1200, po_no="PO-88", received_on=date.today(), inspector=plant.people["ivan"].user_id,
                       disposition="mrb", inspected_qty=80,
                       defects=[{"code": "appearance", "description": "Porosity on face A", "defect_class": "MA",
                                 "qty": 3},
                                {"code": "dimension", "description": "Burr on bore", "defect_class": "MA", "qty": 2}])
    plant.run_jobs()
    assert plant.get("iqc_inspection", iqc)["result"] == "reject"
    plant.act("iqc_inspection", iqc, "quinn", data={"disposition": "return_to_supplier"})
    plant.act("iqc_inspection", iqc, "mary")
    return iqc


def ncr_of(plant: Plant, iqc: int) -> dict:
    found = plant.find("ncr", iqc=iqc)
    assert len(found) == 1, found
    return found[0]


def lot_status(plant: Plant, lot_no: str) -> str:
    return plant.find("material_lot", lot_no=lot_no)[0]["lot_status"]


# ---------------------------------------------------------------------------- the packages

def test_catalog_installs_these_apps_first_in_this_order():
    assert tuple(keys()[:len(ORDER)]) == ORDER


@pytest.mark.parametrize("key", MINE)
def test_package_is_valid_and_complete(key):
    package = load_package(key)
    assert package["key"] == key and package["version"] == "1.0.0"
    assert set(package["requires"]) <= set(ORDER[:ORDER.index(key)])
    for slot in ("forms", "flows", "rules", "reports", "roles"):
        assert package[slot], slot
    text = json.dumps(package, ensure_ascii=False)
    assert "TODO" not in text
    for form in package["forms"]:
        assert form["label"]["zh-CN"] and form["label"]["en"] and form.get("title_template")


def test_packages_import_in_catalog_order_and_reimport_unchanged(db_engine, actor):
    with session_scope(db_engine) as s:
        install(s, actor, ORDER)
    with session_scope(db_engine) as s:
        again = import_app(s, actor, load_package("ncr"))
    assert again.published == () and set(again.unchanged) == {"ncr", "quality_cost"}


@pytest.mark.parametrize("key", MINE)
def test_packages_refer_only_to_their_own_or_earlier_forms(key):
    allowed = {f["key"] for k in ORDER[:ORDER.index(key) + 1] for f in load_package(k)["forms"]}
    assert form_refs(load_package(key)) <= allowed


# ---------------------------------------------------------------------------- NCR

def test_rejected_incoming_lot_opens_a_prefilled_ncr_in_review(plant):
    iqc = rejected_lot(plant)
    ncr = ncr_of(plant, iqc)
    inspection = plant.get("iqc_inspection", iqc)
    assert ncr["source"] == "iqc" and ncr["supplier"] == plant.ids["supplier"] and ncr["part"] == plant.ids["part"]
    assert ncr["lot_no"] == "L-2026-001" and ncr["po_no"] == "PO-88" and ncr["qty_nc"] == 5
    assert ncr["qty_suspect"] == 1200 and ncr["qty_inspected"] == inspection["sample_size"]
    assert ncr["defect_class"] == "MA" and ncr["disposition"] == "return_to_supplier"
    assert ncr["ncr_no"].startswith("NCR-") and inspection["inspection_no"] in ncr["description"]
    assert [(d["code"], d["qty"]) for d in ncr["defects"]] == [("appearance", 3), ("dimension", 2)]
    assert plant.at("ncr", ncr["id"]) == {"qe_review"}
    assert lot_status(plant, "L-2026-001") == "frozen"


def test_concession_needs_mrb_signatures_and_deviation_then_releases_the_lot(plant):
    ncr = ncr_of(plant, rejected_lot(plant))["id"]
    plant.act("ncr", ncr, "quinn", data={"disposition": "concession", "responsibility": "process",
                                         "qe": plant.people["quinn"].user_id, "containment": "Lot on hold in area R2"})
    assert plant.at("ncr", ncr) == {"mrb"}
    with pytest.raises(Exception):                                   # the MRB decision is e-signed
        plant.act("ncr", ncr, "mia", password="wrong")
    plant.act("ncr", ncr, "mia", data={"mrb_comment": "Porosity outside sealing face: acceptable"})
    assert plant.at("ncr", ncr) == {"mrb"}                           # all MRB members must approve
    plant.act("ncr", ncr, "max")
    assert plant.at("ncr", ncr) == {"deviation"}
    plant.act("ncr", ncr, "mary", data={"deviation_no": "DEV-2026-014", "deviation_qty": 1200})
    assert plant.at("ncr", ncr) == {"qe_confirm"} and lot_status(plant, "L-2026-001") == "frozen"
    plant.act("ncr", ncr, "quinn", data={"sorting_cost": 350, "other_cost": 50, "closed_on": date.today()})
    assert plant.instance("ncr", ncr)["state"] == "approved"
    assert lot_status(plant, "L-2026-001") == "released"
    cost = plant.find("quality_cost", ncr=ncr)
    assert len(cost) == 1 and float(cost[0]["total"]) == 400 and cost[0]["source_type"] == "ncr"
    assert cost[0]["chargeback"] is False
    with plant.session() as s:                                 # the NCR for the lot folder, with its signatures
        html = printing.record_html(s, plant.people["quinn"], "ncr", ncr)
    for text in ("DEV-2026-014", "Porosity outside sealing face", "Mia", "Max", "Total cost"):
        assert text in html, text


def test_return_to_supplier_skips_mrb_and_returns_the_lot(plant):
    ncr = ncr_of(plant, rejected_lot(plant, "L-2026-002"))["id"]
    plant.act("ncr", ncr, "quinn", data={"responsibility": "logistics"})      # disposition pre-filled: return
    assert plant.at("ncr", ncr) == {"qe_confirm"}
    plant.act("ncr", ncr, "quinn", data={"closed_on": date.today()})
    assert lot_status(plant, "L-2026-002") == "returned"
    assert plant.find("quality_cost", ncr=ncr) == []                         # no cost booked, no ledger entry


def test_scrap_keeps_the_lot_frozen(plant):
    ncr = ncr_of(plant, rejected_lot(plant, "L-2026-003"))["id"]
    plant.act("ncr", ncr, "quinn", data={"disposition": "scrap", "responsibility": "process"})
    plant.act("ncr", ncr, "quinn", data={"scrap_cost": 1800, "closed_on": date.today()})
    assert lot_status(plant, "L-2026-003") == "frozen"
    assert float(plant.find("quality_cost", ncr=ncr)[0]["total"]) == 1800
    with plant.session() as s:
        by_disposition = reports.run_report(s, plant.people["mary"], "ncr_cost_by_disposition").data
        by_responsibility = reports.run_report(s, plant.people["quinn"], "ncr_by_responsibility").data
    assert "1800" in json.dumps(by_disposition, default=str) and "scrap" in json.dumps(by_disposition, default=str)
    assert "process" in json.dumps(by_responsibility, default=str)


def test_qe_review_cannot_leave_the_disposition_blank(plant):
    ncr = plant.create("ncr", "owen", source="ipqc", qty_nc=4, description="Scratches on cover", lot_no="W-77")
    plant.start("ncr", ncr, "owen")
    plant.act("ncr", ncr, "quinn", data={"responsibility": "process"})
    assert plant.at("ncr", ncr) == {"qe_review"}                     # back to the QE until a disposition is chosen
    with pytest.raises(RecordValidationError):                       # the QE step cannot write MRB fields
        plant.act("ncr", ncr, "quinn", data={"mrb_comment": "self-approved"})


def test_supplier_portal_sees_only_its_own_ncrs_without_costs(plant):
    own = ncr_of(plant, rejected_lot(plant))["id"]
    other_supplier = plant.create("supplier", "mary", code="S-002", name="Other Co", supplier_status="potential")
    plant.create("ncr", "quinn", source="supplier", supplier=other_supplier, qty_nc=1, description="Wrong label")
    with plant.session() as s:
        items = record_service.query_records(s, plant.people["sid"], "ncr", sort="id").items
    assert [r.id for r in items] == [own]
    assert "total_cost" not in items[0].values
    with plant.session() as s:
        assert "Total cost" not in printing.record_html(s, plant.people["sid"], "ncr", own)


# ---------------------------------------------------------------------------- 8D

def supplier_8d(plant: Plant) -> tuple[int, int]:
    """A rejected lot whose NCR the QE puts on the supplier: (ncr id, 8D id)."""
    ncr = ncr_of(plant, rejected_lot(plant))["id"]
    plant.act("ncr", ncr, "quinn", data={"responsibility": "supplier", "qe": plant.people["quinn"].user_id,
                                         "containment": "Sorting at our dock"})
    found = plant.find("eight_d", ncr=ncr)
    assert len(found) == 1
    return ncr, found[0]["id"]


def test_supplier_ncr_opens_an_8d_whose_first_task_is_the_supplier_contacts(plant):
    ncr, eight_d = supplier_8d(plant)
    report = plant.get("eight_d", eight_d)
    assert report["source"] == "ncr" and report["supplier"] == plant.ids["supplier"]
    assert report["supplier_contact"] == plant.people["sid"].user_id
    assert report["source_no"] == plant.get("ncr", ncr)["ncr_no"] and report["leader"] == plant.people["quinn"].user_id
    assert report["d0_symptom"] and report["report_no"].startswith("8D-")
    tasks = plant.open_tasks("eight_d", eight_d)
    assert [(t["node_id"], t["assignee_id"]) for t in tasks] == [("d1_d2", plant.people["sid"].user_id)]
    assert any(report["report_no"] in n["subject"] and "D3" in n["body"] for n in plant.inbox("sid"))
    with plant.session() as s:                                   # the supplier reads its own 8D
        assert record_service.get_record(s, plant.people["sid"], "eight_d", eight_d).id == eight_d


def test_8d_runs_d0_to_d8_with_effectiveness_verification(plant):
    _ncr, d = supplier_8d(plant)
    now = datetime.now(timezone.utc)
    team = [{"name": "Li Wei", "department": "Quality", "team_role": "supplier"}]
    plant.act("eight_d", d, "sid", data={"d1_team": team, "d2_statement": "Porosity on face A, lot L-2026-001"})
    with pytest.raises(RecordValidationError):                   # D3 step: D4 fields are not open yet
        plant.act("eight_d", d, "sid", data={"d4_occurrence_cause": "too early"})
    plant.act("eight_d", d, "sid", data={"d3_actions": [{"action": "100 % X-ray of stock", "scope": "warehouse",
                                                         "qty_checked": 3400, "qty_found": 12}],
                                         "d3_completed_at": now, "d3_clean_point": "Date code 2026-W12"})
    assert plant.get("eight_d", d)["d3_on_time"] == 1
    d4 = {"d4_occ_why1": "Gas in the melt", "d4_occurrence_cause": "Degassing time too short",
          "d4_occurrence_6m": "method", "d4_escape_cause": "No X-ray on face A", "d4_escape_6m": "measurement",
          "d5_actions": [{"cause_type": "occurrence", "action": "Degassing 12 min", "owner": "Li Wei",
                          "due": date.today() + timedelta(days=10)}]}
    plant.act("eight_d", d, "sid", data=d4)
    plant.act("eight_d", d, "sid", data={"d6_validation": "0 porosity in 5 lots", "d7_pfmea_updated": True})
    assert plant.at("eight_d", d) == {"verify"}
    plant.act("eight_d", d, "quinn", "reject", comment="Escape action missing", to_node="d4_d5", password=None)
    assert plant.at("eight_d", d) == {"d4_d5"}
    plant.act("eight_d", d, "sid", data={"d4_verified": True})
    plant.act("eight_d", d, "sid")
    plant.act("eight_d", d, "quinn", data={"verify_result": "effective", "verify_comment": "3 lots clean"})
    assert plant.at("eight_d", d) == {"d8"}
    plant.act("eight_d", d, "quinn", data={"d8_recognition": "Thanks, casting team", "closed_on": date.today()})
    report = plant.get("eight_d", d)
    assert plant.instance("eight_d", d)["state"] == "approved" and report["closed_on_time"] == 1
    with plant.session() as s:                                 # the 8D report the supplier prints
        html = printing.record_html(s, plant.people["sid"], "eight_d", d)
    for text in (report["report_no"], "Degassing time too short", "100 % X-ray of stock", "Gas in the melt", "D8"):
        assert text in html, text


def test_verification_marked_not_effective_goes_back_to_d4(plant):
    d = plant.create("eight_d", "quinn", problem_title="Field returns: connector loose", source="internal",
                     leader=plant.people["quinn"].user_id, champion=plant.people["mary"].user_id)
    plant.start("eight_d", d, "quinn")
    assert [t["assignee_id"] for t in plant.open_tasks("eight_d", d)] == [plant.people["quinn"].user_id]
    for _ in range(4):                                          # internal 8D: the leader answers D1–D7
        plant.act("eight_d", d, "quinn")
    plant.act("eight_d", d, "quinn", data={"verify_result": "not_effective"})
    assert plant.at("eight_d", d) == {"d4_d5"}
    due = plant.get("eight_d", d)["due_date"]
    assert due == date.today() + timedelta(days=30)
    assert plant.schedule("eight_d", "eight_d_overdue", due) == []
    assert len(plant.schedule("eight_d", "eight_d_overdue", due + timedelta(days=1))) == 1
    assert any("past its closure date" in n["subject"] for n in plant.inbox("mary"))      # the champion


# ---------------------------------------------------------------------------- CAPA

def test_capa_runs_to_closure_and_reminds_the_owner_after_90_days(plant):
    owen = plant.people["owen"].user_id
    capa = plant.create("capa", "quinn", capa_title="Recurring porosity", source="eight_d", capa_type="corrective",
                        problem="Porosity escapes to the customer", owner=owen)
    plant.start("capa", capa, "quinn")
    plant.act("capa", capa, "owen", data={"root_cause": "Degassing time", "cause_category": "method",
                                          "five_why": [{"why": "Why porosity?", "because": "Gas in the melt"}],
                                          "actions": [{"action": "Update WI-22", "owner": owen,
                                                       "due": date.today() + timedelta(days=14)}]})
    plant.act("capa", capa, "mary")                             # plan approval, e-signed
    rows = plant.get("capa", capa)["actions"]
    plant.act("capa", capa, "owen", data={"actions": [dict(rows[0], action_status="done", done_on=date.today())]})
    assert plant.get("capa", capa)["open_actions"] == 0
    plant.act("capa", capa, "mary")                             # closure without a date: asked again
    assert plant.at("capa", capa) == {"closure"}
    closed = date(2026, 3, 2)
    plant.act("capa", capa, "mary", data={"closed_on": closed})
    assert plant.get("capa", capa)["verify_due"] == closed + timedelta(days=90)
    assert plant.schedule("capa", "capa_effectiveness_due", closed + timedelta(days=89)) == []
    assert len(plant.schedule("capa", "capa_effectiveness_due", closed + timedelta(days=90))) == 1
    capa_no = plant.get("capa", capa)["capa_no"]
    assert any(capa_no in n["subject"] and "effectiveness" in n["subject"] for n in plant.inbox("owen"))

