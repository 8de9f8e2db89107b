"""Small forms resembling the QMS contract's IQC inspection and 8D report, an approval flow with an
e-signature, and a world to print them in (shared by the engine and route tests)."""
from __future__ import annotations

import copy
from pathlib import Path

from engine.services import records as record_service
from tests.engine.flows.support import L, make_world

ROOT = Path(__file__).resolve().parents[3]
CHOICE = lambda code, zh, en: {"code": code, "label": L(zh, en)}  # noqa: E731


def print_of(form_key: str, print_key: str) -> dict:
    """A print template shipped in templates_qms (HTML + its sidecar JSON), as a ``prints`` entry."""
    import json
    app = {"iqc_inspection": "iqc", "eight_d": "eight_d"}[form_key]
    folder = ROOT / "templates_qms" / app / "prints"
    meta = json.loads((folder / f"{form_key}.{print_key}.json").read_text(encoding="utf-8"))
    return {"key": print_key, "label": meta["label"], "paper": meta.get("paper", "A4"),
            "template": (folder / f"{form_key}.{print_key}.html").read_text(encoding="utf-8")}


IQC_FORM = {"format": 1, "key": "iqc_inspection", "label": L("来料检验单", "Incoming inspection"),
            "numbering": "IQC-{YYYY}-{0000}", "title_template": "{lot_no}", "fields": [
    {"key": "supplier_name", "type": "text", "label": L("供应商", "Supplier")},
    {"key": "part_name", "type": "text", "label": L("物料", "Part")},
    {"key": "lot_no", "type": "text", "label": L("批号", "Lot no.")},
    {"key": "lot_size", "type": "number", "label": L("批量", "Lot size"), "precision": 0},
    {"key": "po_no", "type": "text", "label": L("采购单号", "PO no.")},
    {"key": "received_on", "type": "date", "label": L("到货日期", "Received on")},
    {"key": "inspection_level", "type": "select", "label": L("检验水平", "Inspection level"),
     "choices": [CHOICE("II", "一般检验水平 II", "General level II"), CHOICE("S-2", "特殊检验水平 S-2", "Special S-2")]},
    {"key": "aql_major", "type": "text", "label": L("主要缺陷 AQL", "AQL major")},
    {"key": "sample_size", "type": "number", "label": L("样本量", "Sample size"), "precision": 0},
    {"key": "characteristics", "type": "subtable", "label": L("检验项目", "Characteristics"), "fields": [
        {"key": "char_no", "type": "text", "label": L("序号", "No.")},
        {"key": "name", "type": "text", "label": L("检验项目", "Characteristic")},
        {"key": "nominal", "type": "number", "precision": 3, "label": L("标准值", "Nominal")},
        {"key": "lsl", "type": "number", "precision": 3, "label": L("下限", "LSL")},
        {"key": "usl", "type": "number", "precision": 3, "label": L("上限", "USL")},
        {"key": "value", "type": "number", "precision": 3, "label": L("实测值", "Measured")},
        {"key": "result", "type": "select", "label": L("判定", "Result"),
         "choices": [CHOICE("OK", "合格", "OK"), CHOICE("NG", "不合格", "NG")]}]},
    {"key": "defects", "type": "subtable", "label": L("缺陷记录", "Defects"), "fields": [
        {"key": "code", "type": "text", "label": L("缺陷代码", "Code")},
        {"key": "description", "type": "text", "label": L("缺陷描述", "Description")},
        {"key": "defect_class", "type": "select", "label": L("缺陷等级", "Class"),
         "choices": [CHOICE("CR", "致命", "Critical"), CHOICE("MA", "严重", "Major"), CHOICE("MI", "轻微", "Minor")]},
        {"key": "qty", "type": "number", "label": L("数量", "Qty"), "precision": 0}]},
    {"key": "result", "type": "select", "label": L("检验结论", "Result"),
     "choices": [CHOICE("accept", "接收", "Accept"), CHOICE("reject", "拒收", "Reject")]},
    {"key": "disposition", "type": "select", "label": L("处置", "Disposition"),
     "choices": [CHOICE("release", "放行", "Release"), CHOICE("return", "退货", "Return to supplier")]},
    {"key": "inspector", "type": "user", "label": L("检验员", "Inspector")},
    {"key": "unit_cost", "type": "number", "precision": 2, "label": L("单价", "Unit cost")},
    {"key": "remarks", "type": "textarea", "label": L("备注", "Remarks")},
]}

IQC_FLOW = {"format": 1, "key": "iqc_review", "label": L("来料检验审核", "IQC review"), "form": "iqc_inspection",
            "nodes": [{"id": "start", "type": "start", "next": "qe"},
                      {"id": "qe", "type": "approval", "label": L("质量工程师审核", "QE review"),
                       "assignees": [{"kind": "role", "role": "qe"}], "mode": "any",
                       "signature": {"meaning": "approved"}, "next": "done"},
                      {"id": "done", "type": "end"}]}

EIGHT_D_FORM = {"format": 1, "key": "eight_d", "label": L("8D 报告", "8D report"), "numbering": "8D-{YYYY}-{0000}",
                "fields": [
    {"key": "source_no", "type": "text", "label": L("来源单号", "Source no.")},
    {"key": "customer_name", "type": "text", "label": L("客户/供应商", "Customer / supplier")},
    {"key": "champion", "type": "user", "label": L("倡导者", "Champion")},
    {"key": "leader", "type": "user", "label": L("组长", "Team leader")},
    {"key": "d0_symptom", "type": "textarea", "label": L("D0 问题征兆与紧急响应", "D0 Symptom & emergency response")},
    {"key": "d1_team", "type": "subtable", "label": L("D1 小组成员", "D1 Team"), "fields": [
        {"key": "member", "type": "text", "label": L("姓名", "Name")},
        {"key": "role", "type": "text", "label": L("职责", "Role")}]},
    {"key": "d2_problem", "type": "textarea", "label": L("D2 问题描述", "D2 Problem description")},
    {"key": "d3_containment", "type": "textarea", "label": L("D3 临时遏制措施", "D3 Containment")},
    {"key": "d4_root_cause", "type": "textarea", "label": L("D4 根本原因", "D4 Root cause")},
    {"key": "d5_actions", "type": "textarea", "label": L("D5 永久纠正措施", "D5 Permanent corrective actions")},
    {"key": "d6_verification", "type": "textarea", "label": L("D6 实施与验证", "D6 Implementation & validation")},
    {"key": "d7_prevention", "type": "textarea", "label": L("D7 预防再发生", "D7 Prevent recurrence")},
    {"key": "d8_closure", "type": "textarea", "label": L("D8 结案与表彰", "D8 Closure & recognition")},
    {"key": "due_date", "type": "date", "label": L("要求完成日期", "Due date")},
    {"key": "closed_on", "type": "date", "label": L("结案日期", "Closed on")},
]}


def with_prints(form: dict, *prints: dict) -> dict:
    out = copy.deepcopy(form)
    out["prints"] = list(prints)
    return out


def iqc_data(inspector: int, **overrides) -> dict:
    data = {"supplier_name": "苏州精密五金有限公司", "part_name": "M6 螺栓 / Bolt M6", "lot_no": "L2026-0417",
            "lot_size": 3200, "po_no": "PO-88123", "received_on": "2026-04-16", "inspection_level": "II",
            "aql_major": "1.0", "sample_size": 125, "result": "reject", "disposition": "return",
            "inspector": inspector, "unit_cost": 0.35, "remarks": "表面划伤 <script>alert(1)</script>",
            "characteristics": [
                {"char_no": "1", "name": "长度 Length", "nominal": 20, "lsl": 19.9, "usl": 20.1, "value": 20.02,
                 "result": "OK"},
                {"char_no": "2", "name": "螺纹 Thread", "nominal": 6, "lsl": 5.95, "usl": 6.05, "value": 6.08,
                 "result": "NG"}],
            "defects": [{"code": "D-07", "description": "划伤 Scratch", "defect_class": "MA", "qty": 4}]}
    data.update(overrides)
    return data


def iqc_world(engine, admin, prints: tuple[dict, ...] = ()):
    """A tenant with the IQC form (optionally with ``prints``), its review flow and people."""
    return make_world(engine, admin, copy.deepcopy(IQC_FLOW), with_prints(IQC_FORM, *prints))


def signed_iqc(world, **overrides) -> int:
    """An IQC record created by the admin and approved with an e-signature by Quinn (QE)."""
    with world.session() as s:
        rid = record_service.create_record(s, world.admin, "iqc_inspection",
                                           iqc_data(world["sam"].user_id, **overrides)).id
    world.act(rid, "quinn", comment="同意退货 / return approved")
    return rid


def eight_d_world(engine, admin, prints: tuple[dict, ...] = ()):
    """A tenant with the 8D form (optionally with ``prints``) and a closure approval with an e-signature."""
    flow = copy.deepcopy(IQC_FLOW)
    flow.update(key="eight_d_close", form="eight_d", label=L("8D 结案审批", "8D closure"))
    flow["nodes"][1]["label"] = L("质量经理批准结案", "Quality manager closes")
    return make_world(engine, admin, flow, with_prints(EIGHT_D_FORM, *prints))


def eight_d_data(champion: int, leader: int) -> dict:
    return {"source_no": "NCR-2026-0042", "customer_name": "华东汽车零部件有限公司", "champion": champion,
            "leader": leader, "d0_symptom": "客户产线发现 M6 螺栓螺纹不通规，紧急隔离在途 3 批。",
            "d1_team": [{"member": "张伟", "role": "组长 / 质量工程师"}, {"member": "李娜", "role": "生产主管"},
                        {"member": "王强", "role": "供应商质量 SQE"}],
            "d2_problem": "5W2H：2026-04-15 客户来料检验发现螺纹中径超上限 0.03 mm，抽检 125 件不良 4 件。",
            "d3_containment": "1. 全检库存 12,000 件\n2. 在途 3 批退回\n3. 客户处 100% 挑选",
            "d4_root_cause": "发生原因：搓丝模具磨损未按时更换。\n流出原因：出货检验未覆盖螺纹中径。",
            "d5_actions": "模具寿命纳入控制计划，2 万件强制更换。", "d6_verification": "连续 5 批 Cpk ≥ 1.67。",
            "d7_prevention": "更新 PFMEA 与控制计划，水平展开到 M5/M8 产品。", "d8_closure": "客户同意结案，表彰小组。",
            "due_date": "2026-05-30", "closed_on": "2026-05-20"}


def signed_eight_d(world) -> int:
    with world.session() as s:
        rid = record_service.create_record(s, world.admin, "eight_d",
                                           eight_d_data(world["hannah"].user_id, world["sam"].user_id)).id
    world.act(rid, "quinn", comment="准予结案 / closure approved")
    return rid
