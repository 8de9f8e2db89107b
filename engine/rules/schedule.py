"""Cron schedules of rules: checking an expression and finding the next run time.

Standard five-field cron syntax (minute hour day-of-month month day-of-week), evaluated in the
rule's time zone (default: the tenant's work-calendar zone) and stored as UTC. croniter (a
dependency of rq's own cron scheduler) does the calendar arithmetic.
"""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from engine.i18n import Msg, msg

DEFAULT_ZONE = "Asia/Shanghai"


def cron_problem(expression: object) -> Msg | None:
    """Why ``expression`` is not a usable five-field cron expression (None when it is)."""
    if not isinstance(expression, str) or len(expression.split()) != 5:
        return msg("应为 5 段 cron 表达式（分 时 日 月 周），例如 “0 8 * * 1”",
                   "Expected a five-field cron expression (minute hour day month weekday), e.g. '0 8 * * 1'")
    if not croniter.is_valid(expression):
        return msg("cron 表达式“{c}”无效", "The cron expression '{c}' is not valid", c=expression)
    return None


def zone_problem(name: object) -> Msg | None:
    """Why ``name`` is not an IANA time zone (None when it is)."""
    try:
        ZoneInfo(str(name))
        return None
    except (ZoneInfoNotFoundError, ValueError):
        return msg("未知时区“{z}”，例如 Asia/Shanghai", "Unknown time zone '{z}', e.g. Asia/Shanghai", z=name)


def next_run(expression: str, after: datetime, zone: str | None = None) -> datetime:
    """The first time strictly after ``after`` that ``expression`` names, in UTC."""
    tz = ZoneInfo(zone or DEFAULT_ZONE)
    local = after.astimezone(tz)
    nxt = croniter(expression, local).get_next(datetime)
    return nxt.astimezone(timezone.utc)
