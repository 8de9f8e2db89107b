"""The traceability and qms_dashboards packages: each imports after every package before it in the
catalogue; a frozen material lot cannot be consumed (a lookup in a sub-table + COUNTIF); the FQC
decision releases or holds the finished lot; only released lots ship; the nightly KPI rules
summarise IQC/IPQC/FQC into quality_kpi; every report checks and every dashboard runs on a small
data set made through the engine services."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from engine.errors import RecordValidationError
from engine.jobs import queue
from engine.reports.definition import check_report
from engine.services import apps as app_service
from engine.services import dashboards as dashboard_service
from engine.services import forms as form_service
from engine.services import records as record_service
from engine.services import rule_defs
from engine.services.rule_events import schedule_event
from engine.storage.db import make_engine, session_scope, upgrade_database
from engine.types import Actor
from templates_qms.catalog import keys, load_package
from tests.engine.storage.support import create_tenant
from tests.templates_qms.support import install

NOW = datetime(2026, 3, 20, 9, 0, tzinfo=timezone.utc)
DASHBOARDS = ("supplier_quality_board", "process_quality_board", "copq_board")


class World:
    """One tenant with every package installed and a small data set, shared by the module's tests."""

    def __init__(self, engine, admin: Actor):
        self.engine, self.admin, self.ids = engine, admin, {}

    def create(self, form: str, data: dict, now: datetime = NOW):
        with session_scope(self.engine) as s:
            return record_service.create_record(s, self.admin, form, data, now=now)

    def get(self, form: str, record_id: int):
        with session_scope(self.engine) as s:
            return record_service.get_record(s, self.admin, form, record_id)

    def update(self, form: str, record_id: int, data: dict):
        current = self.get(form, record_id)
        with session_scope(self.engine) as s:
            return record_service.update_record(s, self.admin, form, record_id, current.version, data)

    def records(self, form: str) -> list:
        with session_scope(self.engine) as s:
            return record_service.query_records(s, self.admin, form, sort="id", per_page=500).items


def _master_data(w: World) -> None:
    ids = w.ids
    ids["acme"] = w.create("supplier", {"code": "S-ACME", "name": "Acme Plastics"}).id
    ids["bolt"] = w.create("supplier", {"code": "S-BOLT", "name": "Bolt Metals"}).id
    for key, part_no, name, supplier in (("resin", "M-RESIN", "PC resin", "acme"),
                                         ("screw", "M-SCREW", "M3 screw", "bolt")):
        ids[key] = w.create("part", {"part_no": part_no, "name": name, "supplier": ids[supplier], "unit": "PCS"}).id
    ids["housing"] = w.create("part", {"part_no": "P-HOUSING", "name": "Housing", "is_product": True, "unit": "PCS"}).id
    ids["cover"] = w.create("part", {"part_no": "P-COVER", "name": "Cover", "is_product": True, "unit": "PCS"}).id
    ids["line"] = w.create("production_line", {"code": "L1", "name": "Moulding line 1"}).id
    ids["customer"] = w.create("customer", {"code": "C-BIG", "name": "BigCo"}).id


def _iqc(w: World, supplier: str, part: str, lot: str, received: date, defects: list[dict]):
    return w.create("iqc_inspection", {"supplier": w.ids[supplier], "part": w.ids[part], "lot_no": lot, "lot_size": 500,
                                       "inspected_qty": 50, "received_on": received.isoformat(), "defects": defects,
                                       "disposition": "return_to_supplier" if defects else None})


def _quality_data(w: World) -> None:
    ids = w.ids
    _iqc(w, "acme", "resin", "A-01", date(2026, 2, 3), [])
    _iqc(w, "acme", "resin", "A-02", date(2026, 3, 4), [{"code": "appearance", "defect_class": "MA", "qty": 4}])
    _iqc(w, "bolt", "screw", "B-01", date(2026, 2, 10), [])
    _iqc(w, "bolt", "screw", "B-02", date(2026, 3, 11),
         [{"code": "dimension", "defect_class": "MI", "qty": 1}, {"code": "marking", "defect_class": "MI", "qty": 2}])
    for i, values in enumerate(([10.01, 10.02, 9.99, 10.0, 10.01], [10.03, 9.98, 10.0, 10.02, 10.01],
                                [9.99, 10.0, 10.01, 10.02, 10.0], [10.04, 10.05, 10.03, 10.06, 10.02])):
        w.create("ipqc_check", {"line": ids["line"], "part": ids["housing"], "shift": "day", "process": "Moulding",
                                "characteristic": "Wall thickness", "nominal": 10.0, "lsl": 9.9, "usl": 10.1,
                                "checked_at": f"2026-03-{2 + i:02d}T10:00:00+00:00",
                                "readings": [{"value": v} for v in values]})
    for lot, part, defects in (("FL-H1", "housing", []), ("FL-C1", "cover", [{"description": "Scratch",
                                                                            "defect_class": "MI", "qty": 3}])):
        w.create("fqc_inspection", {"part": ids[part], "lot_no": lot, "lot_size": 1000, "defects": defects,
                                    "inspected_at": "2026-03-05T08:00:00+00:00"})
    for period, supplier, rework, scrap, claims in (("2026-02-01", "acme", 800, 200, 0),
                                                    ("2026-03-01", "acme", 500, 0, 3000),
                                                    ("2026-03-01", "bolt", 0, 150, 0), ("2026-03-01", None, 90, 60, 0)):
        w.create("quality_cost", {"period": period, "source_type": "ncr", "category": "internal_failure",
                                  "supplier": ids[supplier] if supplier else None, "part": ids["resin"],
                                  "rework": rework, "scrap": scrap, "claims": claims})
    w.create("quality_cost", {"period": "2026-03-01", "source_type": "other", "category": "prevention", "other": 99999})
    for title, supplier, closed in (("Flash on housing", "acme", "2026-02-25"),      # on time
                                    ("Burr on screw", "bolt", "2026-03-10")):         # late
        w.create("eight_d", {"problem_title": title, "supplier": ids[supplier], "leader": w.admin.user_id,
                             "opened_on": "2026-02-01", "due_date": "2026-03-01", "closed_on": closed})
    for supplier, accepted, rejected in (("acme", 8, 3000), ("bolt", 10, 0)):
        w.create("supplier_scorecard", {"supplier": ids[supplier], "period": "2026-02-01", "lots_inspected": 10,
                                        "lots_accepted": accepted, "received_qty": 100000, "rejected_qty": rejected})


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('tplc') / 'qms.db'}")
    upgrade_database(engine)
    admin = Actor(tenant_id=create_tenant(engine), user_id=4242, lang="en", name="Admin", is_admin=True)
    backend = queue.DeferredBackend()
    previous = queue.use(backend)
    try:
        with session_scope(engine) as s:
            install(s, admin)
        w = World(engine, admin)
        _master_data(w)
        _quality_data(w)
        backend.run_all()
        yield w
    finally:
        queue.use(previous)
        engine.dispose()


# --------------------------------------------------------------------------- the packages

def test_both_packages_import_after_every_earlier_package_in_a_fresh_tenant(db_engine, actor):
    for key in ("traceability", "qms_dashboards"):
        earlier = keys()[:keys().index(key)]
        assert set(load_package(key)["requires"]) <= set(earlier), key  # only earlier packages are referred to
    with session_scope(db_engine) as s:
        install(s, actor)
    with session_scope(db_engine) as s:
        apps = {a["key"]: a["forms"] for a in app_service.list_apps(s, actor.tenant_id)}
    assert apps["traceability"] == ["production_batch", "finished_lot", "shipment"]
    assert apps["qms_dashboards"] == ["quality_kpi"]
    again = []                                                          # a re-import changes nothing
    for key in ("traceability", "qms_dashboards"):
        with session_scope(db_engine) as s:
            again.append(app_service.import_app(s, actor, load_package(key)).published)
    assert again == [(), ()]


def test_every_report_checks_against_the_published_forms(world):
    with session_scope(world.engine) as s:
        forms = form_service.published_forms(s, world.admin.tenant_id)
    reports = load_package("qms_dashboards")["reports"]
    assert {r["key"]: check_report(r, forms) for r in reports} == {r["key"]: [] for r in reports}


def test_every_label_is_bilingual():
    def walk(node, path="$"):
        if isinstance(node, dict):
            if "zh-CN" in node or "en" in node:
                assert node.get("zh-CN", "").strip() and node.get("en", "").strip(), path
            for k, v in node.items():
                walk(v, f"{path}.{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{path}[{i}]")
    for key in ("traceability", "qms_dashboards"):
        walk(load_package(key))


# --------------------------------------------------------------------------- traceability

def _lot(w: World, lot_no: str, status: str, part: str = "resin") -> int:
    return w.create("material_lot", {"lot_no": lot_no, "supplier": w.ids["acme"], "part": w.ids[part], "qty": 1000,
                                     "lot_status": status}).id


def test_a_batch_pulls_each_material_lot_through_its_sub_table_lookups_and_refuses_frozen_ones(world):
    w = world
    released, frozen = _lot(w, "ML-OK", "released"), _lot(w, "ML-FRZ", "frozen")
    returned = _lot(w, "ML-RTV", "returned")
    batch = {"part": w.ids["housing"], "line": w.ids["line"], "shift": "day", "started_at": "2026-03-02T08:00:00+08:00",
             "planned_qty": 500, "materials": [{"material_lot": released, "qty_used": 200}]}
    made = w.create("production_batch", batch)
    row = made.data["materials"][0]
    assert (row["lot_status"], row["material_part"], row["material_supplier"], row["lot_qty"]) == (
        "released", w.ids["resin"], w.ids["acme"], 1000)
    assert made.data["batch_no"].startswith("PB-") and made.data["product_no"] == "P-HOUSING"
    with pytest.raises(RecordValidationError) as material:             # a batch makes a product, not a material
        w.create("production_batch", {**batch, "part": w.ids["resin"]})
    assert [p.field for p in material.value.errors] == ["part"]
    for bad in (frozen, returned):
        with pytest.raises(RecordValidationError) as refused:
            w.create("production_batch", {**batch, "materials": [{"material_lot": released, "qty_used": 10},
                                                                  {"material_lot": bad, "qty_used": 10}]})
        assert [(p.field, p.message.en) for p in refused.value.errors] == [
            ("materials", "A frozen or returned material lot cannot be used in production")]


def test_fqc_decides_the_finished_lot_and_only_released_lots_ship(world, deferred_jobs):
    w = world
    lot = _lot(w, "ML-FQC", "released")
    batch = w.create("production_batch", {"part": w.ids["cover"], "line": w.ids["line"], "shift": "night",
                                          "started_at": "2026-03-03T20:00:00+08:00", "planned_qty": 300,
                                          "materials": [{"material_lot": lot, "qty_used": 90}]}).id
    with pytest.raises(RecordValidationError) as wrong:                # the product must be the batch's product
        w.create("finished_lot", {"lot_no": "FL-X", "batch": batch, "part": w.ids["housing"], "qty": 10})
    assert [p.field for p in wrong.value.errors] == ["part"]
    good = w.create("finished_lot", {"lot_no": "FL-GOOD", "batch": batch, "part": w.ids["cover"], "qty": 280}).id
    bad = w.create("finished_lot", {"lot_no": "FL-BAD", "batch": batch, "part": w.ids["cover"], "qty": 20}).id
    assert w.get("finished_lot", good).data["lot_status"] == "pending_fqc"
    with pytest.raises(RecordValidationError):                         # not released yet: cannot ship
        w.create("shipment", {"customer": w.ids["customer"], "destination": "Shanghai",
                              "items": [{"finished_lot": good, "qty": 100}]})
    accepted = w.create("fqc_inspection", {"part": w.ids["cover"], "lot_no": "FL-GOOD", "lot_size": 280})
    rejected = w.create("fqc_inspection", {"part": w.ids["cover"], "lot_no": "FL-BAD", "lot_size": 20,
                                           "defects": [{"description": "Short shot", "defect_class": "CR", "qty": 1}],
                                           "disposition": "scrap"})
    assert (accepted.data["result"], rejected.data["result"]) == ("accept", "reject")
    deferred_jobs.run_all()
    for lot, status, inspection in ((good, "released", accepted.id), (bad, "on_hold", rejected.id)):
        data = w.get("finished_lot", lot).data
        assert (data["lot_status"], data["fqc"]) == (status, inspection)
    shipped = w.create("shipment", {"customer": w.ids["customer"], "destination": "Shanghai",
                                    "items": [{"finished_lot": good, "qty": 100}, {"finished_lot": good, "qty": 50}]})
    assert shipped.data["shipment_no"].startswith("SH-") and shipped.data["total_qty"] == 150
    assert shipped.data["items"][0]["lot_part"] == w.ids["cover"]
    with pytest.raises(RecordValidationError) as held:
        w.create("shipment", {"customer": w.ids["customer"], "destination": "Shanghai",
                              "items": [{"finished_lot": bad, "qty": 5}]})
    assert [p.field for p in held.value.errors] == ["items"]


# --------------------------------------------------------------------------- KPI snapshots and dashboards

def _run_kpi_rules(w: World, backend) -> None:
    with session_scope(w.engine) as s:
        for stage in ("iqc", "ipqc", "fqc"):
            rule = rule_defs.load_rule_version(s, w.admin.tenant_id, f"kpi_{stage}_monthly")
            schedule_event(s, w.admin.tenant_id, rule, NOW)
    backend.run_all()


def _kpis(w: World) -> dict:
    return {(r.data["stage"], r.data["period"]): (r.data["inspected"], r.data["passed"], r.data["source"])
            for r in w.records("quality_kpi")}


def test_the_nightly_rules_summarise_each_stage_per_month_and_update_in_place(world, deferred_jobs):
    w = world
    _run_kpi_rules(w, deferred_jobs)
    kpis = _kpis(w)
    assert kpis[("iqc", "2026-02-01")] == (2, 2, "auto")
    assert kpis[("iqc", "2026-03-01")][0] == 2
    assert kpis[("ipqc", "2026-03-01")] == (4, 4, "auto")
    assert kpis[("fqc", "2026-03-01")][0] >= 2
    count = len(w.records("quality_kpi"))
    _iqc(w, "bolt", "screw", "B-03", date(2026, 2, 20), [])
    _run_kpi_rules(w, deferred_jobs)
    assert len(w.records("quality_kpi")) == count                       # the same months: updated, not duplicated
    assert _kpis(w)[("iqc", "2026-02-01")] == (3, 3, "auto")


@pytest.mark.parametrize("key", DASHBOARDS)
def test_each_dashboard_runs_every_report_into_a_figure(world, deferred_jobs, key):
    _run_kpi_rules(world, deferred_jobs)
    with session_scope(world.engine) as s:
        run = dashboard_service.run_dashboard(s, world.admin, key, now=NOW)
    assert [f["key"] for f in run["filters"]][:3] == ["period", "supplier", "part"]
    for cell in run["items"]:
        assert cell.get("error") is None, (cell["report"], cell.get("error"))
        assert cell["result"]["figure"]["data"], cell["report"]


def _cells(world, key: str, values: dict) -> dict:
    with session_scope(world.engine) as s:
        run = dashboard_service.run_dashboard(s, world.admin, key, values, now=NOW)
    assert all(c.get("error") is None for c in run["items"]), run["items"]
    return {c["report"]: c for c in run["items"]}


def test_supplier_board_numbers_follow_the_shared_filters(world):
    cells = _cells(world, "supplier_quality_board", {"period": {"from": "2026-03-01", "to": "2026-03-31"}})
    ranking = cells["sq_lar_ranking"]["result"]["data"]
    assert [row[-1] for row in ranking["rows"]] == sorted((row[-1] for row in ranking["rows"]), reverse=True)
    only_acme = _cells(world, "supplier_quality_board", {"supplier": world.ids["acme"], "part": world.ids["resin"]})
    assert [r[0] for r in only_acme["sq_lar_ranking"]["result"]["data"]["rows"]] == [world.ids["acme"]]
    assert "part" in only_acme["sq_scorecard_ranking"]["not_applied"]       # a scorecard has no part
    assert cells["sq_8d_on_time"]["result"]["chart_data"]["value"] == 0     # March: one 8D closed, late
    everything = _cells(world, "supplier_quality_board", {})
    assert everything["sq_8d_on_time"]["result"]["chart_data"]["value"] == 50
    table = everything["sq_scorecard_ranking"]["result"]["chart_data"]
    assert [(row[1], row[2]) for row in table["rows"]] == [("S-BOLT Bolt Metals", "A (preferred)"),
                                                                 ("S-ACME Acme Plastics", "D (probation)")]   # the grade's label
    assert table["rows"][0][3] > table["rows"][1][3]                         # ranked by total score


def test_cost_board_counts_failure_costs_only(world):
    cells = _cells(world, "copq_board", {})
    kpi = cells["copq_total_month"]["result"]
    assert kpi["chart_data"]["value"] == 500 + 3000 + 150 + 90 + 60          # March, prevention cost left out
    assert kpi["chart_data"]["previous"] == 1000
    pie = cells["copq_by_supplier"]["result"]["data"]
    assert sorted(r[-1] for r in pie["rows"]) == [150, 1000 + 3500]
    months = cells["copq_monthly"]["result"]
    assert len(months["figure"]["data"]) == 5 and months["figure"]["data"][0]["stackgroup"] == "one"


def test_process_board_funnel_runs_iqc_ipqc_fqc_in_order(world, deferred_jobs):
    _run_kpi_rules(world, deferred_jobs)
    funnel = _cells(world, "process_quality_board", {})["pq_stage_funnel"]["result"]
    assert [r[0] for r in funnel["data"]["rows"]] == ["iqc", "ipqc", "fqc"]
    xbar = _cells(world, "process_quality_board", {"part": world.ids["housing"]})["pq_xbar_r"]["result"]
    assert len(xbar["chart_data"]["primary"]["points"]) == 4
