"""A 10-field inspection form for the import/export tests (and the timing script)."""
from __future__ import annotations

from datetime import datetime, timezone

INSPECTION = {
    "format": 1, "key": "inspection", "label": {"zh-CN": "检验记录", "en": "Inspection"},
    "fields": [
        {"key": "lot_no", "type": "text", "label": {"zh-CN": "批号", "en": "Lot number"}, "required": True,
         "indexed": True},
        {"key": "supplier", "type": "text", "label": {"zh-CN": "供应商", "en": "Supplier"}},
        {"key": "part_no", "type": "text", "label": {"zh-CN": "物料编码", "en": "Part number"}},
        {"key": "inspector", "type": "user", "label": {"zh-CN": "检验员", "en": "Inspector"}},
        {"key": "inspected_at", "type": "datetime", "label": {"zh-CN": "检验时间", "en": "Inspected at"}},
        {"key": "sample_size", "type": "number", "label": {"zh-CN": "样本量", "en": "Sample size"},
         "precision": 0, "min": 1, "required": True},
        {"key": "defect_qty", "type": "number", "label": {"zh-CN": "不良数", "en": "Defect quantity"},
         "precision": 0, "min": 0},
        {"key": "defect_code", "type": "multiselect", "label": {"zh-CN": "缺陷代码", "en": "Defect codes"},
         "choices": [{"code": "D01", "label": {"zh-CN": "尺寸不良", "en": "Dimension"}},
                     {"code": "D02", "label": {"zh-CN": "外观不良", "en": "Appearance"}}]},
        {"key": "result", "type": "select", "label": {"zh-CN": "判定", "en": "Result"},
         "choices": [{"code": "OK", "label": {"zh-CN": "合格", "en": "Pass"}},
                     {"code": "NG", "label": {"zh-CN": "不合格", "en": "Fail"}}]},
        {"key": "measured", "type": "number", "label": {"zh-CN": "实测值", "en": "Measured"}, "precision": 3},
        {"key": "defect_rate", "type": "formula", "label": {"zh-CN": "不良率", "en": "Defect rate"},
         "formula": "defect_qty / sample_size"},
    ],
}
NOW = datetime(2026, 4, 17, 8, 30, tzinfo=timezone.utc)


def row(i: int, **over) -> dict:
    """Valid record data for lot ``L{i:05d}``."""
    data = {"lot_no": f"L{i:05d}", "supplier": "华东金属", "part_no": f"P-{i % 50}", "inspector": 7,
            "inspected_at": "2026-04-16T09:15:00+08:00", "sample_size": 50, "defect_qty": i % 3,
            "defect_code": ["D01", "D02"] if i % 2 else [], "result": "OK" if i % 3 == 0 else "NG",
            "measured": 10.0 + (i % 7) / 1000}
    data.update(over)
    return data
