"""Which static types fit where: operands of operators, arguments of functions, comparisons.

Blank fits everywhere, ANY is checked at run time; numbers accept booleans (TRUE = 1), text
parameters accept any scalar (converted like ``&`` does), a date parameter accepts a datetime
(its calendar day in the context's time zone), and a list parameter accepts a scalar.
"""
from __future__ import annotations

from engine.i18n import Msg
from engine.expressions.types import ANY, BLANK, ExprType, Kind, NUMBER, Scope

_KIND_NAMES = {
    Kind.NUMBER: Msg("数值", "number"), Kind.TEXT: Msg("文本", "text"),
    Kind.BOOLEAN: Msg("逻辑值（是/否）", "true/false"), Kind.DATE: Msg("日期", "date"),
    Kind.DATETIME: Msg("日期时间", "date-time"), Kind.FILE: Msg("附件", "attachment"),
    Kind.ROWS: Msg("子表", "sub-table"), Kind.BLANK: Msg("空值", "blank"),
    Kind.ANY: Msg("任意值", "any value"),
}
_TAG_NAMES = {"user": Msg("用户", "user"), "department": Msg("部门", "department")}

SCALARS = {Kind.NUMBER, Kind.TEXT, Kind.BOOLEAN, Kind.DATE, Kind.DATETIME, Kind.ID}
NUMERIC = {Kind.NUMBER, Kind.BOOLEAN}
LOOSE = {Kind.BLANK, Kind.ANY}


def type_name(t: ExprType) -> Msg:
    """Bilingual name of a type for messages: "数值"/"number", "数值列表"/"list of numbers"."""
    if t.kind is Kind.LIST:
        inner = type_name(t.item or ANY)
        return Msg(f"{inner.zh}列表", f"list of {inner.en} values")
    if t.kind is Kind.ID:
        tag = t.tag or ""
        if tag.startswith("record:"):
            return Msg(f"记录编号（{tag[7:]}）", f"record id ({tag[7:]})")
        name = _TAG_NAMES.get(tag, Msg(tag or "ID", tag or "id"))
        return Msg(f"{name.zh}编号", f"{name.en} id")
    return _KIND_NAMES[t.kind]


def member_type(member: ExprType | Scope) -> ExprType:
    """The type of a scope member: a nested Scope is ROWS (a sub-table) or RECORD (one record)."""
    if isinstance(member, Scope):
        return ExprType(Kind.RECORD if member.record else Kind.ROWS, rows=member)
    return member


def is_loose(t: ExprType) -> bool:
    return t.kind in LOOSE


def element_type(t: ExprType) -> ExprType:
    """What one element of a list-like value is (ANY for rows)."""
    if t.kind is Kind.LIST:
        return t.item or ANY
    return ANY if t.kind is Kind.ROWS else t


def fits(arg: ExprType, param: ExprType) -> bool:
    """Can a value of static type ``arg`` be passed where ``param`` is expected?"""
    if is_loose(arg) or param.kind is Kind.ANY:
        return True
    if param.kind is Kind.LIST:
        if arg.kind is Kind.ROWS:
            return (param.item or ANY).kind is Kind.ANY
        return fits(element_type(arg), param.item or ANY)
    if arg.is_list or arg.kind is Kind.FILE:
        return False
    if param.kind is Kind.NUMBER:
        return arg.kind in NUMERIC
    if param.kind is Kind.TEXT:
        return arg.kind in SCALARS
    if param.kind in (Kind.DATE, Kind.DATETIME):
        return arg.kind in (Kind.DATE, Kind.DATETIME)
    if param.kind is Kind.BOOLEAN:
        return arg.kind in NUMERIC
    if param.kind is Kind.ID:
        return arg.kind in (Kind.ID, Kind.NUMBER)
    return arg.kind is param.kind


def comparable(a: ExprType, b: ExprType) -> bool:
    """May ``a`` and ``b`` be compared with = < > …?"""
    if is_loose(a) or is_loose(b):
        return not (a.is_list or b.is_list)
    if a.is_list or b.is_list or Kind.FILE in (a.kind, b.kind):
        return False
    groups = (NUMERIC | {Kind.ID}, {Kind.TEXT}, {Kind.DATE, Kind.DATETIME})
    return any(a.kind in g and b.kind in g for g in groups)


def unify(types: list[ExprType]) -> ExprType:
    """The type of "one of these" (IF branches, COALESCE): equal types stay, blanks drop out."""
    real = [t for t in types if t.kind is not Kind.BLANK]
    if not real:
        return BLANK
    first = real[0]
    if all(t == first for t in real):
        return first
    if all(t.kind in NUMERIC for t in real):
        return NUMBER
    return ANY
