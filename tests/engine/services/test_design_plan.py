"""plan(): readable changes, impact on records and running flows, and refusals of data-losing publishes."""
from __future__ import annotations

import copy
from datetime import datetime, timezone

import pytest
from sqlalchemy import insert

from engine.errors import DefinitionError
from engine.services import records as record_service
from engine.services import rule_defs
from engine.services.design_diff import diff
from engine.services.design_plan import plan
from engine.services.flow_defs import publish_flow
from engine.services.forms import publish_form
from engine.storage.db import session_scope
from engine.storage.flow_tables import flow_instances
from engine.types import Actor
from tests.engine.services.support import publish

L = lambda zh, en: {"zh-CN": zh, "en": en}  # noqa: E731
NOW = datetime(2026, 4, 17, 8, 30, tzinfo=timezone.utc)


def lot_form() -> dict:
    return {"format": 1, "key": "lot", "label": L("批次", "Lot"), "fields": [
        {"key": "lot_no", "type": "text", "label": L("批号", "Lot no."), "max_length": 40},
        {"key": "qty", "type": "number", "label": L("数量", "Quantity"), "precision": 2},
        {"key": "result", "type": "select", "label": L("结果", "Result"),
         "choices": [{"code": "OK", "label": L("合格", "Pass")}, {"code": "NG", "label": L("不合格", "Fail")}]},
        {"key": "tags", "type": "multiselect", "label": L("标签", "Tags"),
         "choices": [{"code": "urgent", "label": L("加急", "Urgent")}, {"code": "vip", "label": L("重要", "VIP")}]},
        {"key": "owner", "type": "user", "label": L("负责人", "Owner")},
        {"key": "items", "type": "subtable", "label": L("明细", "Items"), "fields": [
            {"key": "part", "type": "text", "label": L("零件", "Part")},
            {"key": "weight", "type": "number", "label": L("重量", "Weight"), "precision": 1}]},
    ]}


def field(d: dict, key: str) -> dict:
    return next(f for f in d["fields"] if f["key"] == key)


def planned(engine, actor, d: dict, kind: str = "form", lang: str = "en", key: str | None = None) -> dict:
    with session_scope(engine) as s:
        return plan(s, actor.tenant_id, kind, key or d["key"], d, lang=lang)


def add(engine, actor, data: dict, form_key: str = "lot") -> int:
    with session_scope(engine) as s:
        return record_service.create_record(s, actor, form_key, data, now=NOW).id


def paths(result: dict, kind: str | None = None, what: str | None = None) -> list[str]:
    return [c["path"] for c in result["changes"] if (kind is None or c["kind"] == kind)
            and (what is None or c["what"] == what)]


@pytest.fixture
def lot(db_engine, actor):
    publish(db_engine, actor, lot_form())
    return lot_form()


# ---------------------------------------------------------------------------- changes

def test_nothing_published_everything_is_added(db_engine, actor):
    result = planned(db_engine, actor, lot_form())
    assert paths(result, "added", "field") == ["lot_no", "qty", "result", "tags", "owner", "items", "items.part",
                                                "items.weight"]
    assert result["impact"] == {"records": 0, "running_flows": 0, "messages": []} and result["refused"] == []
    assert result["changes"][1]["detail"] == "type: Number" and result["changes"][1]["label"] == "Quantity"


def test_field_property_option_and_move_changes_are_readable_in_both_languages(db_engine, actor, lot):
    d = copy.deepcopy(lot)
    field(d, "lot_no")["required"] = True
    field(d, "result")["choices"].append({"code": "HOLD", "label": L("待定", "On hold")})
    field(d, "tags")["choices"][0]["label"] = L("紧急", "Rush")
    items = field(d, "items")
    moved = items["fields"].pop(0)                      # items.part → a top-level field
    d["fields"].append(moved)
    items["fields"].append({"key": "note", "type": "text", "label": L("备注", "Note")})
    en, zh = planned(db_engine, actor, d), planned(db_engine, actor, d, lang="zh-CN")
    by_path = {(c["kind"], c["what"], c["path"]): c for c in en["changes"]}
    assert by_path[("changed", "property", "lot_no")]["detail"] == "required: no → yes"
    assert by_path[("added", "option", "result:HOLD")]["detail"] == "option added: On hold (HOLD)"
    assert by_path[("changed", "option", "tags:urgent")]["detail"] == "option urgent: Urgent (urgent) → Rush (urgent)"
    assert ("removed", "field", "items.part") in by_path and ("added", "field", "part") in by_path
    assert ("added", "field", "items.note") in by_path
    assert {"kind": "changed", "what": "property", "path": "lot_no", "label": "批号",
            "detail": "必填: 否 → 是"} in zh["changes"]


def test_type_label_order_and_section_changes(db_engine, actor, lot):
    d = copy.deepcopy(lot)
    field(d, "qty")["label"] = L("件数", "Pieces")
    d["fields"][0], d["fields"][1] = d["fields"][1], d["fields"][0]
    d["layout"] = {"sections": [{"key": "basic", "label": L("基本", "Basics"), "columns": 3,
                                 "fields": ["lot_no", "qty"]}]}
    result = planned(db_engine, actor, d)
    details = {(c["what"], c["path"]): c["detail"] for c in result["changes"]}
    assert details[("property", "qty")] == "label: Quantity → Pieces"
    assert details[("property", "fields")] == "field order changed"
    assert details[("section", "layout.basic")] == "fields: Lot no., Pieces"
    assert result["refused"] == []


# ---------------------------------------------------------------------------- impact

def test_impact_counts_records_new_and_removed_fields_of_this_tenant_only(db_engine, actor, make_tenant, lot):
    add(db_engine, actor, {"lot_no": "L1", "qty": 1})
    add(db_engine, actor, {"lot_no": "L2"})
    other = Actor(tenant_id=make_tenant(), user_id=7, lang="en", name="Other", is_admin=True)
    publish(db_engine, other, lot_form())
    add(db_engine, other, {"lot_no": "X"})
    d = copy.deepcopy(lot)
    d["fields"] = [f for f in d["fields"] if f["key"] != "qty"]
    d["fields"].append({"key": "carrier", "type": "text", "label": L("承运商", "Carrier")})
    result = planned(db_engine, actor, d)
    assert result["impact"]["records"] == 2 and result["refused"] == []
    assert "2 existing records: the 1 new field(s) stay empty on them" in result["impact"]["messages"]
    assert ("field 'Quantity' removed: its column and data are kept (1 records have a value) but it is no longer "
            "shown") in result["impact"]["messages"]
    assert planned(db_engine, other, d)["impact"]["records"] == 1


def test_a_lower_text_limit_keeps_the_column_and_is_reported_not_refused(db_engine, actor, lot):
    add(db_engine, actor, {"lot_no": "L-1234567890"})
    d = copy.deepcopy(lot)
    field(d, "lot_no")["max_length"] = 5
    field(d, "qty")["required"] = True
    result = planned(db_engine, actor, d)
    assert result["refused"] == []
    messages = " | ".join(result["impact"]["messages"])
    assert "max length becomes 5: 1 records have longer values" in messages
    assert "field 'Quantity' becomes required: 1 existing records have no value" in messages


def test_running_flows_continue_on_their_pinned_version(db_engine, actor, lot):
    flow = {"format": 1, "key": "lot_review", "label": L("批次审核", "Lot review"), "form": "lot", "nodes": [
        {"id": "start", "type": "start", "next": "qe"},
        {"id": "qe", "type": "approval", "label": L("质量审核", "QE review"),
         "assignees": [{"kind": "submitter"}], "mode": "any", "next": "done"},
        {"id": "done", "type": "end"}]}
    record = add(db_engine, actor, {"lot_no": "L1"})
    with session_scope(db_engine) as s:
        publish_flow(s, actor, flow)
    with session_scope(db_engine) as s:
        for state in ("running", "running", "returned", "approved"):
            s.execute(insert(flow_instances).values(
                tenant_id=actor.tenant_id, flow_key="lot_review", flow_version=1, form_key="lot", record_id=record,
                state=state, submitter_id=actor.user_id, run=1, tokens=[], joins={}, started_at=NOW,
                updated_at=NOW, lock_version=0))
    d = copy.deepcopy(flow)
    d["nodes"][1]["mode"] = "all"
    d["nodes"][1]["fields"] = {"qty": "readonly"}
    d["nodes"].insert(2, {"id": "cc", "type": "cc", "assignees": [{"kind": "submitter"}], "next": "done"})
    d["nodes"][1]["next"] = "cc"
    result = planned(db_engine, actor, d, kind="flow")
    assert result["impact"]["running_flows"] == 2
    assert result["impact"]["messages"] == [
        "2 running approvals continue on version 1 (also through later rejections and resubmissions); new "
        "submissions use the new version", "1 returned or withdrawn approvals continue on version 1 when resubmitted"]
    details = [(c["kind"], c["what"], c["path"], c["detail"]) for c in result["changes"]]
    assert ("added", "node", "cc", "type: CC") in details
    assert ("changed", "node", "qe", "approval mode: any → all") in details
    assert ("changed", "node", "qe", "field permission: (empty) → qty: read-only") in details


# ---------------------------------------------------------------------------- refusals

def refused(engine, actor, d: dict, lang: str = "en") -> dict[str, str]:
    return {r["path"]: r["message"] for r in planned(engine, actor, d, lang=lang)["refused"]}


def test_a_stored_kind_change_is_refused_before_publishing_with_the_label(db_engine, actor, lot):
    d = copy.deepcopy(lot)
    field(d, "lot_no")["type"] = "number"
    del field(d, "lot_no")["max_length"]
    found = refused(db_engine, actor, d)
    assert found["lot_no"].startswith("Field 'Lot no.': its stored values are text(40) and cannot become integer")
    assert "批号" in refused(db_engine, actor, d, lang="zh-CN")["lot_no"]
    with session_scope(db_engine) as s, pytest.raises(DefinitionError):     # what the plan foretold
        publish_form(s, actor, d)


def test_lower_precision_is_refused_only_when_values_have_more_decimals(db_engine, actor, lot):
    d = copy.deepcopy(lot)
    field(d, "qty")["precision"] = 0
    add(db_engine, actor, {"lot_no": "L1", "qty": 3})
    assert refused(db_engine, actor, d) == {}
    add(db_engine, actor, {"lot_no": "L2", "qty": 2.25})
    assert "decimal places go from 2 down to 0 but 1 records" in refused(db_engine, actor, d)["qty"]


def test_type_change_the_columns_accept_is_refused_when_records_have_values(db_engine, actor, lot):
    d = copy.deepcopy(lot)
    field(d, "result").update(type="text")
    del field(d, "result")["choices"]
    assert refused(db_engine, actor, d) == {}
    add(db_engine, actor, {"lot_no": "L1", "result": "OK"})
    assert "the type changes from Drop-down to Text but 1 records" in refused(db_engine, actor, d)["result"]


def test_subtable_and_plain_field_cannot_swap(db_engine, actor, lot):
    add(db_engine, actor, {"lot_no": "L1", "items": [{"part": "P1"}]})
    d = copy.deepcopy(lot)
    d["fields"] = [f if f["key"] != "items" else {"key": "items", "type": "text", "label": L("明细", "Items")}
                   for f in d["fields"]]
    field(d, "lot_no").update(type="subtable", fields=[{"key": "x", "type": "text", "label": L("X", "X")}])
    del field(d, "lot_no")["max_length"]
    found = refused(db_engine, actor, d)
    assert "a sub-table cannot become a single-value field (1 records have rows" in found["items"]
    assert "a single-value field cannot become a sub-table (1 records have a value)" in found["lot_no"]


def test_removing_an_option_in_use_is_refused_with_the_count(db_engine, actor, lot):
    add(db_engine, actor, {"lot_no": "L1", "result": "NG", "tags": ["vip"]})
    add(db_engine, actor, {"lot_no": "L2", "result": "NG", "tags": ["urgent", "vip"]})
    d = copy.deepcopy(lot)
    field(d, "result")["choices"] = field(d, "result")["choices"][:1]          # NG removed: used twice
    field(d, "tags")["choices"] = field(d, "tags")["choices"][:1]              # vip removed: used twice
    found = refused(db_engine, actor, d)
    assert found["result:NG"] == ("Field 'Result': the option 'Fail' (NG) is still used by 2 records and cannot be "
                                  "removed; keep the option (you may rename it, e.g. 'obsolete')")
    assert "option 'VIP' (vip) is still used by 2 records" in found["tags:vip"]
    d2 = copy.deepcopy(lot)
    field(d2, "tags")["choices"] = field(d2, "tags")["choices"][1:]            # urgent: used once
    assert "used by 1 records" in refused(db_engine, actor, d2)["tags:urgent"]


def test_a_key_reused_with_another_type_is_refused_while_old_values_remain(db_engine, actor, lot):
    add(db_engine, actor, {"lot_no": "L1", "owner": actor.user_id})
    gone = copy.deepcopy(lot)
    gone["fields"] = [f for f in gone["fields"] if f["key"] != "owner"]
    publish(db_engine, actor, gone)                                          # v2: owner removed (data kept)
    back = copy.deepcopy(gone)
    back["fields"].append({"key": "owner", "type": "reference", "label": L("关联批次", "Linked lot"), "form": "lot"})
    assert "the key 'owner' was used before by a User field and 1 records" in refused(db_engine, actor, back)["owner"]


def test_plan_works_on_an_invalid_draft(db_engine, actor, lot):
    d = copy.deepcopy(lot)
    d["fields"].append({"key": "Bad Key", "type": "nope"})
    result = planned(db_engine, actor, d)
    assert result["refused"] == [] and isinstance(result["changes"], list)


# ---------------------------------------------------------------------------- rules, reports, dashboards

def test_rule_changes_by_trigger_condition_and_action(db_engine, actor, lot):
    rule = {"format": 1, "key": "ng_alert", "label": L("不合格提醒", "NG alert"), "form": "lot",
            "trigger": {"type": "record_created"}, "condition": "result = \"NG\"",
            "actions": [{"type": "notify", "to": {"roles": ["qe"]}, "subject": "Fail", "body": "Lot failed"}]}
    with session_scope(db_engine) as s:
        rule_defs.publish_rule(s, actor, rule)
    d = copy.deepcopy(rule)
    d["trigger"] = {"type": "record_updated"}
    d["condition"] = "result = \"NG\" AND qty > 1"
    d["actions"][0]["subject"] = "Attention"
    result = planned(db_engine, actor, d, kind="rule")
    details = [(c["kind"], c["what"], c["path"], c["detail"]) for c in result["changes"]]
    assert ("changed", "property", "trigger", "trigger.type: record_created → record_updated") in details
    assert ("changed", "property", "condition", 'condition: result = "NG" → result = "NG" AND qty > 1') in details
    assert ("changed", "action", "actions[0]", "subject: Fail → Attention") in details


def test_report_and_dashboard_changes():
    report = {"key": "r", "label": L("报表", "Report"), "dataset": {
        "form": "lot", "dimensions": [{"field": "result", "key": "result", "label": L("结果", "Result")}],
        "measures": [{"agg": "count", "key": "n", "label": L("数量", "Count")}]}, "chart": {"type": "bar"}}
    new = copy.deepcopy(report)
    new["chart"]["type"] = "pie"
    new["dataset"]["measures"].append({"agg": "sum", "field": "qty", "key": "total", "label": L("总数", "Total")})
    changes = [(c["kind"], c["path"], c["label"], c["detail"]) for c in diff("report", report, new, "en")]
    assert ("changed", "chart", "Report", "chart.type: bar → pie") in changes
    assert ("added", "dataset.measures.total", "Total", "agg: sum, field: qty") in changes
    board = {"key": "b", "label": L("看板", "Board"), "items": [{"report": "r", "x": 0, "y": 0, "w": 6, "h": 4}]}
    moved = copy.deepcopy(board)
    moved["items"][0]["w"] = 12
    moved["items"].append({"report": "r2", "x": 0, "y": 4, "w": 6, "h": 4})
    changes = [(c["kind"], c["path"], c["detail"]) for c in diff("dashboard", board, moved, "zh-CN")]
    assert ("changed", "items.r", "w: 6 → 12") in changes and ("added", "items.r2", "x: 0, y: 4, w: 6, h: 4") in changes
