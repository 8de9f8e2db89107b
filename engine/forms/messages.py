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
    return msg("「{lz}」为必填项", "'{le}' is required", lz=label.zh, le=label.en)


def too_small(label: Msg, bound: Any) -> Msg:
    return msg("「{lz}」必须 ≥ {v}", "'{le}' must be ≥ {v}", lz=label.zh, le=label.en, v=_fmt(bound))


def too_large(label: Msg, bound: Any) -> Msg:
    return msg("「{lz}」必须 ≤ {v}", "'{le}' must be ≤ {v}", lz=label.zh, le=label.en, v=_fmt(bound))


def too_short(label: Msg, n: int, unit: str) -> Msg:
    """``unit`` is "chars", "items" or "rows"."""
    zh_unit, en_unit = _UNITS[unit]
    return msg("「{lz}」至少需要 {n} {zu}", "'{le}' needs at least {n} {eu}",
               lz=label.zh, le=label.en, n=n, zu=zh_unit, eu=en_unit)


def too_long(label: Msg, n: int, unit: str) -> Msg:
    zh_unit, en_unit = _UNITS[unit]
    return msg("「{lz}」最多只能有 {n} {zu}", "'{le}' can have at most {n} {eu}",
               lz=label.zh, le=label.en, n=n, zu=zh_unit, eu=en_unit)


_UNITS = {"chars": ("个字符", "characters"), "items": ("项", "items"), "rows": ("行", "rows")}


def bad_format(label: Msg) -> Msg:
    return msg("「{lz}」的格式不正确", "'{le}' is not in the required format", lz=label.zh, le=label.en)


def bad_value(label: Msg, reason: Msg) -> Msg:
    """A value the field type could not accept; ``reason`` is the type's own message."""
    return msg("「{lz}」：{rz}", "'{le}': {re}", lz=label.zh, le=label.en, rz=reason.zh, re=reason.en)


def unknown_field(key: str) -> Msg:
    return msg("表单中没有字段「{k}」", "Unknown field '{k}'", k=key)


def not_an_object() -> Msg:
    return msg("记录数据必须是对象（字段 → 值）", "Record data must be an object (field → value)")


def not_rows(label: Msg) -> Msg:
    return msg("「{lz}」必须是行的列表（每行是一个对象）", "'{le}' must be a list of rows (objects)",
               lz=label.zh, le=label.en)


def row_not_object(label: Msg) -> Msg:
    return msg("「{lz}」的每一行必须是对象（字段 → 值）", "Each row of '{le}' must be an object (field → value)",
               lz=label.zh, le=label.en)


def bad_row_id(label: Msg) -> Msg:
    return msg("「{lz}」的行 id 必须是正整数", "A row id in '{le}' must be a positive whole number",
               lz=label.zh, le=label.en)


def unknown_row_id(label: Msg, row_id: int) -> Msg:
    return msg("「{lz}」中没有 id 为 {i} 的行", "'{le}' has no row with id {i}",
               lz=label.zh, le=label.en, i=row_id)


def duplicate_row_id(label: Msg, row_id: int) -> Msg:
    return msg("「{lz}」中行 id {i} 出现了多次", "Row id {i} appears more than once in '{le}'",
               lz=label.zh, le=label.en, i=row_id)


def missing_record(label: Msg, record_id: Any) -> Msg:
    return msg("「{lz}」引用的记录 {i} 不存在", "'{le}': the referenced record {i} does not exist",
               lz=label.zh, le=label.en, i=record_id)


def formula_failed(label: Msg, reason: Msg) -> Msg:
    return msg("「{lz}」无法计算：{rz}", "'{le}' could not be computed: {re}",
               lz=label.zh, le=label.en, rz=reason.zh, re=reason.en)


def condition_failed(label: Msg, reason: Msg) -> Msg:
    return msg("「{lz}」的条件无法计算：{rz}", "A condition of '{le}' could not be evaluated: {re}",
               lz=label.zh, le=label.en, rz=reason.zh, re=reason.en)


def too_many_rows(label: Msg, per_table: int, total: int) -> Msg:
    return msg("「{lz}」的行数过多：每个子表最多 {n} 行，整条记录最多 {t} 行",
               "'{le}' has too many rows: at most {n} per sub-table and {t} in the whole record",
               lz=label.zh, le=label.en, n=per_table, t=total)
