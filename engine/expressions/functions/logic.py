"""Logic functions. IF, IFS, SWITCH, AND and OR are generated inline so they evaluate lazily:
only the branch taken is computed, and AND/OR stop at the first deciding argument."""
from __future__ import annotations

from engine.i18n import msg
from engine.expressions.functions.registry import Param, register
from engine.expressions.typerules import fits, type_name, unify
from engine.expressions.types import ANY, BOOLEAN

_CONDITION = Param("condition", BOOLEAN)


def _if_inline(codes, types, emit):
    otherwise = codes[2] if len(codes) > 2 else "None"
    return f"({codes[1]} if {codes[0]} else {otherwise})"


@register("IF", [_CONDITION, Param("value_if_true", ANY), Param("value_if_false", ANY, optional=True)],
          returns=lambda types: unify(types[1:] if len(types) > 2 else [types[1]]), category="logic",
          doc=msg("条件为真时返回第二个参数，否则返回第三个参数（省略时为空值）。只计算被选中的分支。",
                  "Returns the second argument when the condition is true, else the third (blank when "
                  "left out). Only the chosen branch is computed."),
          example='IF(measured > usl, "NG", "OK")', inline=_if_inline)
def if_(condition, value_if_true, value_if_false=None):
    """IF(condition, value_if_true, value_if_false)."""
    return value_if_true if condition else value_if_false


def _ifs_validate(types):
    if len(types) % 2:
        return msg("IFS 的参数必须成对出现：条件, 值, 条件, 值 …", "IFS takes pairs of arguments: condition, value, …")
    for i in range(0, len(types), 2):
        if not fits(types[i], BOOLEAN):
            return msg("IFS 的第 {i} 个参数应为条件（逻辑值），实际为{t}",
                       "IFS: argument {i} must be a true/false condition, got {te}",
                       i=i + 1, t=type_name(types[i]).zh, te=type_name(types[i]).en)
    return None


def _ifs_inline(codes, types, emit):
    code = "None"
    for i in range(len(codes) - 2, -1, -2):
        code = f"({codes[i + 1]} if {emit.truth(codes[i], types[i])} else {code})"
    return code


@register("IFS", [_CONDITION, Param("value", ANY), Param("more", ANY, optional=True, variadic=True)],
          returns=lambda types: unify(types[1::2]), category="logic",
          doc=msg("依次检查条件，返回第一个为真的条件对应的值；都不成立时为空值。",
                  "Checks the conditions in order and returns the value of the first true one; blank if "
                  "none is true."),
          example='IFS(defects = 0, "A", defects <= 2, "B", TRUE, "C")', inline=_ifs_inline,
          validate=_ifs_validate)
def ifs(*args):
    """IFS(condition1, value1, condition2, value2, …)."""
    for i in range(0, len(args) - 1, 2):
        if args[i]:
            return args[i + 1]
    return None


def _switch_inline(codes, types, emit):
    subject, pairs = emit.temp(), codes[1:]
    default = pairs[-1] if len(pairs) % 2 else "None"
    code = default
    for i in range(len(pairs) - (2 if len(pairs) % 2 == 0 else 3), -1, -2):
        code = f"({pairs[i + 1]} if _cmp('=', {subject}, {pairs[i]}, {emit.ctx()}) else {code})"
    return f"(({subject} := {codes[0]}), {code})[1]"


def _switch_type(types):
    cases = types[1:]
    results = cases[1::2] + ([cases[-1]] if len(cases) % 2 else [])
    return unify(results)


@register("SWITCH", [Param("value", ANY), Param("case", ANY), Param("result", ANY),
                     Param("more", ANY, optional=True, variadic=True)],
          returns=_switch_type, category="logic",
          doc=msg("把值依次与各个候选值比较，返回第一个相等的候选值对应的结果；最后可跟一个默认值。",
                  "Compares the value with each case and returns the result of the first equal one; an "
                  "odd last argument is the default."),
          example='SWITCH(grade, "A", 100, "B", 80, 60)', inline=_switch_inline)
def switch(value, *cases):
    """SWITCH(value, case1, result1, …, default)."""
    for i in range(0, len(cases) - 1, 2):
        if cases[i] == value:
            return cases[i + 1]
    return cases[-1] if len(cases) % 2 else None


def _all_inline(word):
    def inline(codes, types, emit):
        joined = f" {word} ".join(f"({c})" for c in codes)
        if all(emit.is_bool(c) for c in codes):
            return f"({joined})"
        return f"(True if {joined} else False)"
    return inline


@register("AND", [Param("condition", BOOLEAN, variadic=True)], returns=BOOLEAN, category="logic",
          doc=msg("所有条件都为真时为 TRUE（空值视为 FALSE）。也可写作 a AND b 或 a && b。",
                  "TRUE when every condition is true (blank counts as FALSE). Also written a AND b, a && b."),
          example="AND(lot_size >= 500, defect_qty <= 2)", inline=_all_inline("and"))
def and_(*conditions):
    """AND(condition1, condition2, …)."""
    return all(conditions)


@register("OR", [Param("condition", BOOLEAN, variadic=True)], returns=BOOLEAN, category="logic",
          doc=msg("任一条件为真时为 TRUE。也可写作 a OR b 或 a || b。",
                  "TRUE when any condition is true. Also written a OR b, a || b."),
          example="OR(measured > usl, measured < lsl)", inline=_all_inline("or"))
def or_(*conditions):
    """OR(condition1, condition2, …)."""
    return any(conditions)


@register("NOT", [_CONDITION], returns=BOOLEAN, category="logic",
          doc=msg("条件取反。也可写作 NOT a 或 !a。", "Negates a condition. Also written NOT a, !a."),
          example="NOT(ISBLANK(remark))", inline=lambda codes, types, emit: f"(not {codes[0]})")
def not_(condition):
    """NOT(condition)."""
    return not condition


def _isblank_inline(code, emit):
    value = emit.temp()
    return f"(({value} := {code}) is None or {value} == '' or {value} == [])"


@register("ISBLANK", [Param("value", ANY)], returns=BOOLEAN, category="logic",
          doc=msg("值为空时为 TRUE（空文本 \"\" 和没有行的子表也算空）。",
                  "TRUE when the value is blank (empty text \"\" and a sub-table without rows count too)."),
          example="ISBLANK(remark)", inline=lambda codes, types, emit: _isblank_inline(codes[0], emit))
def isblank(value):
    """ISBLANK(value)."""
    return value is None or value == "" or (isinstance(value, list) and not value)


@register("COALESCE", [Param("value", ANY, variadic=True)], returns=lambda types: unify(types),
          category="logic",
          doc=msg("返回第一个非空的参数。", "Returns the first argument that is not blank."),
          example="COALESCE(actual_qty, planned_qty, 0)")
def coalesce(*values):
    """COALESCE(value1, value2, …)."""
    for value in values:
        if not isblank(value):
            return value
    return None
