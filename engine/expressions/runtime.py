"""Values at run time: the evaluation context and the helpers generated code may call.

Generated code sees only the names in :data:`HELPERS` (plus the registered functions); nothing
here reaches a Python object's attributes on behalf of the user. The helpers implement the
Excel-like rules where static types could not be specialised away (ANY operands, dates):
blank is 0 in arithmetic, "" in text, and takes the other side's zero in comparisons.
"""
from __future__ import annotations

import math
import operator
from itertools import repeat
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from engine.errors import EvaluationError, ExpressionLimitError
from engine.i18n import msg
from engine.expressions.limits import MAX_LIST_LENGTH, MAX_POWER_RESULT, MAX_TEXT_LENGTH

NUMBER_TYPES = (int, float)   # bool is an int subclass: TRUE = 1, FALSE = 0


@dataclass(frozen=True)
class EvalContext:
    """Who evaluates and when: ``now`` is an aware datetime; TODAY() is its date in ``tz``.

    ``facts`` is what the host knows beyond the values being evaluated (see
    :class:`engine.services.facts.SqlFacts`): functions such as AQL_SEVERITY ask it and fall back
    to a neutral answer when it is absent (design-time checks, sample evaluation).
    """

    user_id: int | None = None
    now: datetime | None = None
    tz: str | tzinfo | None = None
    lang: str = "zh-CN"
    facts: Any = None

    @property
    def tzinfo(self) -> tzinfo:
        """The time zone (``tz`` may be an IANA name such as "Asia/Shanghai"); UTC by default."""
        if self.tz is None:
            return timezone.utc
        if isinstance(self.tz, tzinfo):
            return self.tz
        try:
            return ZoneInfo(str(self.tz))
        except Exception:  # zoneinfo raises several types for bad names
            raise fail("未知时区 '{tz}'", "Unknown time zone '{tz}'", tz=self.tz) from None

    def current_time(self) -> datetime:
        """``now`` (a naive value is read in ``tz``), or the wall clock if not given."""
        if self.now is None:
            return datetime.now(self.tzinfo)
        if self.now.tzinfo is None:
            return self.now.replace(tzinfo=self.tzinfo)
        return self.now

    def today(self) -> date:
        return self.current_time().astimezone(self.tzinfo).date()


DEFAULT_CONTEXT = EvalContext()


def fail(zh: str, en: str, **kw) -> EvaluationError:
    """A bilingual EvaluationError (the position is filled in by the compiled expression)."""
    return EvaluationError(msg(zh, en, **kw))


def kind_of(value) -> str:
    """Short bilingual-neutral name of a runtime value's type, for messages."""
    if value is None:
        return "blank"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, NUMBER_TYPES):
        return "number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, datetime):
        return "datetime"
    if isinstance(value, date):
        return "date"
    return "list" if isinstance(value, (list, tuple)) else "value"


def number(value):
    """A number or None; anything else is an error (text must be converted with VALUE())."""
    if value is None or isinstance(value, NUMBER_TYPES):
        return value
    raise fail("#VALUE! 此处应为数值，实际为 {k}（文本请用 VALUE() 转换）",
               "#VALUE! a number is needed here, got {k} (use VALUE() to convert text)", k=kind_of(value))


def num0(value):
    """A number with blank as 0."""
    return 0 if value is None else number(value)


def truth(value) -> bool:
    """Excel truthiness: blank and 0 are FALSE; the texts "TRUE"/"FALSE" count; other text fails."""
    if value is None:
        return False
    if isinstance(value, NUMBER_TYPES):
        return value != 0
    if isinstance(value, str) and value.upper() in ("TRUE", "FALSE"):
        return value.upper() == "TRUE"
    raise fail("条件应为逻辑值（是/否），实际为 {k}", "A condition must be true/false, got {k}", k=kind_of(value))


def format_number(value) -> str:
    """Numbers as Excel shows them in text: 15 significant digits, no trailing ".0"."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return format(value, ".15g")


def text_of(value) -> str:
    """Any scalar as text (blank → ""); lists are an error."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, NUMBER_TYPES):
        return format_number(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    raise fail("{k} 不能转换为文本", "A {k} cannot be turned into text", k=kind_of(value))


def text_limit_error() -> ExpressionLimitError:
    return ExpressionLimitError(msg("文本结果过长：超过 {max} 个字符", "Text result too long: more than {max} characters",
                                    max=MAX_TEXT_LENGTH))


def capped(text: str) -> str:
    """Enforce the text-size bound on a result."""
    if len(text) > MAX_TEXT_LENGTH:
        raise text_limit_error()
    return text


def concat(*parts) -> str:
    """``a & b & c``: every part as text, the result bounded."""
    return capped("".join([p if isinstance(p, str) else text_of(p) for p in parts]))


def to_date(value, ctx: EvalContext | None) -> date | None:
    """A date (a datetime gives its calendar day in the context's time zone)."""
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    if isinstance(value, datetime):
        zone = (ctx or DEFAULT_CONTEXT).tzinfo
        return (value.astimezone(zone) if value.tzinfo else value).date()
    raise fail("应为日期，实际为 {k}", "Expected a date, got {k}", k=kind_of(value))


def to_datetime(value, ctx: EvalContext | None) -> datetime | None:
    """An aware datetime (a date means its midnight in the context's time zone)."""
    if value is None or isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=(ctx or DEFAULT_CONTEXT).tzinfo)
    raise fail("应为日期时间，实际为 {k}", "Expected a date-time, got {k}", k=kind_of(value))


def _shift(day, days):
    try:
        if isinstance(day, datetime):
            return day + timedelta(days=days)
        return day + timedelta(days=math.floor(days))
    except OverflowError:
        raise fail("日期超出范围", "Date out of range") from None


def add(a, b):
    """``a + b`` for values of unknown type: numbers, or a date plus days."""
    if isinstance(a, date):
        return _shift(a, num0(b))
    if isinstance(b, date):
        return _shift(b, num0(a))
    return num0(a) + num0(b)


def sub(a, b):
    """``a - b``: numbers, a date minus days, or days between two dates."""
    if isinstance(a, date) and isinstance(b, date):
        if isinstance(a, datetime) != isinstance(b, datetime):
            raise fail("日期和日期时间不能直接相减，请用 DATEDIF()", "Cannot subtract a date and a date-time; use DATEDIF()")
        delta = a - b
        return delta.days if not isinstance(a, datetime) else delta.total_seconds() / 86400
    if isinstance(a, date):
        return _shift(a, -num0(b))
    return num0(a) - num0(b)


def date_add(day, days):
    """``date + days`` where ``day`` is statically a date: a blank date stays blank."""
    return None if day is None else add(day, days)


def date_minus_days(day, days):
    """``date - days``: a blank date stays blank (blank days count as 0)."""
    return None if day is None else sub(day, days)


def date_minus_date(a, b):
    """``date - date`` in days: blank if either date is blank."""
    return None if a is None or b is None else sub(a, b)


def mul(a, b):
    return num0(a) * num0(b)


def div(a, b):
    a, b = num0(a), num0(b)
    if b == 0:
        raise fail("#DIV/0! 除数为零", "#DIV/0! division by zero")
    return a / b


def power(a, b):
    """``a ^ b`` with every overflow turned into ExpressionLimitError before it is computed."""
    a, b = num0(a), num0(b)
    if a == 0 and b < 0:
        raise fail("#DIV/0! 0 的负数次方", "#DIV/0! zero to a negative power")
    if a < 0 and not float(b).is_integer():
        raise fail("#NUM! 负数不能开非整数次方", "#NUM! a negative number to a fractional power")
    try:
        result = float(a) ** float(b)
    except OverflowError:
        result = math.inf
    if not math.isfinite(result) or abs(result) > MAX_POWER_RESULT:
        raise ExpressionLimitError(msg("数值过大：乘方结果超过 {max:g}", "Number too large: the power exceeds {max:g}",
                                       max=MAX_POWER_RESULT))
    if isinstance(a, int) and isinstance(b, int) and b >= 0 and abs(result) < 2 ** 53:
        return a ** b
    return result


def negate(a):
    return -num0(a)


def percent(a):
    return num0(a) / 100


def finite(result):
    """Results must be finite numbers (1e308 * 10 overflows to inf in floats)."""
    if isinstance(result, float) and not math.isfinite(result):
        raise ExpressionLimitError(msg("数值过大：结果超出范围", "Number too large: the result overflows"))
    return result


_ORDER = {"=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
          ">": operator.gt, ">=": operator.ge}


def _blank_as(other):
    if isinstance(other, str):
        return ""
    if isinstance(other, NUMBER_TYPES):
        return False if isinstance(other, bool) else 0
    return None


def compare(op: str, a, b, ctx: EvalContext | None = None) -> bool:
    """Excel comparison: blank takes the other side's zero, text compares case-insensitively."""
    if a is None:
        a = _blank_as(b)
    if b is None:
        b = _blank_as(a)
    if a is None or b is None:   # blank against a date (or both blank): blank sorts first
        return _ORDER[op](0 if a is None else 1, 0 if b is None else 1)
    if isinstance(a, str) and isinstance(b, str):
        return _ORDER[op](a.casefold(), b.casefold())
    if isinstance(a, NUMBER_TYPES) and isinstance(b, NUMBER_TYPES):
        return _ORDER[op](a, b)
    if isinstance(a, date) and isinstance(b, date):
        if isinstance(a, datetime) != isinstance(b, datetime):
            a, b = to_date(a, ctx), to_date(b, ctx)
        return _ORDER[op](a, b)
    raise fail("不能比较 {a} 和 {b}", "Cannot compare {a} with {b}", a=kind_of(a), b=kind_of(b))


def as_list(value) -> list:
    """A list argument: blank → [], a list stays, a scalar becomes a one-element list."""
    if value is None:
        return []
    if isinstance(value, list):
        return _bounded(value)
    if isinstance(value, tuple):
        return _bounded(list(value))
    return [value]


def _bounded(values: list) -> list:
    if len(values) > MAX_LIST_LENGTH:
        raise ExpressionLimitError(msg("列表过长：超过 {max} 项", "List too long: more than {max} items",
                                       max=MAX_LIST_LENGTH))
    return values


def _rows(value) -> list:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return _bounded(value if isinstance(value, list) else list(value))
    raise fail("应为子表（多行），实际为 {k}", "Expected a sub-table (rows), got {k}", k=kind_of(value))


_dict_get = dict.get


def _cell(row, key):
    if isinstance(row, dict):
        return row.get(key)
    if row is None:
        return None
    raise fail("子表的行应为记录，实际为 {k}", "A sub-table row must be a record, got {k}", k=kind_of(row))


def record_field(record, key: str):
    """``old.status``: a field of one nested record (blank when the record is blank)."""
    if record is None:
        return None
    if isinstance(record, dict):
        return record.get(key)
    raise fail("应为记录，实际为 {k}", "Expected a record, got {k}", k=kind_of(record))


def column(rows, key: str) -> list:
    """``items.qty``: the column's values, one per row (blank cells stay None)."""
    if rows.__class__ is not list:
        rows = _rows(rows)
    elif len(rows) > MAX_LIST_LENGTH:
        _bounded(rows)
    try:   # C-speed for the normal case: every row a dict
        return list(map(_dict_get, rows, repeat(key, len(rows))))
    except TypeError:
        return [_cell(row, key) for row in rows]


def path(rows, parts: tuple[str, ...]) -> list:
    """``lots.readings.value``: walk nested sub-tables, flattening rows and list cells."""
    items = _rows(rows)
    for part in parts[:-1]:
        nested: list = []
        for row in items:
            nested.extend(_rows(_cell(row, part)))
        items = _bounded(nested)
    out: list = []
    for row in items:
        cell = _cell(row, parts[-1])
        if isinstance(cell, list):
            out.extend(cell)
        else:
            out.append(cell)
    return _bounded(out)


HELPERS = {
    "_num": number, "_num0": num0, "_truth": truth, "_text": text_of, "_cap": capped,
    "_cat": concat, "_add": add, "_sub": sub, "_mul": mul, "_div": div, "_pow": power,
    "_neg": negate, "_pct": percent, "_finite": finite, "_cmp": compare, "_list": as_list,
    "_dadd": date_add, "_dsubn": date_minus_days, "_ddiff": date_minus_date, "_col": column, "_path": path, "_field": record_field, "_date": to_date, "_datetime": to_datetime,
}
