"""aggregate_into (monthly summaries), schedule rules per record, and the AQL switching state
(record_sampling_lot + AQL_SEVERITY)."""
from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone

import pytest

from engine.errors import DefinitionError
from engine.expressions import EvalContext, compile_expression
from engine.expressions.types import ANY, Scope
from engine.jobs import tasks
from engine.services import forms as form_service
from engine.services.facts import SqlFacts
from tests.engine.rules.support import L

SUMMARY_FORM = {"format": 1, "key": "lot_summary", "label": L("批次汇总", "Lot summary"), "fields": [
    {"key": "lot_no", "type": "text", "label": L("批号", "Lot")},
    {"key": "period", "type": "date", "label": L("月份", "Month")},
    {"key": "inspections", "type": "number", "label": L("检验次数", "Inspections"), "precision": 0},
    {"key": "total_qty", "type": "number", "label": L("总数", "Total qty"), "precision": 0}]}

SUMMARISE = {"format": 1, "key": "summarise", "label": L("月度汇总", "Monthly summary"),
             "trigger": {"type": "schedule", "cron": "0 2 1 * *", "timezone": "UTC"},
             "actions": [{"type": "aggregate_into", "form": "lot_summary",
                          "dataset": {"form": "iqc", "dimensions": [{"field": "lot_no"}],
                                      "measures": [{"agg": "count", "key": "n"}, {"agg": "sum", "field": "qty", "key": "q"}]},
                          "match": {"lot_no": "lot_no", "period": "DATE(2026, 3, 1)"},
                          "values": {"inspections": "n", "total_qty": "q"}}]}


def _due(world, key):
    from sqlalchemy import select
    from engine.storage.rule_tables import rule_definitions
    with world.session() as s:
        at = s.execute(select(rule_definitions.c.next_run_at).where(rule_definitions.c.key == key)).scalar_one()
    return (at.replace(tzinfo=timezone.utc) if at.tzinfo is None else at) + timedelta(seconds=1)


def test_aggregate_into_upserts_one_record_per_group_and_updates_on_the_next_run(world):
    with world.session() as s:
        form_service.publish_form(s, world.admin, copy.deepcopy(SUMMARY_FORM))
    world.publish(SUMMARISE)
    for lot, qty in (("A1", 10), ("A1", 5), ("B2", 7)):
        world.create("iqc", lot_no=lot, qty=qty, result="OK")
    at = _due(world, "summarise")
    assert tasks.run_schedules(world.url, at) == 1
    world.run_jobs()
    got = {r.data["lot_no"]: (r.data["inspections"], r.data["total_qty"], str(r.data["period"]))
           for r in world.records("lot_summary")}
    assert got == {"A1": (2, 15, "2026-03-01"), "B2": (1, 7, "2026-03-01")}, world.runs()
    world.create("iqc", lot_no="B2", qty=3, result="OK")
    assert tasks.run_schedules(world.url, _due(world, "summarise")) == 1
    world.run_jobs()
    rows = world.records("lot_summary")
    assert len(rows) == 2 and {r.data["lot_no"]: r.data["total_qty"] for r in rows}["B2"] == 10


def test_aggregate_into_names_a_wrong_dataset_path_and_a_mapping_type(world):
    with world.session() as s:
        form_service.publish_form(s, world.admin, copy.deepcopy(SUMMARY_FORM))
    rule = copy.deepcopy(SUMMARISE)
    rule["actions"][0]["dataset"]["dimensions"] = [{"field": "nope"}]
    with pytest.raises(DefinitionError) as err:
        world.publish(rule)
    assert any(p.path.startswith("$.actions[0].dataset") for p in err.value.problems)
    rule = copy.deepcopy(SUMMARISE)
    rule["actions"][0]["values"] = {"inspections": "lot_no"}          # text into a number field
    with pytest.raises(DefinitionError) as err:
        world.publish(rule)
    assert [p.path for p in err.value.problems] == ["$.actions[0].values.inspections"]


REMIND = {"format": 1, "key": "remind_big", "label": L("大批提醒", "Big lot reminder"), "form": "iqc",
          "trigger": {"type": "schedule", "cron": "0 8 * * *", "timezone": "UTC", "records": {"filter": "qty >= 100"}},
          "condition": 'result = "NG"',
          "actions": [{"type": "notify", "to": {"fields": ["inspector"]}, "channels": ["in_app"],
                       "subject": "Lot {{ record.lot_no }} needs a look"}]}


def test_a_schedule_with_records_runs_once_per_matching_record(world):
    world.publish(REMIND)
    ivan = world["ivan"].user_id
    world.create("iqc", lot_no="BIG1", qty=150, result="NG", inspector=ivan)
    world.create("iqc", lot_no="BIG2", qty=200, result="OK", inspector=ivan)     # condition false
    world.create("iqc", lot_no="SMALL", qty=5, result="NG", inspector=ivan)      # filter false
    assert tasks.run_schedules(world.url, _due(world, "remind_big")) == 1
    world.run_jobs()
    from engine.services import notifications
    with world.session() as s:
        items = notifications.list_notifications(s, world["ivan"])
    subjects = [n["subject"] if isinstance(n, dict) else n.subject for n in (items.get("items") if isinstance(items, dict) else items)]
    assert subjects == ["Lot BIG1 needs a look"]


def test_records_needs_the_rules_form(world):
    rule = copy.deepcopy(REMIND)
    del rule["form"]
    rule["condition"] = None
    del rule["condition"]
    rule["actions"] = [{"type": "notify", "to": {"roles": ["quality"]}, "subject": "x"}]
    with pytest.raises(DefinitionError) as err:
        world.publish(rule)
    assert [p.path for p in err.value.problems] == ["$.trigger.records"]


SAMPLING = {"format": 1, "key": "sampling", "label": L("转移规则", "Switching"), "form": "iqc",
            "trigger": {"type": "record_created"},
            "actions": [{"type": "record_sampling_lot", "supplier": '"S1"', "part": "lot_no", "lot_size": "qty",
                         "level": '"II"', "aql": '"1.0"', "defects": "SUM(defects.n)", "defect_class": "MA"}]}


def test_two_rejected_lots_in_five_switch_the_supplier_part_to_tightened(world):
    world.publish(SAMPLING)
    scope = Scope.of([("s", ANY), ("p", ANY)])
    severity = compile_expression("AQL_SEVERITY(s, p)", scope)
    with world.session() as s:
        ctx = EvalContext(facts=SqlFacts(s, world.admin.tenant_id))
        assert severity.evaluate({"s": "S1", "p": "P-9"}, ctx) == "normal"
    # lot 500, level II → H, n = 50, AQL 1.0: Ac 1 / Re 2
    for defects in (5, 0, 3):
        world.create("iqc", lot_no="P-9", qty=500, result="OK", defects=[{"code": "D", "n": defects}])
    world.run_jobs()
    with world.session() as s:
        ctx = EvalContext(facts=SqlFacts(s, world.admin.tenant_id))
        assert severity.evaluate({"s": "S1", "p": "P-9"}, ctx) == "tightened"
        assert severity.evaluate({"s": "S1", "p": "P-10"}, ctx) == "normal"
    out = world.action_runs(world.runs("sampling")[-1]["id"])[0]
    assert '"decision"' in str(out) or out


def test_without_facts_severity_is_normal():
    compiled = compile_expression('AQL_SEVERITY("S", "P") & IF(AQL_DISCONTINUED("S", "P"), "x", "")', Scope.of([]))
    assert compiled.evaluate({}, EvalContext()) == "normal"


def test_a_formula_computed_on_create_keeps_its_value_when_the_record_changes():
    from engine.definitions import load_form
    from engine.forms import validate_record
    form = load_form({"format": 1, "key": "lot_check", "label": L("检验", "Check"), "fields": [
        {"key": "qty", "type": "number", "label": L("数量", "Qty"), "precision": 0},
        {"key": "plan", "type": "formula", "label": L("方案", "Plan"), "formula": "qty * 2", "compute": "on_create"},
        {"key": "live", "type": "formula", "label": L("实时", "Live"), "formula": "qty * 2"}]})
    first = validate_record(form, {"qty": 5})
    assert first["plan"] == 10 and first["live"] == 10
    later = validate_record(form, {"qty": 7}, old=first, partial=True)
    assert later["plan"] == 10 and later["live"] == 14


LINK_BACK = {"format": 1, "key": "link_back", "label": L("回写", "Link back"), "form": "ncr",
             "trigger": {"type": "record_created"},
             "actions": [{"type": "update_records", "target": {"form": "iqc", "match": {"serial_no": "source"}},
                          "values": {"lot_no": 'lot_no & "-NCR"'}}]}


def test_update_records_finds_its_target_by_serial_number(world):
    world.publish(LINK_BACK)
    iqc = world.create("iqc", lot_no="L-7", qty=1, result="NG")
    serial = world.get("iqc", iqc).serial_no
    world.create("ncr", who="admin", lot_no="L-7", source=serial)
    world.run_jobs()
    assert world.get("iqc", iqc).data["lot_no"] == "L-7-NCR", world.runs()


def test_match_keys_must_be_fields_or_system_columns(world):
    rule = copy.deepcopy(LINK_BACK)
    rule["actions"][0]["target"]["match"] = {"nope": "source", "defects": "source"}
    with pytest.raises(DefinitionError) as err:
        world.publish(rule)
    assert sorted(p.path for p in err.value.problems) == ["$.actions[0].target.match.defects",
                                                          "$.actions[0].target.match.nope"]
