"""Hostile input: only the language's own errors, quickly; no Python object is reachable."""
import time

import pytest

from engine.errors import EvaluationError, ExpressionError, ExpressionLimitError
from engine.expressions import check, compile_expression, evaluate
from engine.expressions.limits import MAX_DEPTH, MAX_SOURCE_LENGTH
from engine.expressions.types import NUMBER, Scope

from tests.engine.expressions.support import SCOPE


@pytest.mark.parametrize("source", [
    '__import__("os")', "x.__class__", "().__class__", 'open("f")', "eval(1)", "exec(1)",
    "__builtins__", "lot_size.__class__.__mro__", 'getattr(lot_size, "real")', "lambda: 1",
    "[1, 2]", "{1: 2}", "lot_size[0]", "a; b", "import os", "items.__len__", "globals()",
    "_cmp(1, 2, 3, 4)", "F0(1)", "data", "ctx", "r", "v0",
])
def test_python_is_not_reachable(source):
    with pytest.raises(ExpressionError):
        compile_expression(source, SCOPE)


def test_dunder_keys_in_data_are_just_missing_fields():
    scope = Scope.of({"x": NUMBER})
    with pytest.raises(ExpressionError, match="Unknown field '__class__'"):
        compile_expression("__class__", scope)


def test_generated_code_has_no_builtins_and_only_constant_keys():
    compiled = compile_expression('IF(supplier = "__import__", lot_size, 2)', SCOPE)
    assert compiled.evaluate.__globals__["__builtins__"] == {}
    assert "data['supplier']" in compiled.python and "'__import__'" in compiled.python
    assert "__import__(" not in compiled.python


def test_text_literals_are_escaped_constants():
    tricky = '"\')); __import__(\'os\').system(\'echo hacked\') #"'
    assert evaluate(tricky) == "')); __import__('os').system('echo hacked') #"


def _fast(func, *args, seconds=1.0):
    start = time.perf_counter()
    try:
        func(*args)
    finally:
        assert time.perf_counter() - start < seconds


@pytest.mark.parametrize("source", [
    "(" * 10_000 + "1" + ")" * 10_000, "-" * 3_000 + "1", "NOT " * 900 + "TRUE",
    "1" + "+1" * 1_990, "x" * (MAX_SOURCE_LENGTH + 1), "IF(" * (MAX_DEPTH + 1),
])
def test_size_and_depth_bounds(source):
    with pytest.raises(ExpressionLimitError) as info:
        _fast(compile_expression, source, SCOPE)
    assert info.value.message.zh and info.value.message.en


@pytest.mark.parametrize("source", [
    "9^9^9", "9^(9^9)", "POWER(10, 400)", "10^15 * 10^15 * 10^300 * 10^300", "1e308 * 10",
    'REPT("x", 1e9)', 'REPT("abc", 40000) & REPT("abc", 40000)', 'CONCAT(REPT("x", 99999), "ab")',
])
def test_work_bounds(source):
    with pytest.raises(ExpressionLimitError):
        _fast(evaluate, source)


def test_huge_lists_are_refused():
    rows = [{"q": 1}] * 200_001
    with pytest.raises(ExpressionLimitError):
        _fast(evaluate, "SUM(items.q)", {"items": rows}, Scope.of({"items": Scope.of({"q": NUMBER})}))


def test_check_of_hostile_input_is_fast():
    _fast(check, "(" * 100_000, SCOPE)
    _fast(check, '"' * 4_000, SCOPE)


def test_data_of_the_wrong_type_is_an_evaluation_error():
    with pytest.raises(EvaluationError):
        evaluate("a + 1", {"a": object()})
    with pytest.raises(EvaluationError):
        compile_expression("lot_size * 2", SCOPE).evaluate({"lot_size": "12"})
    with pytest.raises(EvaluationError):
        compile_expression("SUM(items.qty)", SCOPE).evaluate({"items": "not rows"})
    with pytest.raises(EvaluationError):
        compile_expression("SUM(items.qty)", SCOPE).evaluate({"items": [1, 2]})
