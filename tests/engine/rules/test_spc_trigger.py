"""The SPC-violation trigger: saving a value its control chart flags leaves one outbox row with the
violated rules; an in-control value, a chart with too few points or a form without such rules
fire nothing (and the last runs no chart query at all)."""
from __future__ import annotations

import copy

import pytest
from sqlalchemy import event

from engine.errors import DefinitionError
from engine.services import forms as form_service
from engine.services import records as record_service
from engine.services import reports as report_service
from tests.engine.rules.support import L

BORE_FORM = {"format": 1, "key": "bore", "label": L("孔径", "Bore"), "fields": [
    {"key": "machine", "type": "text", "label": L("机台", "Machine")},
    {"key": "diameter", "type": "number", "label": L("直径", "Diameter"), "precision": 4},
    {"key": "readings", "type": "subtable", "label": L("读数", "Readings"), "fields": [
        {"key": "value", "type": "number", "label": L("读数", "Reading"), "precision": 4}]}]}
STEADY = [0.02, -0.01, 0.03, -0.02, 0.0, 0.01, -0.03, 0.02, -0.01, 0.01, 0.0, -0.02]


def _rule(key: str, **trigger) -> dict:
    return {"format": 1, "key": key, "label": L("判异", "SPC alarm"), "form": "bore",
            "trigger": {"type": "spc_violation", **trigger}, "condition": "COUNT(violated_rules) > 0",
            "actions": [{"type": "create_record", "form": "ncr", "values": {"source": '"SPC " & machine'}}]}


@pytest.fixture
def bore(world):
    with world.session() as s:
        form_service.publish_form(s, world.admin, copy.deepcopy(BORE_FORM))
    return world


def _add(world, **data) -> int:
    return world.create("bore", who="admin", machine="M1", **data)


def _statements(world):
    seen: list[str] = []

    def listen(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement.lower())
    event.listen(world.engine, "before_cursor_execute", listen)
    return seen, lambda: event.remove(world.engine, "before_cursor_execute", listen)


def test_an_outlier_fires_one_run_with_the_violated_rules_and_an_in_control_value_none(bore):
    bore.publish(_rule("imr_alarm", field="diameter"))
    for d in STEADY:
        _add(bore, diameter=10 + d)
    assert bore.runs("imr_alarm") == []
    _add(bore, diameter=10.005)
    assert bore.runs("imr_alarm") == []
    rid = _add(bore, diameter=12.0)
    runs = bore.runs("imr_alarm")
    assert len(runs) == 1 and runs[0]["status"] == "pending" and runs[0]["record_id"] == rid
    ev = runs[0]["event"]
    assert ev["kind"] == "spc.violation" and ev["form"] == "bore" and ev["values"]["diameter"] == 12.0
    assert ev["violation"]["field"] == "diameter" and ev["violation"]["chart"] == "imr"
    assert ev["violation"]["rules"] == [1] and ev["violation"]["point"] == len(STEADY) + 1
    bore.run_jobs()
    assert [r.data["source"] for r in bore.records("ncr")] == ["SPC M1"]


def test_a_named_xbar_report_judges_sub_table_readings(bore):
    with bore.session() as s:
        report_service.publish_report(s, bore.admin, {
            "format": 1, "key": "bore_xbar", "label": L("孔径", "Bore X̄-R"), "dataset": {"form": "bore"},
            "chart": {"type": "xbar_r", "value": "readings.value", "rules": [1, 5], "last": 20}})
    bore.publish(_rule("xbar_alarm", field="readings.value", report="bore_xbar", rules=[1]))
    for i, d in enumerate(STEADY[:10]):
        _add(bore, readings=[{"value": 10 + d + k * 0.01 * (-1) ** (i + k)} for k in range(4)])
    assert bore.runs("xbar_alarm") == []
    rid = _add(bore, readings=[{"value": 10.5 + k * 0.01} for k in range(4)])
    (run,) = bore.runs("xbar_alarm")
    assert run["record_id"] == rid
    assert run["event"]["violation"]["chart"] == "xbar_r" and 1 in run["event"]["violation"]["rules"]
    assert run["event"]["violation"]["report"] == "bore_xbar"


def test_a_missing_report_leaves_a_failed_run_and_the_save_goes_through(bore):
    bore.publish(_rule("ghost", field="diameter", report="no_such_report"))
    rid = _add(bore, diameter=10.0)
    (run,) = bore.runs("ghost")
    assert run["status"] == "failed" and "no_such_report" in run["error"] and run["record_id"] == rid
    assert bore.get("bore", rid).data["diameter"] == 10.0


def test_too_few_points_fire_nothing(bore):
    bore.publish(_rule("early", field="diameter"))
    rid = _add(bore, diameter=55.0)
    assert bore.runs("early") == [] and bore.get("bore", rid).data["diameter"] == 55.0


def test_only_forms_with_spc_rules_and_changes_of_the_field_run_a_chart_query(bore):
    bore.publish({"format": 1, "key": "plain", "label": L("普通", "Plain"), "form": "bore",
                  "trigger": {"type": "record_created"},
                  "actions": [{"type": "create_record", "form": "ncr", "values": {"source": '"new"'}}]})
    seen, stop = _statements(bore)
    try:
        _add(bore, diameter=10.0)
        assert seen and not [s for s in seen if "group by" in s]
        bore.publish(_rule("watch", field="diameter"))
        seen.clear()
        rid = _add(bore, diameter=10.01)
        assert [s for s in seen if "group by" in s]
        seen.clear()
        with bore.session() as s:
            record = record_service.get_record(s, bore.admin, "bore", rid)
            record_service.update_record(s, bore.admin, "bore", rid, record.version, {"machine": "M2"})
        assert not [s for s in seen if "group by" in s]
    finally:
        stop()


@pytest.mark.parametrize("field, words", [("nope", "has no field"), ("machine", "must be a number"),
                                          ("readings", "sub-table")])
def test_the_trigger_field_must_be_a_number_of_the_form(bore, field, words):
    with pytest.raises(DefinitionError) as err:
        bore.publish(_rule("bad", field=field))
    problems = {p.path: p.message.en for p in err.value.problems}
    assert words in problems["$.trigger.field"], problems


def test_by_gives_each_machine_its_own_chart(bore):
    bore.publish(_rule("per_machine", field="diameter", by=["machine"]))
    for d in STEADY:
        bore.create("bore", who="admin", machine="M1", diameter=10 + d)
        bore.create("bore", who="admin", machine="M2", diameter=20 + d)
    # on a chart mixing both machines 20.0 is nothing special; on M2's own chart it is in control,
    # and 12.0 is far out on M1's
    bore.create("bore", who="admin", machine="M2", diameter=20.01)
    assert bore.runs("per_machine") == []
    rid = bore.create("bore", who="admin", machine="M1", diameter=12.0)
    runs = bore.runs("per_machine")
    assert [r["record_id"] for r in runs] == [rid] and runs[0]["event"]["violation"]["rules"] == [1]


def test_by_names_fields_of_the_form(bore):
    with pytest.raises(DefinitionError) as err:
        bore.publish(_rule("bad_by", field="diameter", by=["nope", "readings"]))
    assert sorted(p.path for p in err.value.problems) == ["$.trigger.by[0]", "$.trigger.by[1]"]
