"""Filters fold calls on constants (DATEADD(TODAY(), …), DATE(YEAR(TODAY()), …)) into one value at query time."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from sqlalchemy import Column, Date, Integer, MetaData, Table

from engine.errors import ExpressionError
from engine.expressions.types import DATE, Scope
from engine.storage.filters import compile_filter

TABLE = Table("t", MetaData(), Column("id", Integer), Column("tenant_id", Integer), Column("d", Date))
SCOPE = Scope.of([("d", DATE)])
NOW = datetime(2026, 3, 15, 10, 0, tzinfo=timezone.utc)


def _values(source: str) -> list:
    clause = compile_filter(source, TABLE, SCOPE, "sqlite", NOW)
    return [v for v in clause.compile().params.values()]


def test_last_month_window_becomes_two_dates():
    got = _values('d >= DATEADD(DATE(YEAR(TODAY()), MONTH(TODAY()), 1), -1, "m") AND '
                  'd < DATE(YEAR(TODAY()), MONTH(TODAY()), 1)')
    assert date(2026, 2, 1) in got and date(2026, 3, 1) in got


def test_a_negative_constant_argument_folds_too():
    assert date(2026, 3, 8) in _values('d >= DATEADD(TODAY(), -7, "d")')


def test_a_call_on_a_field_is_still_refused_at_its_position():
    with pytest.raises(ExpressionError) as err:
        compile_filter('DATEADD(d, 1, "d") > TODAY()', TABLE, SCOPE, "sqlite", NOW)
    assert (err.value.line, err.value.column) == (1, 1)


def test_a_constant_call_that_cannot_be_computed_says_so():
    with pytest.raises(ExpressionError):
        compile_filter("d >= DATE(2026, 13, 40)", TABLE, SCOPE, "sqlite", NOW)
