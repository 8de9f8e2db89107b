"""Aggregates over lists (sub-table columns), scalars or both: SUM(items.qty, extra_qty).

Blank cells are skipped (COUNTA counts the non-blank ones). A text cell in a numeric
aggregate is an error rather than silently ignored, so a wrong column is noticed.
"""
from __future__ import annotations

import math
import re
from functools import lru_cache

from engine.i18n import msg
from engine.expressions.functions.registry import Param, register
from engine.expressions.runtime import NUMBER_TYPES, compare, fail, kind_of
from engine.expressions.types import ANY, NUMBER, list_of

_NUMBERS = Param("values", list_of(NUMBER), variadic=True)
_VALUES = Param("values", list_of(ANY), variadic=True)


def numbers(name: str, lists) -> list:
    """The non-blank values of every list; anything but a number is an error naming ``name``."""
    values = [v for values in lists for v in values if v is not None]
    for v in values:
        if not isinstance(v, NUMBER_TYPES):
            raise fail("{f} 只能汇总数值，发现了 {k}", "{f} can only aggregate numbers, found a {k}",
                       f=name, k=kind_of(v))
    return values


@register("SUM", [_NUMBERS], returns=NUMBER, category="aggregate",
          doc=msg("求和，跳过空值。", "Sum, skipping blanks."), example="SUM(items.defect_qty)")
def sum_(*lists):
    """SUM(values, …)."""
    if len(lists) == 1:
        try:
            return sum([v for v in lists[0] if v is not None])
        except TypeError:
            pass   # text in the column: numbers() names the problem
    return sum(numbers("SUM", lists))


@register("AVERAGE", [_NUMBERS], returns=NUMBER, category="aggregate",
          doc=msg("平均值，跳过空值；没有数值时报 #DIV/0!。", "Average, skipping blanks; #DIV/0! when there is no number."),
          example="AVERAGE(items.measured)")
def average(*lists):
    """AVERAGE(values, …)."""
    values = numbers("AVERAGE", lists)
    if not values:
        raise fail("#DIV/0! AVERAGE 没有可计算的数值", "#DIV/0! AVERAGE has no numbers")
    return sum(values) / len(values)


@register("MIN", [_NUMBERS], returns=NUMBER, category="aggregate",
          doc=msg("最小值，跳过空值；没有数值时为 0（与 Excel 相同）。", "Smallest value, skipping blanks; 0 when there is none (as in Excel)."),
          example="MIN(items.measured)")
def min_(*lists):
    """MIN(values, …)."""
    values = numbers("MIN", lists)
    return min(values) if values else 0


@register("MAX", [_NUMBERS], returns=NUMBER, category="aggregate",
          doc=msg("最大值，跳过空值；没有数值时为 0。", "Largest value, skipping blanks; 0 when there is none."),
          example="MAX(items.measured)")
def max_(*lists):
    """MAX(values, …)."""
    values = numbers("MAX", lists)
    return max(values) if values else 0


@register("COUNT", [_VALUES], returns=NUMBER, category="aggregate",
          doc=msg("数值的个数（空值和文本不计）。", "How many values are numbers (blanks and text are not counted)."),
          example="COUNT(items.measured)")
def count(*lists):
    """COUNT(values, …)."""
    return sum(1 for values in lists for v in values
               if isinstance(v, NUMBER_TYPES) and not isinstance(v, bool))


@register("COUNTA", [_VALUES], returns=NUMBER, category="aggregate",
          doc=msg("非空值的个数；COUNTA(items) 为子表行数。", "How many values are not blank; COUNTA(items) is the number of rows."),
          example="COUNTA(items)")
def counta(*lists):
    """COUNTA(values, …)."""
    return sum(1 for values in lists for v in values if v is not None and v != "")


@register("STDEV", [_NUMBERS], returns=NUMBER, category="aggregate",
          doc=msg("样本标准差（n-1），跳过空值；少于 2 个数值时报 #DIV/0!。",
                  "Sample standard deviation (n-1), skipping blanks; #DIV/0! with fewer than 2 numbers."),
          example="STDEV(items.measured)")
def stdev(*lists):
    """STDEV(values, …)."""
    values = numbers("STDEV", lists)
    if len(values) < 2:
        raise fail("#DIV/0! STDEV 至少需要 2 个数值", "#DIV/0! STDEV needs at least 2 numbers")
    mean = sum(values) / len(values)
    return math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


_CRITERION = re.compile(r"^(<=|>=|<>|<|>|=)?(.*)$", re.S)


def _number_or_text(text: str):
    try:
        return float(text) if any(c in text for c in ".eE") else int(text)
    except ValueError:
        return text


def _wildcard_segments(text: str) -> list[tuple[re.Pattern, int]]:
    """The pattern split at its unescaped ``*``: (regex, length) per piece, ``?`` being ``.``."""
    pieces: list[list[str]] = [[]]
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "~" and i + 1 < len(text) and text[i + 1] in "*?":
            pieces[-1].append(re.escape(text[i + 1]))
            i += 2
            continue
        if ch == "*":
            pieces.append([])
        else:
            pieces[-1].append("." if ch == "?" else re.escape(ch))
        i += 1
    return [(re.compile("".join(piece), re.S | re.I), len(piece)) for piece in pieces]


def _wildcard(text: str):
    """Excel wildcards: * any run, ? one character, ~ escapes; case-insensitive.

    Matched piece by piece (the first piece at the start, the last at the end, the middle ones
    leftmost in order) instead of one ``.*`` regex, whose backtracking explodes on long text.
    """
    segments = _wildcard_segments(text)
    if len(segments) == 1:
        return segments[0][0].fullmatch
    (first, _), middle, (last, last_length) = segments[0], segments[1:-1], segments[-1]

    def match(value: str):
        head = first.match(value)
        if head is None:
            return None
        pos, end = head.end(), len(value) - last_length
        for piece, _length in middle:
            found = piece.search(value, pos, end)
            if found is None:
                return None
            pos = found.end()
        return last.fullmatch(value, end) if end >= pos else None

    return match


@lru_cache(maxsize=512)
def criterion(spec):
    """A predicate for an Excel criterion: 5, "NG", ">5", "<>OK", "A*", "" (blank)."""
    if not isinstance(spec, str):
        return lambda v: v is not None and compare("=", v, spec)
    op, operand = _CRITERION.match(spec).groups()
    value = _number_or_text(operand)
    if op in (None, "=") and isinstance(value, str):
        if value == "":
            return lambda v: v is None or v == ""
        if "*" in value or "?" in value:
            match = _wildcard(value)
            return lambda v: isinstance(v, str) and match(v) is not None
        folded = value.casefold()
        return lambda v: isinstance(v, str) and v.casefold() == folded
    if op == "<>" and isinstance(value, str):
        if value == "":
            return lambda v: v is not None and v != ""
        folded = value.casefold()
        return lambda v: not (isinstance(v, str) and v.casefold() == folded)
    py_op = "!=" if op == "<>" else (op or "=")
    numeric = isinstance(value, NUMBER_TYPES)
    if py_op == "!=":
        return lambda v: not (isinstance(v, NUMBER_TYPES) and v == value)
    return lambda v: (isinstance(v, NUMBER_TYPES) if numeric else isinstance(v, str)) and compare(py_op, v, value)


@register("COUNTIF", [Param("values", list_of(ANY)), Param("criterion", ANY)], returns=NUMBER,
          category="aggregate",
          doc=msg("满足条件的个数。条件写法同 Excel：\"NG\"、\">5\"、\"<>OK\"、\"A*\"（通配符），文本不区分大小写。",
                  "How many values meet the criterion, written as in Excel: \"NG\", \">5\", \"<>OK\", \"A*\" "
                  "(wildcards); text ignores case."),
          example='COUNTIF(items.result, "NG")')
def countif(values, spec):
    """COUNTIF(values, criterion)."""
    folded = _plain_text(spec)
    if folded is not None:   # the common "NG" case, counted at C speed
        try:
            return list(map(str.casefold, values)).count(folded)
        except TypeError:    # blanks or numbers among the values
            return list(map(str.casefold, [v for v in values if isinstance(v, str)])).count(folded)
    test = criterion(spec)
    return sum(1 for v in values if test(v))


@lru_cache(maxsize=512)
def _plain_text(spec):
    """The case-folded text of a criterion that is plain text equality ("NG", "=NG"), else None."""
    if not isinstance(spec, str):
        return None
    text = spec[1:] if spec.startswith("=") and not spec.startswith(("==", "=<", "=>")) else spec
    if not text or any(c in text for c in "*?~<>") or spec.startswith(("<", ">")):
        return None
    return None if isinstance(_number_or_text(text), (int, float)) else text.casefold()


@register("SUMIF", [Param("values", list_of(ANY)), Param("criterion", ANY),
                    Param("sum_values", list_of(NUMBER), optional=True)], returns=NUMBER,
          category="aggregate",
          doc=msg("对满足条件的行求和：SUMIF(条件列, 条件, 求和列)；省略求和列时对条件列本身求和。",
                  "Sums the rows that meet the criterion: SUMIF(test column, criterion, sum column); "
                  "without a sum column the tested values themselves are summed."),
          example='SUMIF(items.defect_class, "major", items.qty)')
def sumif(values, spec, sum_values=None):
    """SUMIF(values, criterion, sum_values)."""
    test = criterion(spec)
    targets = values if sum_values is None else sum_values
    if len(targets) != len(values) and sum_values is not None:
        raise fail("SUMIF 的条件列和求和列行数不同", "SUMIF: the test and sum columns differ in length")
    picked = [t for v, t in zip(values, targets) if test(v)]
    return sum(numbers("SUMIF", [picked]))
