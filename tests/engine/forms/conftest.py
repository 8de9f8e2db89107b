"""Builders for the forms tests: small hand-written definitions loaded through ``load_form``."""
from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from engine.definitions import load_form
from engine.errors import RecordValidationError
from engine.expressions import EvalContext


def _field(key: str, type: str = "text", zh: str | None = None, en: str | None = None,
           **props: Any) -> dict:
    """A field definition dict; labels default to the key."""
    return {"key": key, "type": type, "label": {"zh-CN": zh or key, "en": en or key}, **props}


def _form(*fields: dict, key: str = "lot", zh: str = "批次", en: str = "Lot") -> Any:
    return load_form({"format": 1, "key": key, "label": {"zh-CN": zh, "en": en},
                      "fields": list(fields)})


@pytest.fixture
def F():
    """``F("lot_size", "number", "批量", "Lot size", min=1)`` → a field definition dict."""
    return _field


@pytest.fixture
def make_form():
    """``make_form(F(...), F(...))`` → a loaded FormDef."""
    return _form


@pytest.fixture
def ctx():
    """A fixed clock (2026-03-15 08:00 +08:00) and user 7."""
    tz = dt.timezone(dt.timedelta(hours=8))
    return EvalContext(user_id=7, now=dt.datetime(2026, 3, 15, 8, 0, tzinfo=tz), tz=tz)


@pytest.fixture
def problems_of():
    """``problems_of(fn, *args, **kw)`` → {path: [English messages]} of the RecordValidationError."""
    def run(fn, *args, **kwargs) -> dict[str, list[str]]:
        with pytest.raises(RecordValidationError) as info:
            fn(*args, **kwargs)
        out: dict[str, list[str]] = {}
        for problem in info.value.errors:
            out.setdefault(problem.field, []).append(problem.message.en)
        return out
    return run


IQC_FORM = {
    "format": 1, "key": "iqc", "label": {"zh-CN": "来料检验", "en": "Incoming inspection"},
    "fields": [
        _field("lot_no", "text", "批号", "Lot number", required=True, pattern="[A-Z]{2}-\\d{4}"),
        _field("lot_size", "number", "批量", "Lot size", required=True, min=1, max=100000),
        _field("characteristics", "subtable", "检验项目", "Characteristics", fields=[
            _field("name", "text", "项目", "Characteristic", required=True),
            _field("lsl", "number", "规格下限", "LSL", precision=3),
            _field("usl", "number", "规格上限", "USL", precision=3, min={"expr": "lsl"}),
            _field("readings", "subtable", "测量值", "Readings", fields=[
                _field("value", "number", "测量值", "Value", precision=3, required=True),
                _field("ok", "formula", "判定", "OK",
                       formula='IF(OR(value < lsl, value > usl), "NG", "OK")'),
            ]),
            _field("mean", "formula", "均值", "Mean", formula="AVERAGE(readings.value)"),
            # declared before what it uses: the plan orders formulas by dependency
            _field("result", "formula", "结果", "Result",
                   formula='IF(ng_count > 0, "NG", "OK")'),
            _field("ng_count", "formula", "不合格数", "NG count", formula='COUNTIF(readings.ok, "NG")'),
        ]),
        _field("verdict", "formula", "判定结果", "Verdict",
               formula='IF(ng_items = 0, "accept", "reject")'),
        _field("ng_items", "formula", "不合格项数", "NG characteristics",
               formula='COUNTIF(characteristics.result, "NG")'),
    ],
}


@pytest.fixture
def iqc_form():
    """Lot → characteristics → readings, with formulas at every level."""
    return load_form(IQC_FORM)
