"""Static type checking of an AST against a :class:`Scope`, collecting every error it finds.

The result annotates each node with its type (``types[id(node)]``) and each name with the
scope level it resolves to (0 = the innermost scope), which the code generator uses to
specialise the common case.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from engine.errors import ExpressionError
from engine.i18n import Msg, msg
from engine.expressions import ast
from engine.expressions.functions import FUNCTIONS
from engine.expressions.typerules import (
    NUMERIC, comparable, element_type, fits, is_loose, member_type, type_name,
)
from engine.expressions.types import (
    ANY, BOOLEAN, ExprType, Kind, NUMBER, Scope, TEXT, list_of,
)

_DATES = (Kind.DATE, Kind.DATETIME)


@dataclass
class Annotations:
    """What the checker learned: node types, name levels, referenced top-level keys."""

    types: dict[int, ExprType] = field(default_factory=dict)
    levels: dict[int, int] = field(default_factory=dict)
    names: set[str] = field(default_factory=set)
    record_hops: dict[int, int] = field(default_factory=dict)   # Path → leading parts that pick a record's field


def _suggest(word: str, candidates: list[str]) -> str | None:
    lower = {c.lower(): c for c in candidates}
    if word.lower() in lower:
        return lower[word.lower()]
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    return close[0] if close else None


def _with_hint(base: Msg, hint: str | None) -> Msg:
    if not hint:
        return base
    return Msg(f"{base.zh}，是否想写 '{hint}'？", f"{base.en}. Did you mean '{hint}'?")


class Checker:
    """Walks the AST once, typing every node and recording every problem."""

    def __init__(self, scope: Scope):
        self.scope = scope
        self.errors: list[ExpressionError] = []
        self.notes = Annotations()

    def error(self, node: ast.Node, message: Msg) -> ExprType:
        self.errors.append(ExpressionError(message, node.line, node.column))
        return ANY

    def visit(self, node: ast.Node) -> ExprType:
        result = getattr(self, "visit_" + type(node).__name__)(node)
        self.notes.types[id(node)] = result
        return result

    # -- leaves ---------------------------------------------------------------------------
    def visit_Literal(self, node: ast.Literal) -> ExprType:
        value = node.value
        if value is None:
            return ExprType(Kind.BLANK)
        if isinstance(value, bool):
            return BOOLEAN
        return TEXT if isinstance(value, str) else NUMBER

    def _resolve(self, key: str) -> tuple[ExprType | Scope | None, int]:
        scope, level = self.scope, 0
        while scope is not None:
            for k, member in scope.fields:
                if k == key:
                    return member, level
            scope, level = scope.parent, level + 1
        return None, -1

    def _visible_keys(self) -> list[str]:
        keys, scope = [], self.scope
        while scope is not None:
            keys.extend(scope.keys())
            scope = scope.parent
        return keys

    def visit_Name(self, node: ast.Name) -> ExprType:
        member, level = self._resolve(node.key)
        self.notes.names.add(node.key)
        if member is None:
            if node.key.upper() in FUNCTIONS:
                return self.error(node, msg("'{k}' 是函数，请写成 {k}()", "'{k}' is a function; write {k}()",
                                            k=node.key.upper()))
            base = msg("未知字段 '{k}'", "Unknown field '{k}'", k=node.key)
            return self.error(node, _with_hint(base, _suggest(node.key, self._visible_keys())))
        self.notes.levels[id(node)] = level
        return member_type(member)

    def visit_Path(self, node: ast.Path) -> ExprType:
        head = ast.Name(node.parts[0], node.line, node.column)
        current = self.visit_Name(head)
        self.notes.levels[id(node)] = self.notes.levels.get(id(head), 0)
        flattened, hops = False, 0
        for i, part in enumerate(node.parts[1:], start=1):
            shown = ".".join(node.parts[:i])
            if current.kind is Kind.ANY:
                return list_of(ANY)
            if current.kind is Kind.RECORD and not flattened:     # old.status: one value, not a column
                member = dict(current.rows.fields).get(part)
                if member is None:
                    base = msg("'{p}' 中没有字段 '{c}'", "'{p}' has no field '{c}'", p=shown, c=part)
                    return self.error(node, _with_hint(base, _suggest(part, current.rows.keys())))
                current, hops = member_type(member), hops + 1
                self.notes.record_hops[id(node)] = hops
                continue
            if current.kind is not Kind.ROWS:
                return self.error(node, msg("'{p}' 不是子表，不能用 '{p}.{c}' 取列",
                                            "'{p}' is not a sub-table, so '{p}.{c}' is not a column",
                                            p=shown, c=part))
            columns = current.rows
            member = dict(columns.fields).get(part) if columns is not None else None
            if member is None:
                base = msg("子表 '{p}' 中没有列 '{c}'", "Sub-table '{p}' has no column '{c}'", p=shown, c=part)
                return self.error(node, _with_hint(base, _suggest(part, columns.keys() if columns else [])))
            current, flattened = member_type(member), True
        if current.kind is Kind.ROWS:
            return current
        return list_of(element_type(current)) if flattened else current

    # -- operators ------------------------------------------------------------------------
    def visit_Unary(self, node: ast.Unary) -> ExprType:
        operand = self.visit(node.operand)
        if node.op == "NOT":
            return self._condition(node.operand, operand, "NOT") or BOOLEAN
        if operand.kind in NUMERIC or is_loose(operand):
            return NUMBER
        return self._bad_operands(node, operand, None)

    def _condition(self, node: ast.Node, t: ExprType, where: str) -> ExprType | None:
        if t.kind in NUMERIC or is_loose(t):
            return None
        return self.error(node, _condition_msg(where, t))

    def _bad_operands(self, node, left: ExprType, right: ExprType | None) -> ExprType:
        types = [t for t in (left, right) if t is not None]
        if any(t.is_list for t in types):
            return self.error(node, msg("运算 '{op}' 不能直接用于一列值（列表），请先用 SUM、AVERAGE 等函数汇总",
                                        "'{op}' cannot be applied to a list of values; aggregate it first "
                                        "with SUM, AVERAGE, …", op=node.op))
        if any(t.kind is Kind.TEXT for t in types) and node.op in "+-*/^%":
            return self.error(node, msg("不能对文本做算术运算 '{op}'：连接文本请用 &，文本转数值请用 VALUE()",
                                        "Cannot do arithmetic '{op}' on text; use & to join text or "
                                        "VALUE() to turn text into a number", op=node.op))
        names = [type_name(t) for t in types]
        return self.error(node, Msg(f"运算 '{node.op}' 不能用于{'和'.join(n.zh for n in names)}",
                                    f"'{node.op}' cannot be used with {' and '.join(n.en for n in names)}"))

    def visit_Binary(self, node: ast.Binary) -> ExprType:
        left, right = self.visit(node.left), self.visit(node.right)
        op = node.op
        if op in ("AND", "OR"):
            self._condition(node.left, left, op)
            self._condition(node.right, right, op)
            return BOOLEAN
        if op == "&":
            if any(t.is_list or t.kind is Kind.FILE for t in (left, right)):
                return self._bad_operands(node, left, right)
            return TEXT
        if op in ("=", "!=", "<", "<=", ">", ">="):
            if not comparable(left, right):
                a, b = type_name(left), type_name(right)
                return self.error(node, Msg(f"不能比较{a.zh}和{b.zh}", f"Cannot compare {a.en} with {b.en}"))
            return BOOLEAN
        result = arithmetic_type(op, left, right)
        return result if result is not None else self._bad_operands(node, left, right)

    # -- calls ----------------------------------------------------------------------------
    def visit_Call(self, node: ast.Call) -> ExprType:
        arg_types = [self.visit(arg) for arg in node.args]
        if node.name not in FUNCTIONS:
            base = msg("未知函数 '{f}'", "Unknown function '{f}'", f=node.name)
            return self.error(node, _with_hint(base, _suggest(node.name, FUNCTIONS.keys())))
        spec = FUNCTIONS.get(node.name)
        count, low, high = len(node.args), spec.min_args, spec.max_args
        if count < low or (high is not None and count > high):
            return self.error(node, _count_msg(spec.name, low, high, count))
        ok = True
        for i, (arg, t) in enumerate(zip(node.args, arg_types)):
            param = spec.param_for(i)
            if param is not None and not fits(t, param.type):
                ok = False
                self.error(arg, msg("函数 {f} 的第 {i} 个参数（{p}）应为{want}，实际为{got}",
                                    "{f}: argument {i} ({p}) must be {wante}, got {gote}",
                                    f=spec.name, i=i + 1, p=param.name, want=type_name(param.type).zh,
                                    got=type_name(t).zh, wante=type_name(param.type).en, gote=type_name(t).en))
        if ok and spec.validate is not None:
            problem = spec.validate(arg_types)
            if problem is not None:
                return self.error(node, problem)
        return spec.result_type(arg_types) if ok else ANY


def _condition_msg(where: str, t: ExprType) -> Msg:
    name = type_name(t)
    return Msg(f"{where} 的条件应为逻辑值（是/否），实际为{name.zh}",
               f"{where} needs a true/false condition, got {name.en}")


def _count_msg(name: str, low: int, high: int | None, count: int) -> Msg:
    if high is None:
        return msg("函数 {f} 至少需要 {lo} 个参数，实际给了 {n} 个", "{f} takes at least {lo} argument(s), got {n}",
                   f=name, lo=low, n=count)
    if low == high:
        return msg("函数 {f} 需要 {lo} 个参数，实际给了 {n} 个", "{f} takes {lo} argument(s), got {n}",
                   f=name, lo=low, n=count)
    return msg("函数 {f} 需要 {lo} 到 {hi} 个参数，实际给了 {n} 个", "{f} takes {lo} to {hi} arguments, got {n}",
               f=name, lo=low, hi=high, n=count)


def arithmetic_type(op: str, left: ExprType, right: ExprType) -> ExprType | None:
    """Result type of ``left op right`` for + - * / ^, or None if the types do not fit."""
    kinds = (left.kind, right.kind)
    if any(t.is_list or t.kind in (Kind.TEXT, Kind.FILE, Kind.ID) for t in (left, right)):
        return None
    numeric = [k in NUMERIC or k is Kind.BLANK for k in kinds]
    if all(numeric):
        return NUMBER
    if op in ("*", "/", "^"):
        return NUMBER if all(n or k is Kind.ANY for n, k in zip(numeric, kinds)) else None
    if Kind.ANY in kinds:
        return ANY
    lk, rk = kinds
    if op == "+" and lk in _DATES and numeric[1]:
        return left
    if op == "+" and rk in _DATES and numeric[0]:
        return right
    if op == "-" and lk in _DATES and numeric[1]:
        return left
    if op == "-" and lk == rk and lk in _DATES:
        return NUMBER
    return None
