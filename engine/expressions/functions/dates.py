"""Date functions. A date-time passed where a date is expected means its calendar day in the
context's time zone. Blank in → blank out (Excel would show 1900-01-00)."""
from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta

from engine.i18n import msg
from engine.expressions.functions.registry import Param, register
from engine.expressions.runtime import fail, kind_of, num0
from engine.expressions.typerules import type_name
from engine.expressions.types import ANY, DATE, ExprType, Kind, NUMBER, TEXT

_DATE = Param("date", DATE)


@register("DATE", [Param("year", NUMBER), Param("month", NUMBER), Param("day", NUMBER)], returns=DATE,
          category="date",
          doc=msg("由年、月、日组成日期；月或日超出范围时顺延（DATE(2024, 13, 1) = 2025-01-01）。",
                  "Builds a date; months and days beyond their range roll over (DATE(2024, 13, 1) = 2025-01-01)."),
          example="DATE(2024, 12, 31)")
def date_(year, month, day):
    """DATE(year, month, day)."""
    y, m, d = int(num0(year)), int(num0(month)), int(num0(day))
    y, m = y + (m - 1) // 12, (m - 1) % 12 + 1
    try:
        return date(y, m, 1) + timedelta(days=d - 1)
    except (ValueError, OverflowError):
        raise fail("#NUM! 日期超出范围", "#NUM! date out of range") from None


@register("YEAR", [_DATE], returns=NUMBER, category="date",
          doc=msg("日期的年份。", "The year of a date."), example="YEAR(inspect_date)")
def year(value):
    """YEAR(date)."""
    return None if value is None else value.year


@register("MONTH", [_DATE], returns=NUMBER, category="date",
          doc=msg("日期的月份（1–12）。", "The month of a date (1–12)."), example="MONTH(inspect_date)")
def month(value):
    """MONTH(date)."""
    return None if value is None else value.month


@register("DAY", [_DATE], returns=NUMBER, category="date",
          doc=msg("日期是当月的第几天。", "The day of the month."), example="DAY(inspect_date)")
def day(value):
    """DAY(date)."""
    return None if value is None else value.day


@register("WEEKDAY", [_DATE, Param("type", NUMBER, optional=True)], returns=NUMBER, category="date",
          doc=msg("星期几：类型 1（默认）周日=1…周六=7；类型 2 周一=1…周日=7；类型 3 周一=0…周日=6。",
                  "Day of the week: type 1 (default) Sunday=1…Saturday=7; type 2 Monday=1…Sunday=7; "
                  "type 3 Monday=0…Sunday=6."),
          example="WEEKDAY(inspect_date, 2)")
def weekday(value, kind=1):
    """WEEKDAY(date, type)."""
    if value is None:
        return None
    monday0 = value.weekday()
    kind = int(num0(kind) or 1)
    if kind == 1:
        return (monday0 + 1) % 7 + 1
    if kind == 2:
        return monday0 + 1
    if kind == 3:
        return monday0
    raise fail("#NUM! WEEKDAY 的类型应为 1、2 或 3", "#NUM! WEEKDAY: type must be 1, 2 or 3")


def _months_between(start: date, end: date) -> int:
    months = (end.year - start.year) * 12 + end.month - start.month
    return months - 1 if end.day < start.day else months


@register("DATEDIF", [Param("start", DATE), Param("end", DATE), Param("unit", TEXT)], returns=NUMBER,
          category="date",
          doc=msg("两个日期之间的整年数（\"y\"）、整月数（\"m\"）或天数（\"d\"），另有 \"ym\"、\"yd\"、\"md\"，"
                  "同 Excel；开始日期晚于结束日期时报 #NUM!。",
                  "Whole years (\"y\"), months (\"m\") or days (\"d\") between two dates, also \"ym\", \"yd\", "
                  "\"md\" as in Excel; #NUM! when start is after end."),
          example='DATEDIF(created_at, TODAY(), "d")')
def datedif(start, end, unit):
    """DATEDIF(start, end, unit)."""
    if start is None or end is None:
        return None
    if start > end:
        raise fail("#NUM! DATEDIF 的开始日期晚于结束日期", "#NUM! DATEDIF: the start date is after the end date")
    unit = unit.strip().lower()
    months = _months_between(start, end)
    if unit == "d":
        return (end - start).days
    if unit == "m":
        return months
    if unit == "y":
        return months // 12
    if unit == "ym":
        return months % 12
    if unit == "yd":
        anchor = _add_months(start, (months // 12) * 12)
        return (end - anchor).days
    if unit == "md":
        return (end - _add_months(start, months)).days
    raise fail("#NUM! DATEDIF 的单位应为 \"y\"、\"m\"、\"d\"、\"ym\"、\"yd\" 或 \"md\"",
               "#NUM! DATEDIF: unit must be \"y\", \"m\", \"d\", \"ym\", \"yd\" or \"md\"")


def _add_months(value, months: int):
    total = value.month - 1 + months
    y, m = value.year + total // 12, total % 12 + 1
    if not 1 <= y <= 9999:
        raise fail("#NUM! 日期超出范围", "#NUM! date out of range")
    return value.replace(year=y, month=m, day=min(value.day, calendar.monthrange(y, m)[1]))


_UNITS = {"d": "days", "day": "days", "w": "weeks", "week": "weeks", "h": "hours", "hour": "hours",
          "min": "minutes", "minute": "minutes", "n": "minutes", "s": "seconds", "second": "seconds"}


def _dateadd_type(types: list[ExprType]) -> ExprType:
    return types[0] if types[0].kind in (Kind.DATE, Kind.DATETIME) else DATE


def _dateadd_validate(types):
    if types[0].kind in (Kind.DATE, Kind.DATETIME, Kind.ANY, Kind.BLANK):
        return None
    t = type_name(types[0])
    return msg("DATEADD 的第 1 个参数应为日期，实际为{t}", "DATEADD: argument 1 must be a date, got {te}", t=t.zh, te=t.en)


@register("DATEADD", [Param("date", ANY), Param("number", NUMBER), Param("unit", TEXT, optional=True)],
          returns=_dateadd_type, category="date", validate=_dateadd_validate,
          doc=msg("日期加上若干单位：\"d\" 天（默认）、\"w\" 周、\"m\" 月、\"y\" 年；日期时间还可用 \"h\"、\"min\"、\"s\"。"
                  "月末自动对齐（1 月 31 日加 1 个月为 2 月最后一天）。",
                  "Adds units to a date: \"d\" days (default), \"w\" weeks, \"m\" months, \"y\" years; date-times "
                  "also \"h\", \"min\", \"s\". Month ends are kept (Jan 31 + 1 month = last day of February)."),
          example='DATEADD(inspect_date, 30, "d")')
def dateadd(value, number, unit="d"):
    """DATEADD(date, number, unit)."""
    if value is None:
        return None
    if not isinstance(value, date):
        raise fail("DATEADD 的第 1 个参数应为日期，实际为 {k}", "DATEADD: argument 1 must be a date, got {k}", k=kind_of(value))
    unit, n = unit.strip().lower(), num0(number)
    if unit in ("m", "month", "y", "year"):
        return _add_months(value, int(n) * (12 if unit.startswith("y") else 1))
    if unit not in _UNITS or (not isinstance(value, datetime) and _UNITS[unit] in ("hours", "minutes", "seconds")):
        raise fail("DATEADD 的单位 '{u}' 无效", "DATEADD: unit '{u}' is not valid here", u=unit)
    if not isinstance(value, datetime):
        n = int(n)
    try:
        return value + timedelta(**{_UNITS[unit]: n})
    except OverflowError:
        raise fail("#NUM! 日期超出范围", "#NUM! date out of range") from None
