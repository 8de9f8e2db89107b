"""Working-hours calendars: deadlines such as "24 working hours" on a tenant calendar.

Pure arithmetic, no storage. A :class:`WorkCalendar` lists working periods per weekday in local
wall-clock time (``"08:30"``–``"12:00"``; ``"24:00"`` may end a period), holidays, and extra
working days (China's 调休 weekend workdays, which use the Monday periods). A date that is both a
holiday and a workday is a holiday (``check_calendar`` reports it).

Every day's periods are turned into UTC intervals with :mod:`zoneinfo`, so a period across a DST
change lasts its real elapsed time (Europe/Berlin 01:00–04:00 is 2 h in spring, 4 h in autumn).
Local times that do not exist or exist twice are read with ``fold=0`` (the offset before the
change). The arithmetic walks day by day, never minute by minute.

JSON::

    {"timezone": "Asia/Shanghai",
     "week": [[["08:30", "12:00"], ["13:00", "17:30"]], ... 7 entries Mon..Sun ...],
     "holidays": ["2024-10-01"], "workdays": ["2024-10-12"]}
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone as dt_timezone
from functools import lru_cache
from typing import Any, Iterator, Mapping
from zoneinfo import ZoneInfo

from engine.errors import Problem
from engine.i18n import msg

UTC = dt_timezone.utc
DEFAULT_TIMEZONE = "Asia/Shanghai"
_WORKDAY = (("08:30", "12:00"), ("13:00", "17:30"))
DEFAULT_WEEK: tuple[tuple[tuple[str, str], ...], ...] = (_WORKDAY,) * 5 + ((), ())
MAX_GAP_DAYS = 3 * 366            # no working time this long after a point: give up
MAX_SPAN_DAYS = 100 * 366         # never walk further than this from the start
MAX_DATES = 5000                  # holidays / workdays entries each
MAX_PERIODS = 24                  # periods per day
_KEYS = ("timezone", "week", "holidays", "workdays")
_HHMM = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")
_YMD = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class WorkCalendar:
    """A tenant's working time. Build it with :meth:`from_json` from checked data."""

    timezone: str = DEFAULT_TIMEZONE
    week: tuple[tuple[tuple[str, str], ...], ...] = DEFAULT_WEEK
    holidays: frozenset[date] = field(default_factory=frozenset)
    workdays: frozenset[date] = field(default_factory=frozenset)

    @classmethod
    def from_json(cls, data: Mapping | None) -> "WorkCalendar":
        """Lenient: ``None`` or junk gives the default; bad parts are dropped or defaulted."""
        if not isinstance(data, Mapping):
            return cls()
        tz, week = data.get("timezone"), data.get("week")
        ok_week = isinstance(week, (list, tuple)) and len(week) == 7
        return cls(timezone=tz if isinstance(tz, str) and _zone(tz) else DEFAULT_TIMEZONE,
                   week=tuple(_lenient_day(day) for day in week) if ok_week else DEFAULT_WEEK,
                   holidays=_lenient_dates(data.get("holidays")), workdays=_lenient_dates(data.get("workdays")))

    def to_json(self) -> dict:
        return {"timezone": self.timezone,
                "week": [[[start, end] for start, end in day] for day in self.week],
                "holidays": sorted(d.isoformat() for d in self.holidays),
                "workdays": sorted(d.isoformat() for d in self.workdays)}


def _minutes(text: Any, end: bool = False) -> int | None:
    """``"HH:MM"`` → minutes since midnight; ``"24:00"`` only as an end; None when invalid."""
    if not isinstance(text, str):
        return None
    if end and text == "24:00":
        return 1440
    m = _HHMM.fullmatch(text)
    return int(m[1]) * 60 + int(m[2]) if m else None


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except Exception:           # ZoneInfoNotFoundError, ValueError, OSError on odd keys
        return None


def _period(item: Any) -> tuple[int, int] | None:
    if not isinstance(item, (list, tuple)) or len(item) != 2:
        return None
    start, end = _minutes(item[0]), _minutes(item[1], end=True)
    return (start, end) if start is not None and end is not None and start < end else None


def _lenient_day(day: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(day, (list, tuple)):
        return ()
    good = sorted((p, (item[0], item[1])) for item in day[:MAX_PERIODS] if (p := _period(item)))
    kept: list[tuple[str, str]] = []
    last_end = -1
    for (start, end), texts in good:
        if start >= last_end:                 # drop periods overlapping an earlier one
            kept.append(texts)
            last_end = end
    return tuple(kept)


def _date(value: Any) -> date | None:
    if isinstance(value, date):
        return None if isinstance(value, datetime) else value
    try:
        return date.fromisoformat(value) if isinstance(value, str) and _YMD.fullmatch(value) else None
    except ValueError:
        return None


def _lenient_dates(values: Any) -> frozenset[date]:
    if not isinstance(values, (list, tuple, set, frozenset)):
        return frozenset()
    return frozenset(d for v in list(values)[:MAX_DATES] if (d := _date(v)) is not None)


# --- checking ---------------------------------------------------------------------------------

def check_calendar(data: Any) -> list[Problem]:
    """Every problem in a calendar's JSON, with paths such as ``$.week[0][1][0]``. Never raises."""
    try:
        return _check(data)
    except Exception as exc:     # a safety net: report, never crash the caller
        return [Problem("$", msg("检查日历时出错（{e}）", "Checking the calendar failed ({e})",
                                 e=type(exc).__name__))]


def _check(data: Any) -> list[Problem]:
    if data is None:
        return []
    if not isinstance(data, Mapping):
        return [Problem("$", msg("工作日历必须是对象", "A work calendar must be an object"))]
    problems: list[Problem] = []
    for key in data:
        if key not in _KEYS:
            problems.append(Problem(f"$.{key}", msg("未知的日历属性 {k}", "Unknown calendar property {k}",
                                                    k=str(key)[:50])))
    if "timezone" in data:
        tz = data["timezone"]
        if not isinstance(tz, str) or not tz or _zone(tz) is None:
            problems.append(Problem("$.timezone", msg(
                "时区 {t} 未知，应为 IANA 名称，如 Asia/Shanghai",
                "Unknown time zone {t}; use an IANA name such as Asia/Shanghai", t=repr(tz)[:60])))
    any_work = True
    if "week" in data:
        problems += _check_week(week := data["week"])
        if isinstance(week, (list, tuple)) and len(week) == 7:   # else already reported
            any_work = any(_lenient_day(d) for d in week)
    dates: dict[str, dict[date, int]] = {}
    for key in ("holidays", "workdays"):
        if key in data:
            problems += _check_dates(data[key], key, dates.setdefault(key, {}))
    for d, i in dates.get("workdays", {}).items():
        if d in dates.get("holidays", {}):
            problems.append(Problem(f"$.workdays[{i}]", msg(
                "{d} 同时是节假日和调休工作日", "{d} is both a holiday and a workday", d=d.isoformat())))
    if not any_work and not dates.get("workdays"):
        problems.append(Problem("$.week", msg("日历没有任何工作时间", "The calendar has no working time at all")))
    return problems


def _check_week(week: Any) -> list[Problem]:
    if not isinstance(week, (list, tuple)) or len(week) != 7:
        return [Problem("$.week", msg("week 必须是 7 项的列表（周一到周日）",
                                      "week must be a list of 7 entries (Monday to Sunday)"))]
    problems: list[Problem] = []
    for i, day in enumerate(week):
        path = f"$.week[{i}]"
        if not isinstance(day, (list, tuple)):
            problems.append(Problem(path, msg("每天必须是时间段的列表", "Each day must be a list of periods")))
            continue
        if len(day) > MAX_PERIODS:
            problems.append(Problem(path, msg("每天最多 {n} 个时间段", "At most {n} periods a day", n=MAX_PERIODS)))
        last_end = None
        for j, item in enumerate(day):
            p = f"{path}[{j}]"
            if not isinstance(item, (list, tuple)) or len(item) != 2:
                problems.append(Problem(p, msg("时间段必须是 [开始, 结束]，如 [\"08:30\", \"12:00\"]",
                                               "A period must be [start, end], e.g. [\"08:30\", \"12:00\"]")))
                continue
            start, end = _minutes(item[0]), _minutes(item[1], end=True)
            for k, value in ((0, start), (1, end)):
                if value is None:
                    problems.append(Problem(f"{p}[{k}]", msg(
                        "时间 {v} 无效，应为 HH:MM（00:00–23:59，结束可为 24:00）",
                        "Invalid time {v}; use HH:MM (00:00–23:59, an end may be 24:00)", v=repr(item[k])[:30])))
            if start is None or end is None:
                continue
            if start >= end:
                problems.append(Problem(p, msg("时间段的开始必须早于结束", "A period must start before it ends")))
                continue
            if last_end is not None and start < last_end:
                problems.append(Problem(p, msg("时间段必须按时间排序且不重叠",
                                               "Periods must be in order and must not overlap")))
            last_end = max(end, last_end or 0)
    return problems


def _check_dates(values: Any, key: str, seen: dict[date, int]) -> list[Problem]:
    if not isinstance(values, (list, tuple)):
        return [Problem(f"$.{key}", msg("{k} 必须是日期列表", "{k} must be a list of dates", k=key))]
    if len(values) > MAX_DATES:
        return [Problem(f"$.{key}", msg("{k} 最多 {n} 项", "{k} may have at most {n} entries", k=key, n=MAX_DATES))]
    problems: list[Problem] = []
    for i, value in enumerate(values):
        d = _date(value) if isinstance(value, str) else None
        if d is None:
            problems.append(Problem(f"$.{key}[{i}]", msg("日期 {v} 无效，应为 YYYY-MM-DD",
                                                         "Invalid date {v}; use YYYY-MM-DD", v=repr(value)[:30])))
        elif d in seen:
            problems.append(Problem(f"$.{key}[{i}]", msg("日期 {d} 重复", "Date {d} is listed twice", d=value)))
        else:
            seen[d] = i
    return problems


# --- arithmetic -------------------------------------------------------------------------------

@lru_cache(maxsize=256)
def _week_minutes(week: tuple) -> tuple[tuple[tuple[int, int], ...], ...]:
    if len(week) != 7:
        raise ValueError("A work calendar's week needs 7 entries (Monday to Sunday)")
    out = []
    for day in week:
        periods = []
        for item in day:
            p = _period(item)
            if p is None:
                raise ValueError(f"Invalid working period {item!r}; use ('HH:MM', 'HH:MM') with start < end")
            periods.append(p)
        out.append(tuple(sorted(periods)))
    return tuple(out)


def _day_intervals(cal: WorkCalendar, week: tuple, zone: ZoneInfo, day: date) -> list[tuple[datetime, datetime]]:
    """The day's working periods as merged, sorted UTC intervals."""
    if day in cal.holidays:
        return []
    periods = week[0] if day in cal.workdays else week[day.weekday()]
    midnight = datetime.combine(day, time())
    out: list[tuple[datetime, datetime]] = []
    for a, b in periods:
        s = (midnight + timedelta(minutes=a)).replace(tzinfo=zone).astimezone(UTC)
        e = (midnight + timedelta(minutes=b)).replace(tzinfo=zone).astimezone(UTC)
        if e <= s:
            continue
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def _intervals(cal: WorkCalendar, start: datetime, backward: bool = False,
               until: datetime | None = None) -> Iterator[tuple[datetime, datetime]]:
    """Working intervals (UTC) after ``start`` (before it when ``backward``), clipped to it.

    Forward walks may stop at ``until`` (then long gaps are fine). Raises ValueError when no
    working time is found within :data:`MAX_GAP_DAYS`, or when the walk passes :data:`MAX_SPAN_DAYS`.
    """
    zone = _zone(cal.timezone)
    if zone is None:
        raise ValueError(f"Unknown time zone {cal.timezone!r} in the work calendar")
    week = _week_minutes(cal.week)
    if not any(week) and not cal.workdays:
        raise ValueError("The work calendar has no working time at all (every weekday is empty "
                         "and there are no workdays)")
    step = timedelta(days=-1 if backward else 1)
    first = day = since = start.astimezone(zone).date()
    try:
        while True:
            if abs((day - first).days) > MAX_SPAN_DAYS:
                raise ValueError(f"Working time is needed more than {MAX_SPAN_DAYS // 366} years from {start.isoformat()}")
            if until is not None and datetime.combine(day, time()).replace(tzinfo=zone) >= until:
                return
            day_list = _day_intervals(cal, week, zone, day)
            for s, e in (reversed(day_list) if backward else day_list):
                s, e = (max(s, start), e) if not backward else (s, min(e, start))
                if e > s:
                    since = day
                    yield s, e
            if until is None and abs((day - since).days) > MAX_GAP_DAYS:
                raise ValueError(f"The work calendar has no working time within {MAX_GAP_DAYS} days "
                                 f"{'before' if backward else 'after'} {since.isoformat()}")
            day += step
    except OverflowError:
        raise ValueError("The deadline falls outside the supported date range") from None


def _aware(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime")
    return value.astimezone(UTC)


def _delta(hours: float) -> timedelta:
    if isinstance(hours, bool) or not isinstance(hours, (int, float)) or not math.isfinite(hours):
        raise ValueError(f"hours must be a finite number, not {hours!r}")
    try:
        return timedelta(hours=hours)
    except OverflowError:
        raise ValueError(f"hours {hours!r} is too large") from None


def add_working_hours(cal: WorkCalendar, start: datetime, hours: float) -> datetime:
    """``start`` plus ``hours`` of working time on ``cal``, in UTC.

    A start outside working time begins at the next working period; a result that lands exactly on
    a period's end is that end. Negative hours go backwards (e.g. "remind 2 working hours before").
    """
    start = _aware(start, "start")
    remaining = _delta(hours)
    if not remaining:
        return start
    backward = remaining < timedelta(0)
    remaining = abs(remaining)
    for s, e in _intervals(cal, start, backward=backward):
        if remaining <= e - s:
            return e - remaining if backward else s + remaining
        remaining -= e - s
    raise AssertionError("unreachable")  # pragma: no cover - _intervals raises or yields forever


def working_hours_between(cal: WorkCalendar, start: datetime, end: datetime) -> float:
    """Working hours on ``cal`` from ``start`` to ``end``; negative when ``end`` is earlier."""
    start, end = _aware(start, "start"), _aware(end, "end")
    if end < start:
        return -working_hours_between(cal, end, start)
    if end == start or (not any(_week_minutes(cal.week)) and not cal.workdays):
        return 0.0
    total = timedelta(0)
    for s, e in _intervals(cal, start, until=end):
        if s >= end:
            break
        total += min(e, end) - s
    return total / timedelta(hours=1)


def add_hours(start: datetime, hours: float) -> datetime:
    """Plain elapsed time (calendar-time deadlines), in UTC: 24 h is 23 h of wall clock in spring."""
    try:
        return _aware(start, "start") + _delta(hours)
    except OverflowError:
        raise ValueError("The deadline falls outside the supported date range") from None
