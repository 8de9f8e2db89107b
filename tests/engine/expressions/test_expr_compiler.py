"""Compilation: caching, evaluation API, run-time error positions, contexts."""
from collections import ChainMap
from datetime import date, datetime, timezone

import pytest

from engine.errors import EvaluationError
from engine.expressions import EvalContext, compile_expression, evaluate
from engine.expressions.compiler import compile_uncached
from engine.expressions.types import DATE, NUMBER, Scope

from tests.engine.expressions.support import CTX, ROW_SCOPE, SCOPE, data


def test_compiled_expressions_are_cached_per_source_and_scope():
    first = compile_expression("lot_size + 1", SCOPE)
    assert compile_expression("lot_size + 1", SCOPE) is first
    assert compile_expression("lot_size + 1", Scope(SCOPE.fields)) is first   # equal scope, same entry
    other = Scope.of({"lot_size": NUMBER, "extra": NUMBER})
    assert compile_expression("lot_size + 1", other) is not first
    assert compile_uncached("lot_size + 1", SCOPE) is not first


def test_missing_keys_are_blank():
    compiled = compile_expression("lot_size + defect_qty", SCOPE)
    assert compiled.evaluate({"lot_size": 5}) == 5
    assert compiled.evaluate({}) == 0
    assert compiled.evaluate(ChainMap({"lot_size": 1}, {"defect_qty": 2})) == 3


def test_runtime_errors_point_at_the_failing_node():
    compiled = compile_expression("lot_size + 1 +\n  SQRT(defect_qty - 5)", SCOPE)
    with pytest.raises(EvaluationError) as info:
        compiled.evaluate(data())
    assert (info.value.line, info.value.column) == (2, 3)
    with pytest.raises(EvaluationError, match="DIV/0") as info:
        compile_expression("lot_size / (defect_qty - 1)", SCOPE).evaluate(data())
    assert info.value.column == 10
    assert "#DIV/0!" in info.value.message.zh


def test_context_clock_timezone_and_user():
    ctx = EvalContext(user_id=9, now=datetime(2024, 1, 1, 17, 0, tzinfo=timezone.utc), tz="Asia/Shanghai")
    assert evaluate("TODAY()", ctx=ctx) == date(2024, 1, 2)
    assert evaluate("TODAY()", ctx=EvalContext(now=ctx.now)) == date(2024, 1, 1)
    assert evaluate("CURRENT_USER()", ctx=ctx) == 9
    assert evaluate("CURRENT_USER()") is None
    assert isinstance(evaluate("NOW()"), datetime) and evaluate("NOW()").tzinfo is not None
    with pytest.raises(EvaluationError, match="time zone"):
        evaluate("TODAY()", ctx=EvalContext(tz="Mars/Base"))


def test_date_arithmetic():
    run = lambda s: compile_expression(s, SCOPE).evaluate(data(), CTX)  # noqa: E731
    assert run("inspect_date + 2") == date(2024, 6, 14)
    assert run("2 + inspect_date") == date(2024, 6, 14)
    assert run("inspect_date - 12") == date(2024, 5, 31)
    assert run("due_date - inspect_date") == 2
    assert run("created_at < inspect_date") is True     # the datetime's day in the context zone
    assert run("created_at - created_at") == 0


def test_evaluate_without_scope_types_names_from_data():
    rows = [{"q": 1, "r": "NG"}, {"q": 2, "r": "OK"}]
    assert evaluate("SUM(items.q) * k", {"items": rows, "k": 3}) == 9
    assert evaluate('COUNTIF(items.r, "ng")', {"items": rows}) == 1
    assert evaluate("COUNTA(items)", {"items": rows}) == 2
    assert evaluate("a & b", {"a": "x", "b": 2}) == "x2"
    assert evaluate("d + 1", {"d": date(2024, 1, 1)}) == date(2024, 1, 2)
    assert evaluate("x > 1", {"x": 2}) is True


def test_nested_sub_tables_flatten():
    assert compile_expression("SUM(items.readings.value)", SCOPE).evaluate(data()) == 6
    row = compile_expression("SUM(readings.value) + lot_size", ROW_SCOPE)
    assert row.evaluate({"readings": [{"value": 2}]}, parents=(data(),)) == 802


def test_result_types_are_recorded():
    assert compile_expression("inspect_date + 1", SCOPE).type == DATE
    assert repr(compile_expression("1 + 1", SCOPE)).startswith("Compiled(")
