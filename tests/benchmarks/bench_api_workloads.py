"""The two workloads of ``bench_api.py``: form definitions and the records posted to both servers.

(a) a 10-field inspection record; (b) a 30-field inspection report (required fields, ranges,
patterns, cross-field validations, a serial number, five formulas) with a 10-row sub-table
that has its own validation and three row formulas. ``record_b(n, with_formulas=True)`` adds
the formula values computed in Python for the baseline, which stores rows as given.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

TZ = timezone(timedelta(hours=8))


def label(zh: str, en: str) -> dict:
    return {"zh-CN": zh, "en": en}


def choices(*codes: str) -> list[dict]:
    return [{"code": c, "label": label(c, c)} for c in codes]


INSPECTION_FORM = {
    "format": 1, "key": "bench_inspection", "label": label("检验记录", "Inspection record"),
    "fields": [
        {"key": "lot_no", "type": "text", "label": label("批号", "Lot number"), "required": True, "max_length": 40},
        {"key": "supplier", "type": "text", "label": label("供应商", "Supplier"), "required": True},
        {"key": "part_no", "type": "text", "label": label("物料编码", "Part number"), "required": True},
        {"key": "inspector", "type": "text", "label": label("检验员", "Inspector")},
        {"key": "inspected_at", "type": "datetime", "label": label("检验时间", "Inspected at")},
        {"key": "sample_size", "type": "number", "label": label("样本量", "Sample size"), "precision": 0, "min": 1},
        {"key": "defect_qty", "type": "number", "label": label("不良数", "Defects"), "precision": 0, "min": 0},
        {"key": "defect_code", "type": "select", "label": label("缺陷代码", "Defect code"),
         "choices": choices("NONE", "DIM", "APP", "FUN")},
        {"key": "result", "type": "select", "label": label("判定", "Result"), "choices": choices("OK", "NG")},
        {"key": "measured", "type": "number", "label": label("测量值", "Measured"), "precision": 3},
    ],
}


def _num(key: str, zh: str, en: str, precision: int = 0, **extra) -> dict:
    return {"key": key, "type": "number", "label": label(zh, en), "precision": precision, **extra}


def _text(key: str, zh: str, en: str, **extra) -> dict:
    return {"key": key, "type": "text", "label": label(zh, en), **extra}


def _formula(key: str, zh: str, en: str, formula: str, **extra) -> dict:
    return {"key": key, "type": "formula", "label": label(zh, en), "formula": formula, **extra}


def _bool(key: str, zh: str, en: str) -> dict:
    return {"key": key, "type": "boolean", "label": label(zh, en), "default": False}


ITEM_FIELDS = [
    _num("seq", "序号", "No."),
    _text("characteristic", "特性", "Characteristic", required=True),
    _num("nominal", "标准值", "Nominal", 3),
    _num("lsl", "下限", "LSL", 3),
    _num("usl", "上限", "USL", 3, validations=[{"expr": "usl > lsl", "message": label("上限须大于下限", "USL > LSL")}]),
    _num("measured", "实测值", "Measured", 3, required=True),
    _formula("deviation", "偏差", "Deviation", "measured - nominal", precision=3),
    _formula("abs_dev", "偏差绝对值", "Absolute deviation", "ABS(measured - nominal)", precision=3),
    _formula("ng", "超差", "Out of spec", "IF(OR(measured > usl, measured < lsl), 1, 0)", precision=0),
]

REPORT_FORM = {
    "format": 1, "key": "bench_report", "label": label("检验报告", "Inspection report"),
    "numbering": "RPT-{YYYY}-{00000}",
    "fields": [
        _text("report_no", "报告编号", "Report number", required=True, pattern="^R[0-9-]+$"),
        _text("lot_no", "批号", "Lot number", required=True, max_length=40),
        _text("supplier", "供应商", "Supplier", required=True),
        _text("part_no", "物料编码", "Part number", required=True),
        _text("part_name", "物料名称", "Part name"),
        _text("drawing_rev", "图纸版本", "Drawing revision"),
        _text("inspector", "检验员", "Inspector", required=True),
        {"key": "inspected_at", "type": "datetime", "label": label("检验时间", "Inspected at"), "required": True},
        {"key": "received_on", "type": "date", "label": label("到货日期", "Received on")},
        _num("lot_size", "批量", "Lot size", required=True, min=1),
        _num("sample_size", "样本量", "Sample size", min=1, validations=[
            {"expr": "sample_size <= lot_size", "message": label("样本量不能大于批量", "Sample size > lot size")}]),
        _num("defect_qty", "不良数", "Defects", min=0, validations=[
            {"expr": "defect_qty <= sample_size", "message": label("不良数不能大于样本量", "Defects > sample")}]),
        {"key": "defect_code", "type": "select", "label": label("缺陷代码", "Defect code"),
         "choices": choices("NONE", "DIM", "APP", "FUN")},
        {"key": "severity", "type": "select", "label": label("严重度", "Severity"),
         "choices": choices("CR", "MA", "MI")},
        {"key": "aql", "type": "select", "label": label("AQL", "AQL"), "choices": choices("0.65", "1.0", "2.5")},
        {"key": "inspection_level", "type": "radio", "label": label("检验水平", "Level"),
         "choices": choices("I", "II", "III")},
        _bool("first_article", "首件", "First article"),
        _num("temperature", "温度", "Temperature", 1, min=-20, max=60),
        _num("humidity", "湿度", "Humidity", 1, min=0, max=100),
        _text("gauge_id", "量具编号", "Gauge"),
        {"key": "gauge_due", "type": "date", "label": label("量具校准到期", "Gauge due")},
        _bool("packaging_ok", "包装合格", "Packaging OK"),
        _bool("label_ok", "标签合格", "Label OK"),
        _bool("coc_received", "已收到出厂报告", "CoC received"),
        {"key": "remarks", "type": "textarea", "label": label("备注", "Remarks")},
        {"key": "items", "type": "subtable", "label": label("检验项目", "Items"), "min_rows": 1, "max_rows": 50,
         "fields": ITEM_FIELDS},
        _formula("measured_mean", "实测均值", "Mean measured", "AVERAGE(items.measured)", precision=4),
        _formula("items_ng", "超差项数", "Items out of spec", "SUM(items.ng)", precision=0),
        _formula("defect_rate", "不良率%", "Defect rate %", "ROUND(defect_qty / sample_size * 100, 2)", precision=2),
        _formula("max_deviation", "最大偏差", "Max deviation", "MAX(items.abs_dev)", precision=3),
        _formula("result", "判定", "Result", 'IF(AND(items_ng = 0, defect_qty = 0), "ACCEPT", "REJECT")'),
    ],
}


def record_a(n: int) -> dict:
    """One 10-field inspection record (the same dict goes to both servers)."""
    return {"lot_no": f"L{n:08d}", "supplier": "SUP-017 Acme", "part_no": "PN-88213", "inspector": "Wang Fang",
            "inspected_at": datetime(2026, 4, 17, 8, 30, tzinfo=TZ).isoformat(), "sample_size": 125,
            "defect_qty": n % 3, "defect_code": "DIM" if n % 3 else "NONE", "result": "NG" if n % 3 else "OK",
            "measured": 10.0 + (n % 7) / 100}


def _items(n: int) -> list[dict]:
    rows = []
    for i in range(10):
        nominal, measured = 10.0 + i, 10.0 + i + ((n + i) % 5 - 2) / 100
        rows.append({"seq": i + 1, "characteristic": f"Dim {i + 1}", "nominal": nominal, "lsl": nominal - 0.05,
                     "usl": nominal + 0.05, "measured": round(measured, 3)})
    return rows


def record_b(n: int, with_formulas: bool = False) -> dict:
    """One 30-field report with 10 item rows; the baseline also gets the formula values precomputed."""
    data = {
        "report_no": f"R{n:08d}", "lot_no": f"L{n:08d}", "supplier": "SUP-017 Acme", "part_no": "PN-88213",
        "part_name": "Bracket", "drawing_rev": "C", "inspector": "Wang Fang",
        "inspected_at": datetime(2026, 4, 17, 8, 30, tzinfo=TZ).isoformat(), "received_on": "2026-04-16",
        "lot_size": 800, "sample_size": 80, "defect_qty": n % 2, "defect_code": "NONE", "severity": "MI",
        "aql": "1.0", "inspection_level": "II", "first_article": False, "temperature": 22.5, "humidity": 45.0,
        "gauge_id": "G-0042", "gauge_due": "2026-12-31", "packaging_ok": True, "label_ok": True,
        "coc_received": True, "remarks": "Routine incoming inspection", "items": _items(n),
    }
    if with_formulas:
        for row in data["items"]:
            row["deviation"] = round(row["measured"] - row["nominal"], 3)
            row["abs_dev"] = abs(row["deviation"])
            row["ng"] = 1 if not row["lsl"] <= row["measured"] <= row["usl"] else 0
        values = [r["measured"] for r in data["items"]]
        data["measured_mean"] = round(sum(values) / len(values), 4)
        data["items_ng"] = sum(r["ng"] for r in data["items"])
        data["defect_rate"] = round(data["defect_qty"] / data["sample_size"] * 100, 2)
        data["max_deviation"] = max(r["abs_dev"] for r in data["items"])
        data["result"] = "ACCEPT" if data["items_ng"] == 0 and data["defect_qty"] == 0 else "REJECT"
    return data
