"""coerce / to_json / storage / expr_type of each field type on good and bad values."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from engine.definitions.builder import build_field
from engine.expressions.types import BOOLEAN, DATE, DATETIME, FILE, NUMBER, TEXT, ExprType, Kind, id_of, list_of
from engine.fields import field_type
from engine.fields.base import Column, InvalidValue, StorageKind

CHOICES = [{"code": "OK", "label": {"zh-CN": "合格", "en": "OK"}}, {"code": "NG", "label": {"zh-CN": "不合格", "en": "NG"}}]


def make(type_: str, **props):
    return build_field({"key": "f", "type": type_, "label": {"zh-CN": "字段", "en": "Field"}, **props})


GOOD = [
    ("text", {}, "  LOT-1 ", "LOT-1"),
    ("text", {}, "", None),
    ("text", {}, 12, "12"),
    ("textarea", {}, "line 1\nline 2\n", "line 1\nline 2\n"),
    ("textarea", {}, "   ", None),
    ("barcode", {}, "6901234567892", "6901234567892"),
    ("number", {}, 12, 12),
    ("number", {}, "12", 12),
    ("number", {}, 12.0, 12),
    ("number", {"precision": 2}, "3.14159", 3.14),
    ("number", {"precision": 2}, 2.675, 2.68),          # half-up on the decimal text, not binary float
    ("number", {"precision": 1}, -0.25, -0.3),
    ("number", {"precision": 3}, " 1e-3 ", 0.001),
    ("number", {}, "", None),
    ("date", {}, "2026-03-15", date(2026, 3, 15)),
    ("date", {}, date(2026, 1, 2), date(2026, 1, 2)),
    ("datetime", {}, "2026-03-15T08:30:00+08:00", datetime(2026, 3, 15, 0, 30, tzinfo=timezone.utc)),
    ("datetime", {}, "2026-03-15T08:30:00Z", datetime(2026, 3, 15, 8, 30, tzinfo=timezone.utc)),
    ("select", {"choices": CHOICES}, "NG", "NG"),
    ("radio", {"choices": CHOICES}, "OK", "OK"),
    ("multiselect", {"choices": CHOICES}, ["NG", "OK", "NG"], ["NG", "OK"]),
    ("multiselect", {"choices": CHOICES}, [], None),
    ("boolean", {}, True, True),
    ("boolean", {}, False, False),
    ("boolean", {}, "false", False),
    ("boolean", {}, "TRUE", True),
    ("user", {}, 7, 7),
    ("user", {}, "42", 42),
    ("user", {"multiple": True}, [3, "4", 3], [3, 4]),
    ("department", {}, 5, 5),
    ("attachment", {}, {"id": "f1", "name": "coc.pdf"}, [{"id": "f1", "name": "coc.pdf"}]),
    ("image", {}, [{"id": 1, "content_type": "image/jpeg"}], [{"id": 1, "content_type": "image/jpeg"}]),
    ("signature", {}, {"id": "s1"}, [{"id": "s1"}]),
    ("reference", {"form": "supplier"}, 9, 9),
    ("serial", {"pattern": "NCR-{0000}"}, "NCR-0001", "NCR-0001"),
    ("subtable", {"fields": [{"key": "qty", "type": "number", "label": {"zh-CN": "数量", "en": "Qty"}}]},
     [{"qty": 1}], [{"qty": 1}]),
    ("formula", {"formula": "1/3", "precision": 2}, 1 / 3, 0.33),
]


@pytest.mark.parametrize("type_, props, value, expected", GOOD)
def test_coerce_accepts(type_, props, value, expected):
    result = field_type(type_).coerce(make(type_, **props), value)
    assert result == expected and type(result) is type(expected)


BAD = [
    ("number", {}, "12abc", "'12abc' is not a valid number", "“12abc”不是有效的数字"),
    ("number", {}, True, "Expected a number", "应为数字"),
    ("number", {}, 12.5, "Expected a whole number", "应为整数"),
    ("number", {}, float("inf"), "not a valid number", "不是有效的数字"),
    ("number", {"precision": 2}, 1e20, "out of range", "超出范围"),
    ("text", {"max_length": 3}, "ABCD", "at most 3 characters", "最多 3 个字符"),
    ("text", {}, "x" * 256, "at most 255 characters", "最多 255 个字符"),
    ("text", {}, ["a"], "Expected text", "应为文本"),
    ("date", {}, "15/03/2026", "YYYY-MM-DD", "YYYY-MM-DD"),
    ("date", {}, "2026-02-30", "does not exist", "不存在"),
    ("date", {}, datetime(2026, 1, 1, tzinfo=timezone.utc), "without a time", "不含时间"),
    ("datetime", {}, "2026-03-15T08:30:00", "has no time zone", "缺少时区"),
    ("datetime", {}, "2026-03-15", "ISO 8601 with an offset", "带时区"),
    ("datetime", {}, "yesterday", "ISO 8601", "ISO 8601"),
    ("select", {"choices": CHOICES}, "MAYBE", "not an option code of this field; choose one of: OK, NG", "不是该字段的选项编码"),
    ("select", {"choices": CHOICES}, 1, "not an option code", "选项编码"),
    ("multiselect", {"choices": CHOICES}, "OK", "Expected a list of option codes", "应为选项编码的列表"),
    ("multiselect", {"choices": CHOICES}, ["OK", "BAD"], "'BAD' is not an option code", "“BAD”"),
    ("boolean", {}, "yes", "Expected true or false", "应为 true 或 false"),
    ("boolean", {}, 1, "Expected true or false", "应为 true 或 false"),
    ("user", {}, -1, "positive whole-number id", "正整数 ID"),
    ("user", {}, [1, 2], "positive whole-number id", "正整数 ID"),
    ("user", {}, True, "positive whole-number id", "正整数 ID"),
    ("attachment", {"max_files": 1}, [{"id": 1}, {"id": 2}], "At most 1 file(s), got 2", "最多 1 个文件"),
    ("attachment", {}, [{"name": "no id"}], "object with an id", "带 id 的对象"),
    ("attachment", {"accept": [".pdf"]}, [{"id": 1, "name": "x.exe"}], "not an allowed type", "类型不允许"),
    ("attachment", {"max_size_mb": 1}, [{"id": 1, "size": 2_000_000}], "larger than 1 MB", "超过 1 MB"),
    ("image", {}, {"id": 1, "content_type": "application/pdf"}, "not an allowed type", "类型不允许"),
    ("signature", {}, [{"id": 1}, {"id": 2}], "At most 1 file(s)", "最多 1 个文件"),
    ("reference", {"form": "supplier"}, "abc", "positive whole-number id", "正整数 ID"),
    ("subtable", {"max_rows": 1, "fields": [{"key": "q", "type": "number", "label": {"zh-CN": "数", "en": "Q"}}]},
     [{}, {}], "At most 1 rows", "最多 1 行"),
    ("subtable", {"fields": [{"key": "q", "type": "number", "label": {"zh-CN": "数", "en": "Q"}}]},
     ["row"], "list of row objects", "行对象的列表"),
]


@pytest.mark.parametrize("type_, props, value, en, zh", BAD)
def test_coerce_refuses_with_bilingual_message(type_, props, value, en, zh):
    with pytest.raises(ValueError) as info:
        field_type(type_).coerce(make(type_, **props), value)
    assert isinstance(info.value, InvalidValue)
    assert en in info.value.message.en and zh in info.value.message.zh


STORAGE = [
    ("text", {}, Column(StorageKind.TEXT, length=255)),
    ("text", {"max_length": 40}, Column(StorageKind.TEXT, length=40)),
    ("text", {"max_length": {"expr": "10"}}, Column(StorageKind.TEXT)),
    ("textarea", {}, Column(StorageKind.TEXT)),
    ("barcode", {}, Column(StorageKind.TEXT, length=255)),
    ("number", {}, Column(StorageKind.INTEGER)),
    ("number", {"precision": 3}, Column(StorageKind.DECIMAL, precision=21, scale=3)),
    ("date", {}, Column(StorageKind.DATE)),
    ("datetime", {}, Column(StorageKind.DATETIME)),
    ("select", {"choices": CHOICES}, Column(StorageKind.TEXT, length=64)),
    ("radio", {"choices": CHOICES}, Column(StorageKind.TEXT, length=64)),
    ("multiselect", {"choices": CHOICES}, Column(StorageKind.JSON)),
    ("boolean", {}, Column(StorageKind.BOOLEAN)),
    ("user", {}, Column(StorageKind.INTEGER)),
    ("user", {"multiple": True}, Column(StorageKind.JSON)),
    ("department", {}, Column(StorageKind.INTEGER)),
    ("attachment", {}, Column(StorageKind.JSON)),
    ("image", {}, Column(StorageKind.JSON)),
    ("signature", {}, Column(StorageKind.JSON)),
    ("serial", {"pattern": "A-{0000}"}, Column(StorageKind.TEXT, length=64)),
    ("reference", {"form": "supplier"}, Column(StorageKind.INTEGER)),
    ("lookup", {"reference": "supplier", "field": "name"}, None),     # target unknown without forms
    ("subtable", {"fields": [{"key": "q", "type": "number", "label": {"zh-CN": "数", "en": "Q"}}]}, None),
]


@pytest.mark.parametrize("type_, props, expected", STORAGE)
def test_storage(type_, props, expected):
    assert field_type(type_).storage(make(type_, **props)) == expected


EXPR_TYPES = [
    ("text", {}, TEXT), ("textarea", {}, TEXT), ("barcode", {}, TEXT), ("serial", {"pattern": "{0}"}, TEXT),
    ("number", {"precision": 2}, NUMBER), ("date", {}, DATE), ("datetime", {}, DATETIME),
    ("select", {"choices": CHOICES}, TEXT), ("radio", {"choices": CHOICES}, TEXT),
    ("multiselect", {"choices": CHOICES}, list_of(TEXT)), ("boolean", {}, BOOLEAN),
    ("user", {}, id_of("user")), ("user", {"multiple": True}, list_of(id_of("user"))),
    ("department", {}, id_of("department")), ("attachment", {}, FILE), ("image", {}, FILE), ("signature", {}, FILE),
    ("reference", {"form": "supplier"}, id_of("record:supplier")),
]


@pytest.mark.parametrize("type_, props, expected", EXPR_TYPES)
def test_expr_type(type_, props, expected):
    assert field_type(type_).expr_type(make(type_, **props)) == expected


def test_subtable_expr_type_is_rows_with_column_scope():
    table = make("subtable", fields=[{"key": "qty", "type": "number", "label": {"zh-CN": "数量", "en": "Qty"}}])
    result = field_type("subtable").expr_type(table)
    assert result.kind is Kind.ROWS and result.rows.lookup("qty") == NUMBER


def test_to_json_round_trips_dates_and_lists():
    assert field_type("date").to_json(None, date(2026, 3, 1)) == "2026-03-01"
    moment = datetime(2026, 3, 1, 8, tzinfo=timezone(timedelta(hours=8)))
    assert field_type("datetime").to_json(None, moment) == "2026-03-01T08:00:00+08:00"
    assert field_type("multiselect").to_json(None, ("A", "B")) == ["A", "B"]


def test_boolean_false_is_not_blank_but_none_is():
    kind = field_type("boolean")
    assert not kind.is_blank(False) and kind.is_blank(None)
    assert not field_type("number").is_blank(0)


def test_formula_storage_follows_result_type():
    def formula(result_type, **props):
        field = make("formula", formula="x", **props)
        from dataclasses import replace
        from types import MappingProxyType
        return replace(field, options=MappingProxyType({**field.options, "result_type": result_type}))
    kind = field_type("formula")
    assert kind.storage(formula(NUMBER)) == Column(StorageKind.DECIMAL, precision=24, scale=6)
    assert kind.storage(formula(NUMBER, precision=0)) == Column(StorageKind.INTEGER)
    assert kind.storage(formula(TEXT)) == Column(StorageKind.TEXT)
    assert kind.storage(formula(BOOLEAN)) == Column(StorageKind.BOOLEAN)
    assert kind.storage(formula(ExprType(Kind.ANY))) == Column(StorageKind.JSON)
