"""The demo generator on SQLite at the small size: the year has the expected shape (every 8D state,
rejected lots with NCRs dated on their day, FQC, a shipment traced back to supplier lots, documents
in two revisions with training, audits whose nonconformities opened CAPAs), the bulk path's
revalidation equals a full validation, a second run is refused, and the dashboards of
qms_dashboards run on it with non-empty figures."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from engine.services import dashboards as dashboard_service
from engine.services import records as record_service
from engine.services import trace as trace_service
from engine.storage.db import make_engine, session_scope, upgrade_database
from engine.types import Actor
from templates_qms.catalog import install_all
from templates_qms.demo import DemoError, generate
from tests.engine.storage.support import create_tenant

NOW = datetime(2026, 3, 20, 8, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('demo') / 'qms.db'}")
    upgrade_database(engine)
    tenant_id = create_tenant(engine)
    with session_scope(engine) as s:
        install_all(s, Actor.system(tenant_id))
    summary = generate(engine, tenant_id, "small", seed=7, now=NOW,
                       uploads_dir=tmp_path_factory.mktemp("uploads"))
    yield engine, tenant_id, summary
    engine.dispose()


def _all(engine, tenant_id: int, form: str, filter: str | None = None) -> list:
    with session_scope(engine) as s:
        return record_service.query_records(s, Actor.system(tenant_id), form, filter, "id", per_page=500).items


def test_the_year_has_master_data_and_every_inspection(demo):
    _engine, _t, summary = demo
    counts = summary["counts"]
    assert (counts["supplier"], counts["part"], counts["iqc_inspection"]) == (20, 200, 600)
    assert 5 <= counts["customer"] <= 8 and 4 <= counts["production_line"] <= 6
    assert counts["material_lot"] == counts["delivery"] == 600
    paths = summary["paths"]["iqc_inspection"]
    assert paths["engine"] + paths["bulk"] == 600 and paths["engine"] > 50
    assert counts["ncr"] > 0 and counts["eight_d"] > 0 and counts["capa"] > 0 and counts["complaint"] > 0
    assert counts["supplier_scorecard"] > 0 and counts["quality_kpi"] > 0


def test_suppliers_have_the_planned_statuses_and_portal_users(demo):
    engine, t, _summary = demo
    suppliers = _all(engine, t, "supplier")
    statuses = [r.values["supplier_status"] for r in suppliers]
    assert statuses.count("conditional") == 1 and statuses.count("disqualified") == 1
    assert sum(1 for r in suppliers if r.values.get("portal_user")) == 3


def test_rejected_lots_have_ncrs_and_one_bad_supplier_is_on_tightened(demo):
    engine, t, _summary = demo
    rejected = [r for r in _all(engine, t, "iqc_inspection", 'result = "reject"')]
    assert rejected
    ncr_iqcs = {r.values["iqc"] for r in _all(engine, t, "ncr", 'source = "iqc"')}
    reviewed = [r for r in rejected if r.values["disposition"] != "mrb"]   # through the QM's review
    assert reviewed and all(r.id in ncr_iqcs for r in reviewed)
    tightened = _all(engine, t, "iqc_inspection", 'severity = "tightened"')
    assert tightened, "a bad supplier should have been switched to tightened inspection"


def test_8ds_are_in_every_state(demo):
    engine, t, summary = demo
    fates = summary["paths"]["eight_d"]["engine (NCR rule), moved through the 8D flow"]
    reports = _all(engine, t, "eight_d")
    assert any(r.values.get("closed_on") for r in reports)
    assert any(r.values.get("closed_on_time") == 0 for r in reports if r.values.get("closed_on")) or \
        fates.get("closed_late", 0) == 0
    assert {"d1_d2", "d3", "d4_d5"} <= set(fates)


def test_the_drifting_ipqc_series_raise_spc_alarms(demo):
    engine, t, _summary = demo
    alarms = _all(engine, t, "spc_alarm")
    assert alarms and {a.values.get("characteristic") for a in alarms} & {
        "铆接高度 Rivet height (mm)", "扭矩 Torque (N·m)"}


def test_a_second_run_is_refused(demo):
    engine, t, _summary = demo
    with pytest.raises(DemoError):
        generate(engine, t, "small", now=NOW)


@pytest.mark.parametrize("key", ["supplier_quality_board", "process_quality_board", "copq_board"])
def test_the_dashboards_run_on_the_demo_data(demo, key):
    engine, t, _summary = demo
    with session_scope(engine) as s:
        result = dashboard_service.run_dashboard(s, Actor.system(t), key, now=NOW)
    panels = result.get("reports") or result.get("panels") or result.get("items") or []
    assert panels, result.keys()
    assert any(not p.get("error") for p in panels)


def test_a_trace_from_a_shipment_reaches_a_supplier_lot(demo):
    engine, t, summary = demo
    shipments = _all(engine, t, "shipment")
    assert shipments and all(r.values["items"] for r in shipments)
    with session_scope(engine) as s:
        graph = trace_service.trace_record(s, Actor.system(t), "shipment", shipments[0].id, direction="backward")
    forms = {node.form for node in graph.nodes.values()}
    assert {"finished_lot", "production_batch", "material_lot", "supplier"} <= forms


def test_every_finished_lot_has_its_fqc_and_rejections_open_ncrs(demo):
    engine, t, _summary = demo
    fqcs, lots = _all(engine, t, "fqc_inspection"), _all(engine, t, "finished_lot")
    assert fqcs and len(fqcs) == len(lots) == len(_all(engine, t, "production_batch"))
    assert all(lot.values["fqc"] for lot in lots if lot.values["lot_status"] == "released")
    statuses = {lot.values["lot_status"] for lot in lots}
    assert "released" in statuses and "on_hold" in statuses
    rejected = {r.values["lot_no"] for r in fqcs if r.values["result"] == "reject"}
    assert rejected and rejected <= {r.values["lot_no"] for r in _all(engine, t, "ncr", 'source = "fqc"')}


def test_documents_have_two_revisions_and_training_records(demo):
    engine, t, _summary = demo
    docs = _all(engine, t, "document")
    by_no: dict[str, dict] = {}
    for d in docs:
        by_no.setdefault(d.values["doc_no"], {})[d.values["revision"]] = d.values["doc_status"]
    assert len(by_no) == 4 and all(revs == {"A": "obsolete", "B": "effective"} for revs in by_no.values())
    training = _all(engine, t, "training_record")
    assert len(training) == len(docs)
    assert all(r.values["trainee_count"] >= 3 and r.values["passed"] >= 3 and r.values["training_date"]
               for r in training)


def test_audit_nonconformities_open_capas(demo):
    engine, t, _summary = demo
    assert len(_all(engine, t, "audit")) == 2
    findings = _all(engine, t, "audit_finding")
    nonconformities = [f for f in findings if f.values["grade"] != "observation"]
    assert len(findings) == 4 and len(nonconformities) == 3
    assert len(_all(engine, t, "capa", 'source = "audit"')) == len(nonconformities)


def test_rule_made_records_are_dated_on_their_event_day(demo):
    engine, t, _summary = demo
    ncrs = _all(engine, t, "ncr", 'source = "iqc"')
    assert ncrs and all(r.values["detected_on"] < NOW.date() for r in ncrs)
    assert len({r.values["detected_on"] for r in ncrs}) > 1          # spread over the year, not all "today"
    assert all(r.created_at.date() == r.values["detected_on"] for r in ncrs)


def test_bulk_revalidation_equals_full_validation(demo):
    engine, t, _summary = demo
    from engine.expressions import EvalContext
    from engine.forms import validate_record
    from engine.services.facts import SqlFacts
    from engine.storage import form_store
    from templates_qms.demo import bulk, incoming
    from templates_qms.demo import plan as p
    from templates_qms.demo.revalidate import Revalidator
    plan = p.make_plan(NOW.date(), p.SIZES["default"], seed=3)
    w = _Ids(engine, t)
    with session_scope(engine) as s:
        form = form_store.load_published(s, t, "iqc_inspection").form
        ctx = EvalContext(user_id=None, now=NOW, facts=SqlFacts(s, t))
        varying, rows, facts = bulk._VARYING["iqc_inspection"]
        check = Revalidator(form, ctx, w.lookups, varying, rows, facts)
        sample = [(k, lot) for k, lot in enumerate(plan.lots) if not lot.engine][:1500]
        for k, lot in sample:
            data = incoming.inspection_data(w, plan, lot, k, w.people.id("insp1"))
            assert check.validate(data) == validate_record(form, data, ctx, lookups=w.lookups)
    assert check.hits > 100


class _Ids:
    """Just enough of a Writer for inspection_data and lookups: the demo tenant's master data ids."""

    def __init__(self, engine, tenant_id):
        self.ids = {form: [r.id for r in _all(engine, tenant_id, form)] for form in ("supplier", "part")}
        self.values = {form: {r.id: dict(r.values) for r in _all(engine, tenant_id, form)}
                       for form in ("supplier", "part")}
        self.people = type("P", (), {"id": staticmethod(lambda handle: 1)})()

    def lookups(self, dotted, record_id):
        return self.values.get(dotted, {}).get(record_id)
