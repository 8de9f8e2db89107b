"""Serial numbers such as ``NCR-{YYYY}-{0000}`` (gap-free per tenant and form, see storage).

Tokens: ``{YYYY}`` ``{YY}`` ``{MM}`` ``{DD}`` for the date and exactly one counter ``{0000}``
whose width is the number of zeros (a counter that outgrows its width keeps all its digits).
The counter restarts whenever the finest date token present changes: per day with ``{DD}``,
per month with ``{MM}``, per year with ``{YYYY}``/``{YY}``, never when there is no date token.
:func:`period_key` names that period so the storage layer keeps one counter per key.
"""
from __future__ import annotations

import re
from datetime import date, datetime
from typing import Iterator

from engine.errors import Problem
from engine.expressions.types import TEXT
from engine.fields.base import Column, FieldType, InvalidValue, StorageKind, invalid, shown
from engine.i18n import Msg

SERIAL_LENGTH = 64
_TOKEN = re.compile(r"\{([^{}]*)\}")
_DATE_TOKENS = {"YYYY": "%Y", "YY": "%y", "MM": "%m", "DD": "%d"}


def _tokens(pattern: str) -> list[str]:
    """Token names in ``pattern`` after checking the braces; InvalidValue on a malformed pattern."""
    if not isinstance(pattern, str) or not pattern.strip():
        raise invalid("编号规则不能为空", "The numbering pattern must not be empty")
    names = _TOKEN.findall(pattern)
    if "{" in _TOKEN.sub("", pattern) or "}" in _TOKEN.sub("", pattern):
        raise invalid("编号规则“{p}”的花括号不成对", "The numbering pattern '{p}' has unbalanced braces", p=shown(pattern))
    for name in names:
        if name not in _DATE_TOKENS and not re.fullmatch(r"0{1,12}", name):
            raise invalid("编号规则中有未知占位符 {{{t}}}；可用：{{YYYY}} {{YY}} {{MM}} {{DD}} 和计数器 {{0000}}",
                          "Unknown token {{{t}}} in the numbering pattern; use {{YYYY}} {{YY}} {{MM}} {{DD}} "
                          "and one counter such as {{0000}}", t=name)
    counters = [n for n in names if n not in _DATE_TOKENS]
    if len(counters) != 1:
        raise invalid("编号规则必须恰好包含一个计数器（如 {{0000}}），现有 {n} 个",
                      "The numbering pattern needs exactly one counter such as {{0000}}; it has {n}", n=len(counters))
    return names


def validate_pattern(pattern) -> Msg | None:
    """Why ``pattern`` is not a valid numbering pattern, or None if it is."""
    try:
        _tokens(pattern)
    except InvalidValue as exc:
        return exc.message
    if len(format_serial(pattern, date(2099, 12, 31), 0)) > SERIAL_LENGTH:
        return Msg(f"编号规则生成的编号超过 {SERIAL_LENGTH} 个字符",
                   f"The numbering pattern makes numbers longer than {SERIAL_LENGTH} characters")
    return None


def format_serial(pattern: str, when: date | datetime, n: int) -> str:
    """The serial number for counter value ``n`` at ``when``: ``NCR-{YYYY}-{0000}`` → ``NCR-2026-0007``."""
    _tokens(pattern)

    def fill(match: re.Match) -> str:
        name = match.group(1)
        if name in _DATE_TOKENS:
            return when.strftime(_DATE_TOKENS[name])
        return str(n).zfill(len(name))

    return _TOKEN.sub(fill, pattern)


def period_key(pattern: str, when: date | datetime) -> str:
    """The counter's period at ``when``: "2026-03-15", "2026-03", "2026" or "" (never resets)."""
    names = set(_tokens(pattern))
    if "DD" in names:
        return when.strftime("%Y-%m-%d")
    if "MM" in names:
        return when.strftime("%Y-%m")
    if names & {"YYYY", "YY"}:
        return when.strftime("%Y")
    return ""


class SerialType(FieldType):
    """An automatic number from a pattern (``pattern`` option); produced by storage, never typed."""

    type = "serial"
    label = Msg("流水号", "Serial number")
    group = "advanced"
    is_computed = True
    options_schema = {"pattern": {"type": "string", "minLength": 1, "maxLength": 60}}
    required_options = ("pattern",)

    def expr_type(self, field, ctx=None):
        return TEXT

    def storage(self, field, ctx=None):
        return Column(StorageKind.TEXT, length=SERIAL_LENGTH)

    def coerce(self, field, value):
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise invalid("流水号应为文本，收到 {v}", "A serial number is text, got {v}", v=shown(value))
        return value

    def value_schema(self, field):
        return {"type": "string", "maxLength": SERIAL_LENGTH}

    def check(self, field, ctx) -> Iterator[Problem]:
        pattern = field.option("pattern")
        if isinstance(pattern, str):
            problem = validate_pattern(pattern)
            if problem:
                yield Problem(f"{ctx.path}.pattern", problem)
