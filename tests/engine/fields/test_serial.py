"""Serial-number patterns: formatting, counter periods and validation."""
from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import given, settings, strategies as st

from engine.fields.base import InvalidValue
from engine.fields.serial import format_serial, period_key, validate_pattern

DAY = date(2026, 3, 5)


@pytest.mark.parametrize("pattern, n, expected", [
    ("NCR-{YYYY}-{0000}", 7, "NCR-2026-0007"),
    ("IQC{YY}{MM}{DD}-{000}", 12, "IQC260305-012"),
    ("{0}", 12345, "12345"),                    # an outgrown counter keeps all its digits
    ("8D-{MM}/{YYYY}-{00}", 3, "8D-03/2026-03"),
])
def test_format_serial(pattern, n, expected):
    assert format_serial(pattern, DAY, n) == expected


def test_format_serial_accepts_datetimes():
    assert format_serial("X-{YYYY}{MM}-{00}", datetime(2026, 12, 31, 23, 59), 1) == "X-202612-01"


@pytest.mark.parametrize("pattern, key", [
    ("NCR-{YYYY}-{0000}", "2026"),
    ("NCR-{YY}-{0000}", "2026"),
    ("NCR-{YYYY}{MM}-{0000}", "2026-03"),
    ("NCR-{MM}-{0000}", "2026-03"),
    ("NCR-{YYYY}{MM}{DD}-{0000}", "2026-03-05"),
    ("NCR-{0000}", ""),
])
def test_period_key_follows_the_finest_date_token(pattern, key):
    assert period_key(pattern, DAY) == key


@pytest.mark.parametrize("pattern, en, zh", [
    ("NCR-{YYYY}", "exactly one counter", "恰好包含一个计数器"),
    ("NCR-{000}-{00}", "exactly one counter", "恰好包含一个计数器"),
    ("NCR-{YYYYY}-{000}", "Unknown token {YYYYY}", "未知占位符 {YYYYY}"),
    ("NCR-{yyyy}-{000}", "Unknown token {yyyy}", "未知占位符"),
    ("NCR-{YYYY-{000}", "unbalanced braces", "花括号不成对"),
    ("NCR}-{000}", "unbalanced braces", "花括号不成对"),
    ("", "must not be empty", "不能为空"),
    ("X" * 61 + "{0000}", "longer than 64", "超过 64"),
])
def test_invalid_patterns_are_explained(pattern, en, zh):
    problem = validate_pattern(pattern)
    assert problem is not None and en in problem.en and zh in problem.zh
    if "64" not in en:
        with pytest.raises(InvalidValue):
            format_serial(pattern, DAY, 1)


def test_valid_pattern_has_no_problem():
    assert validate_pattern("NCR-{YYYY}-{0000}") is None


@settings(max_examples=100, deadline=None)
@given(width=st.integers(1, 8), n=st.integers(0, 10**9), prefix=st.text("ABCXYZ-_/", max_size=8))
def test_counter_is_zero_padded_to_its_width(width, n, prefix):
    result = format_serial(prefix + "{" + "0" * width + "}", DAY, n)
    digits = result[len(prefix):]
    assert int(digits) == n and len(digits) == max(width, len(str(n)))
