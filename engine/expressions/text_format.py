"""The format codes of TEXT(value, format): a practical subset of Excel's.

Numbers: ``0``, ``0.00``, ``#,##0.0``, ``0%``, ``0.0%`` with literal text around them
(``"0.00 mm"``); rounding is half away from zero. Dates and times: ``yyyy yy m mm d dd h hh
s ss`` (``m``/``mm`` after ``h`` or before ``s`` means minutes), any other characters are
copied (``yyyy年m月d日``).
"""
from __future__ import annotations

import re
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from engine.expressions.runtime import NUMBER_TYPES, fail, text_of

_NUMBER_FORMAT = re.compile(r"^(?P<pre>[^0#]*?)(?P<int>[#0,]+)(?:\.(?P<dec>[0#]+))?(?P<pct>%?)(?P<post>[^0#]*)$")
_DATE_TOKEN = re.compile(r"yyyy|yy|mm|m|dd|d|hh|h|ss|s", re.I)


def format_value(value, fmt: str) -> str:
    """``value`` formatted with the Excel-like ``fmt`` (empty: the plain text form)."""
    if value is None:
        return ""
    if not fmt:
        return text_of(value)
    if isinstance(value, date):
        return _format_date(value, fmt)
    if isinstance(value, NUMBER_TYPES):
        return _format_number(value, fmt)
    return text_of(value)


def _format_number(value, fmt: str) -> str:
    match = _NUMBER_FORMAT.match(fmt)
    if not match:
        raise fail("TEXT 的格式 '{f}' 无法识别", "TEXT: format '{f}' is not supported", f=fmt[:40])
    decimals = len(match["dec"] or "")
    number = Decimal(repr(float(value))) * (100 if match["pct"] else 1)
    rounded = number.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    grouping = "," if "," in match["int"] else ""
    body = format(rounded, f"{grouping}.{decimals}f")
    if match["int"].replace(",", "").startswith("#") and body.startswith("0") and decimals:
        body = body[1:]
    return f"{match['pre']}{body}{match['pct']}{match['post']}"


def _format_date(value: date, fmt: str) -> str:
    tokens = [(m.start(), m.end(), m.group().lower()) for m in _DATE_TOKEN.finditer(fmt)]
    out, last = [], 0
    for i, (start, end, token) in enumerate(tokens):
        out.append(fmt[last:start])
        last = end
        if token in ("m", "mm"):
            before = tokens[i - 1][2] if i else ""
            after = tokens[i + 1][2] if i + 1 < len(tokens) else ""
            if before.startswith("h") or after.startswith("s"):
                token = "n" * len(token)   # minutes
        out.append(_date_part(value, token))
    out.append(fmt[last:])
    return "".join(out)


def _date_part(value: date, token: str) -> str:
    is_time = isinstance(value, datetime)
    parts = {
        "yyyy": f"{value.year:04d}", "yy": f"{value.year % 100:02d}",
        "mm": f"{value.month:02d}", "m": str(value.month),
        "dd": f"{value.day:02d}", "d": str(value.day),
        "hh": f"{value.hour:02d}" if is_time else "00", "h": str(value.hour) if is_time else "0",
        "nn": f"{value.minute:02d}" if is_time else "00", "n": str(value.minute) if is_time else "0",
        "ss": f"{value.second:02d}" if is_time else "00", "s": str(value.second) if is_time else "0",
    }
    return parts[token]
