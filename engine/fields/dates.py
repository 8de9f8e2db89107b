"""Dates and datetimes.

A date is ``YYYY-MM-DD``. A datetime is ISO 8601 *with* an offset (``2026-03-15T08:30:00+08:00``
or ``…Z``): a time without a zone is refused rather than guessed, because the same wall-clock
time means different instants at a plant in Suzhou and one in Stuttgart. Values are returned
as aware datetimes converted to UTC (storage keeps UTC; the UI shows the user's zone).
"""
from __future__ import annotations

import re
from datetime import date, datetime, timezone

from engine.expressions.types import DATE, DATETIME
from engine.fields.base import Column, FieldType, StorageKind, invalid, shown
from engine.i18n import Msg

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def parse_date(value) -> date:
    """A ``YYYY-MM-DD`` string or a date → date, else InvalidValue."""
    if isinstance(value, datetime):
        raise invalid("应为日期（不含时间），收到 {v}", "Expected a date without a time, got {v}", v=value.isoformat())
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _DATE.match(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise invalid("日期“{v}”不存在", "The date '{v}' does not exist", v=shown(value)) from None
    raise invalid("日期应为 YYYY-MM-DD 格式（如 2026-03-15），收到 {v}",
                  "A date must look like YYYY-MM-DD (e.g. 2026-03-15), got {v}", v=shown(value))


def parse_datetime(value) -> datetime:
    """An ISO 8601 string with offset or an aware datetime → aware UTC datetime."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and _DATETIME.match(value.strip()):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise invalid("日期时间“{v}”无效", "The datetime '{v}' is not valid", v=shown(value)) from None
    else:
        raise invalid("日期时间应为带时区的 ISO 8601 格式（如 2026-03-15T08:30:00+08:00），收到 {v}",
                      "A datetime must be ISO 8601 with an offset (e.g. 2026-03-15T08:30:00+08:00), got {v}",
                      v=shown(value))
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise invalid("日期时间“{v}”缺少时区，请加上如 +08:00 或 Z",
                      "The datetime '{v}' has no time zone; add an offset such as +08:00 or Z",
                      v=shown(value if isinstance(value, str) else value.isoformat()))
    return parsed.astimezone(timezone.utc)


class DateType(FieldType):
    """A calendar date (inspection date, due date)."""

    type = "date"
    label = Msg("日期", "Date")
    group = "basic"
    supports = frozenset({"range"})

    def expr_type(self, field, ctx=None):
        return DATE

    def storage(self, field, ctx=None):
        return Column(StorageKind.DATE)

    def coerce(self, field, value):
        if value is None or value == "":
            return None
        return parse_date(value)

    def to_json(self, field, value):
        return value.isoformat() if isinstance(value, date) else value

    def value_schema(self, field):
        return {"type": "string", "format": "date"}


class DatetimeType(FieldType):
    """A point in time with a zone (received at, signed at)."""

    type = "datetime"
    label = Msg("日期时间", "Date and time")
    group = "basic"
    supports = frozenset({"range"})

    def expr_type(self, field, ctx=None):
        return DATETIME

    def storage(self, field, ctx=None):
        return Column(StorageKind.DATETIME)

    def coerce(self, field, value):
        if value is None or value == "":
            return None
        return parse_datetime(value)

    def to_json(self, field, value):
        return value.isoformat() if isinstance(value, datetime) else value

    def value_schema(self, field):
        return {"type": "string", "format": "date-time"}
