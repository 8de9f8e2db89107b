"""Every problem of a payload at once, with paths through nested sub-tables, in form order."""
from __future__ import annotations

import pytest

from engine.errors import RecordValidationError
from engine.forms import validate_record


def test_six_different_errors_give_six_problems_with_paths(iqc_form, ctx):
    data = {
        "lot_no": "ab-1",                                   # 1 pattern
        "lot_size": 0,                                      # 2 min
        "supplier_code": "X",                               # 3 unknown field
        "characteristics": [
            {"name": "Diameter", "lsl": 9.9, "usl": 10.1, "readings": [{"value": 10}]},
            {"name": "", "lsl": 1, "usl": 2, "readings": [{"value": 1.5}]},  # 4 required
            {"name": "Length", "lsl": 5, "usl": 4,                      # 5 min by expression
             "readings": [{"value": 1}, {"value": 2}, {"value": 3}, {"value": "?"}]},  # 6 type
        ],
    }
    with pytest.raises(RecordValidationError) as info:
        validate_record(iqc_form, data, ctx=ctx)
    got = [(p.field, p.message.en) for p in info.value.errors]
    assert [path for path, _ in got] == [
        "lot_no", "lot_size", "characteristics[1].name", "characteristics[2].usl",
        "characteristics[2].readings[3].value", "supplier_code"]
    messages = dict(got)
    assert messages["lot_no"] == "'Lot number' is not in the required format"
    assert messages["lot_size"] == "'Lot size' must be ≥ 1"
    assert messages["characteristics[1].name"] == "'Characteristic' is required"
    assert messages["characteristics[2].usl"] == "'USL' must be ≥ 5"
    assert messages["characteristics[2].readings[3].value"].startswith("'Value': ")
    assert messages["supplier_code"] == "Unknown field 'supplier_code'"
    assert all(p.message.zh and p.message.zh != p.message.en for p in info.value.errors)
    assert "6" in info.value.message.en


def test_problems_serialise_for_the_api(iqc_form):
    with pytest.raises(RecordValidationError) as info:
        validate_record(iqc_form, {"lot_size": -1})
    as_json = [p.to_dict("zh-CN") for p in info.value.errors]
    assert {"field": "lot_size", "message": "「批量」必须 ≥ 1",
            "messages": {"zh-CN": "「批量」必须 ≥ 1", "en": "'Lot size' must be ≥ 1"}} in as_json
