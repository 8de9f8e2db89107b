"""The rule test run: what a draft rule would do with a chosen record — and proof that it does nothing."""
from __future__ import annotations

import copy

import pytest
from sqlalchemy import func, inspect, select, table

from engine.errors import NotFound
from engine.services import accounts, rule_trial
from engine.services import forms as form_service
from engine.storage.db import session_scope
from tests.engine.rules.support import L, NG_OPENS_NCR, OK_NG, make_world, world  # noqa: F401  (fixture)

CAPA_FORM = {"format": 1, "key": "capa", "label": L("纠正措施", "CAPA"), "fields": [
    {"key": "subject", "type": "text", "label": L("主题", "Subject"), "required": True},
    {"key": "qty", "type": "number", "label": L("数量", "Quantity"), "precision": 0, "max": 100},
    {"key": "verdict", "type": "select", "label": L("结论", "Verdict"), "choices": OK_NG}]}

TO_CAPA = {"format": 1, "key": "iqc_to_capa", "label": L("开 CAPA", "Open a CAPA"), "form": "iqc",
           "trigger": {"type": "record_created"},
           "actions": [{"type": "create_record", "form": "capa",
                        "values": {"qty": "qty", "verdict": '"MAYBE"'}}]}

UPDATE_LOTS = {"format": 1, "key": "mark_lots", "label": L("标记批次", "Mark lots"), "form": "iqc",
               "trigger": {"type": "field_changed", "fields": ["result"]}, "condition": 'old.result = result',
               "actions": [{"type": "update_records", "target": {"form": "lot", "match": {"lot_no": "lot_no"}},
                            "values": {"remark": '"checked " & serial_no'}}]}

NOTIFY = {"format": 1, "key": "tell_buyers", "label": L("通知采购", "Tell purchasing"), "form": "iqc",
          "trigger": {"type": "record_created"},
          "actions": [{"type": "notify", "to": {"roles": ["purchasing"], "fields": ["inspector"]},
                       "channels": ["in_app", "email"], "subject": "Lot {{ record.lot_no }} is {{ record.result }}",
                       "body": "Qty {{ record.qty }}"},
                      {"type": "call_webhook", "url": "https://erp.example/hook/{{ record.lot_no }}",
                       "secret": "s3cret-key", "payload": {"lot": "{{ record.lot_no }}", "n": 1}},
                      {"type": "start_flow", "record": "trigger"}]}


def _iqc(world, result: str = "NG", lot_no: str = "L-1") -> int:
    return world.create("iqc", who="admin", lot_no=lot_no, qty=500, result=result, inspector=world["ivan"].user_id,
                        defects=[{"code": "D1", "n": 2}, {"code": "D2", "n": 0}])


def _trial(world, definition: dict, record_id: int | None, actor=None, lang: str = "en") -> dict:
    with world.session() as s:      # the session commits at the end: the savepoint alone must undo everything
        return rule_trial.trial(s, actor or world.admin, copy.deepcopy(definition), definition.get("form"), record_id,
                                lang)


def _row_counts(engine) -> dict[str, int]:
    names = inspect(engine).get_table_names()
    with session_scope(engine) as s:
        return {name: s.execute(select(func.count()).select_from(table(name))).scalar() for name in names}


def test_condition_true_plans_the_record_with_values_and_rows(world):
    record_id = _iqc(world, "NG")
    out = _trial(world, NG_OPENS_NCR, record_id)
    assert out["problems"] == []
    assert out["condition"] == {"source": 'result = "NG"', "value": True, "passed": True}
    assert out["runs"] is True and out["record"]["id"] == record_id
    create, status = out["actions"]
    assert create["type"] == "create_record" and "NCR" in create["summary"]
    shown = {d["field"]: d for d in create["details"] if d.get("field")}
    assert shown["lot_no"]["text"] == "L-1" and shown["lot_no"]["source"] == "lot_no"
    assert shown["qty"]["value"] == 500 and shown["qty"]["path"] == "$.actions[0].values.qty"
    assert shown["source"]["text"] == "IQC IQC-0001"
    assert shown["items"]["value"] == [{"code": "D1", "n": 2}]          # the row with n = 0 is left out by `where`
    assert create["problems"] == []
    assert status["type"] == "set_status" and "0" in status["summary"]


def test_condition_false_says_the_rule_would_not_run(world):
    out = _trial(world, NG_OPENS_NCR, _iqc(world, "OK"))
    assert out["condition"]["passed"] is False and out["condition"]["value"] is False
    assert out["runs"] is False
    assert len(out["actions"]) == 2          # still shown: what it would do if the condition held


def test_create_record_reports_type_and_required_problems_of_the_target_form(world):
    with world.session() as s:
        form_service.publish_form(s, world.admin, copy.deepcopy(CAPA_FORM))
    out = _trial(world, TO_CAPA, _iqc(world))
    [create] = out["actions"]
    paths = {p["path"]: p["message"] for p in create["problems"]}
    assert "$.actions[0].values.subject" in paths            # required, not mapped
    assert "$.actions[0].values.qty" in paths                # 500 > max 100
    assert "$.actions[0].values.verdict" in paths            # not one of the options
    assert paths["$.actions[0].values.subject"].startswith("Subject")


def test_update_records_counts_the_matches_and_updates_nothing(world):
    for lot_no in ("L-1", "L-1", "L-2"):
        world.create("lot", who="admin", lot_no=lot_no)
    out = _trial(world, UPDATE_LOTS, _iqc(world))
    assert out["condition"]["passed"] is True              # old = current in a trial
    [update] = out["actions"]
    counted = next(d for d in update["details"] if d["path"] == "$.actions[0].target")
    assert counted["text"] == "2" and "2" in update["summary"]
    assert next(d for d in update["details"] if d.get("field") == "remark")["text"] == "checked IQC-0001"
    assert all(r.data.get("remark") is None for r in world.records("lot"))


def test_notify_webhook_and_flow_are_described_not_done(world):
    out = _trial(world, NOTIFY, _iqc(world), lang="zh-CN")
    notify, hook, flow = out["actions"]
    recipients = next(d for d in notify["details"] if d["path"] == "$.actions[0].to")["text"]
    assert {"Paula", "Peter", "Ivan"} <= set(recipients.split(", "))
    assert next(d for d in notify["details"] if d["path"] == "$.actions[0].subject")["text"] == "Lot L-1 is NG"
    assert hook["summary"].startswith("将向 https://erp.example/hook/L-1")
    assert '"lot": "L-1"' in next(d for d in hook["details"] if d["path"] == "$.actions[1].payload")["text"]
    assert flow["type"] == "start_flow" and flow["summary"]


def test_nothing_is_written(world, db_engine):
    record_id = _iqc(world)
    world.create("lot", who="admin", lot_no="L-1")
    with world.session() as s:
        form_service.publish_form(s, world.admin, copy.deepcopy(CAPA_FORM))
    before = _row_counts(db_engine)
    for rule in (NG_OPENS_NCR, TO_CAPA, UPDATE_LOTS, NOTIFY):
        _trial(world, rule, record_id)
    after = _row_counts(db_engine)
    assert after == before
    assert {"rule_outbox", "notifications", "mail_outbox", "deliveries", "audit_log"} <= set(after)


def test_an_invalid_draft_gives_its_problems_and_runs_nothing(world):
    broken = {**NG_OPENS_NCR, "condition": "result = ", "actions": []}
    out = _trial(world, broken, _iqc(world))
    paths = {p["path"] for p in out["problems"]}
    assert "$.condition" in paths and out["actions"] == [] and out["condition"] is None


def test_a_record_is_needed_and_must_be_readable(world, db_engine):
    out = _trial(world, NG_OPENS_NCR, None)
    assert out["problems"][0]["path"] == "$.record_id"
    with pytest.raises(NotFound):
        _trial(world, NG_OPENS_NCR, 999_999)
    record_id = _iqc(world)
    with session_scope(db_engine) as s:           # someone of another company asks for that id
        tenant = accounts.create_tenant(s, "other", "Other")
        stranger = accounts.actor_for_user(s, accounts.create_user(s, tenant, "x@other.example", "X", "pw-123456789",
                                                                   is_admin=True))
    make_world(db_engine, stranger)               # the same forms in the other company
    with pytest.raises(NotFound):
        _trial(world, NG_OPENS_NCR, record_id, actor=stranger)
    with pytest.raises(NotFound):                 # ivan reads only his own inspections
        _trial(world, NG_OPENS_NCR, record_id, actor=world["ivan"])
