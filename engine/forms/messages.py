"""Bilingual messages about submitted values. Each names the field by its label in both languages.

Labels are passed as format *values*, never spliced into the template, so a label containing
braces cannot break formatting.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from engine.i18n import Msg, msg


def _fmt(value: Any) -> str:
    """A bound as users write it: 1 not 1.0, dates as YYYY-MM-DD."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


def required(label: Msg) -> Msg:
    return msg("「{zh}」为必填项", "'{en}' is required", zh=label.zh, en=label.en)


def too_small(label: Msg, bound: Any) -> Msg:
    return msg("「{zh}」必须 ≥ {v}", "'{en}' must be ≥ {v}", zh=label.zh, en=label.en, v=_fmt(bound))


def too_large(label: Msg, bound: Any) -> Msg:
    return msg("「{zh}」必须 ≤ {v}", "'{en}' must be ≤ {v}", zh=label.zh, en=label.en, v=_fmt(bound))


def too_short(label: Msg, n: int, unit: str) -> Msg:
    """``unit`` is "chars", "items" or "rows"."""
    zh_unit, en_unit = _UNITS[unit]
    return msg("「{zh}」至少需要 {n} {zu}", "'{en}' needs at least {n} {eu}",
               zh=label.zh, en=label.en, n=n, zu=zh_unit, eu=en_unit)


def too_long(label: Msg, n: int, unit: str) -> Msg:
    zh_unit, en_unit = _UNITS[unit]
    return msg("「{zh}」最多只能有 {n} {zu}", "'{en}' can have at most {n} {eu}",
               zh=label.zh, en=label.en, n=n, zu=zh_unit, eu=en_unit)


_UNITS = {"chars": ("个字符", "characters"), "items": ("项", "items"), "rows": ("行", "rows")}


def bad_format(label: Msg) -> Msg:
    return msg("「{zh}」的格式不正确", "'{en}' is not in the required format", zh=label.zh, en=label.en)


def bad_value(label: Msg, reason: Msg | None) -> Msg:
    """A value the field type could not accept; ``reason`` is the type's own message."""
    if reason is None:
        return msg("「{zh}」的值无效", "'{en}' has an invalid value", zh=label.zh, en=label.en)
    return msg("「{zh}」：{rz}", "'{en}': {re}", zh=label.zh, en=label.en, rz=reason.zh, re=reason.en)


def unknown_field(key: str) -> Msg:
    return msg("表单中没有字段「{k}」", "Unknown field '{k}'", k=key)


def not_an_object() -> Msg:
    return msg("记录数据必须是对象（字段 → 值）", "Record data must be an object (field → value)")


def not_rows(label: Msg) -> Msg:
    return msg("「{zh}」必须是行的列表（每行是一个对象）", "'{en}' must be a list of rows (objects)",
               zh=label.zh, en=label.en)


def row_not_object(label: Msg) -> Msg:
    return msg("「{zh}」的每一行必须是对象（字段 → 值）", "Each row of '{en}' must be an object (field → value)",
               zh=label.zh, en=label.en)


def bad_row_id(label: Msg) -> Msg:
    return msg("「{zh}」的行 id 必须是正整数", "A row id in '{en}' must be a positive whole number",
               zh=label.zh, en=label.en)


def unknown_row_id(label: Msg, row_id: int) -> Msg:
    return msg("「{zh}」中没有 id 为 {i} 的行", "'{en}' has no row with id {i}",
               zh=label.zh, en=label.en, i=row_id)


def duplicate_row_id(label: Msg, row_id: int) -> Msg:
    return msg("「{zh}」中行 id {i} 出现了多次", "Row id {i} appears more than once in '{en}'",
               zh=label.zh, en=label.en, i=row_id)


def missing_record(label: Msg, record_id: Any) -> Msg:
    return msg("「{zh}」引用的记录 {i} 不存在", "'{en}': the referenced record {i} does not exist",
               zh=label.zh, en=label.en, i=record_id)


def formula_failed(label: Msg, reason: Msg) -> Msg:
    return msg("「{zh}」无法计算：{rz}", "'{en}' could not be computed: {re}",
               zh=label.zh, en=label.en, rz=reason.zh, re=reason.en)


def condition_failed(label: Msg, reason: Msg) -> Msg:
    return msg("「{zh}」的条件无法计算：{rz}", "A condition of '{en}' could not be evaluated: {re}",
               zh=label.zh, en=label.en, rz=reason.zh, re=reason.en)


def not_finite() -> Msg:
    return msg("结果不是有效的数字", "the result is not a valid number")


def too_many_rows(label: Msg, per_table: int, total: int) -> Msg:
    return msg("「{zh}」的行数过多：每个子表最多 {n} 行，整条记录最多 {t} 行",
               "'{en}' has too many rows: at most {n} per sub-table and {t} in the whole record",
               zh=label.zh, en=label.en, n=per_table, t=total)
