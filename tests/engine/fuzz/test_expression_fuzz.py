"""Fuzzing the expression language: random text and grammar-guided expressions.

Generated calls follow the function registry (each function with 0..its arity+1 arguments),
mixed with every operator, literals of all kinds, field references of the IQC-like test scope,
and nesting up to and beyond the depth limit. parse/check/evaluate let only the language's
:class:`ExpressionError` escape — with a 1-based line/column and a message in both languages —
and each case finishes within a time bound. The API routes answer 200/422, never 5xx.
"""
from __future__ import annotations

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.errors import ExpressionError
from engine.expressions import FUNCTIONS, check, compile_expression, parse
from engine.expressions.limits import MAX_DEPTH
from tests.engine.expressions.support import CTX, SCOPE, data
from tests.runtime.api.support import bearer

SECONDS_PER_CASE = 2.0
NAMES = ["lot_size", "defect_qty", "measured", "usl", "lsl", "supplier", "remark", "passed", "inspect_date",
         "created_at", "inspector", "tags", "items", "items.qty", "items.result", "items.readings.value",
         "unknown_field", "__class__", "items.__dict__", "LOT_SIZE", "键"]
OPERATORS = ["+", "-", "*", "/", "^", "&", "=", "==", "<>", "!=", "<", "<=", ">", ">=", "AND", "OR", "&&", "||"]
LITERALS = st.one_of(
    st.integers(-(10**20), 10**20).map(str), st.sampled_from(["1e308", "1e-308", "0", "0.0", "99999999999999999999"]),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.text(max_size=20).map(lambda s: '"' + s.replace('"', '""') + '"'),
    st.sampled_from(["TRUE", "FALSE", '"NG"', '""', '"2024-02-30"', '"a""b"', "BLANK()"]))
ATOMS = st.one_of(LITERALS, st.sampled_from(NAMES))
CASES = {"text": 0, "grammar": 0, "deep": 0, "api": 0, "errors": 0}


def _arity(name: str) -> int:
    return len(FUNCTIONS.get(name).params)


def _combine(children):
    call = st.sampled_from(sorted(FUNCTIONS.keys())).flatmap(
        lambda name: st.lists(children, max_size=_arity(name) + 1).map(lambda a: f"{name}({', '.join(a)})"))
    return st.one_of(
        st.tuples(st.sampled_from(["-", "+", "NOT ", "!"]), children).map("".join),
        st.tuples(children, st.sampled_from(OPERATORS), children).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        call, call)


GRAMMAR = st.recursive(ATOMS, _combine, max_leaves=20)
DEEP = st.tuples(st.sampled_from(["(", "IF(TRUE, ", "-", "NOT ", "ABS(", "SUM(items.qty, "]),
                 st.integers(MAX_DEPTH - 4, MAX_DEPTH * 3), ATOMS).map(
    lambda t: t[0] * t[1] + t[2] + ("" if t[0] in ("-", "NOT ") else ")" * t[1]))
FUZZ = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))
RECORD = data()


def _assert_well_formed(exc: ExpressionError, source: str) -> None:
    assert exc.line >= 1 and exc.column >= 1, (source, exc.line, exc.column)
    assert exc.line <= source.count("\n") + 2, (source, exc.line)
    assert exc.message.zh and exc.message.en


def _run(source: str) -> None:
    """parse → check → compile → evaluate; only ExpressionError may escape, within the time bound."""
    started = time.perf_counter()
    try:
        parse(source)
    except ExpressionError as exc:
        _assert_well_formed(exc, source)
    result = check(source, SCOPE)
    for exc in result.errors:
        _assert_well_formed(exc, source)
    try:
        compile_expression(source, SCOPE).evaluate(RECORD, CTX)
    except ExpressionError as exc:
        CASES["errors"] += 1
        _assert_well_formed(exc, source)
    assert time.perf_counter() - started < SECONDS_PER_CASE, source[:200]


@FUZZ
@given(source=st.text(max_size=200))
def test_random_text(source):
    CASES["text"] += 1
    _run(source)


@settings(FUZZ, max_examples=300)
@given(source=GRAMMAR)
def test_grammar_guided_expressions(source):
    CASES["grammar"] += 1
    _run(source)


@settings(FUZZ, max_examples=40)
@given(source=DEEP)
def test_deep_nesting(source):
    CASES["deep"] += 1
    _run(source)


@settings(FUZZ, max_examples=30)
@given(source=st.one_of(GRAMMAR, st.text(max_size=80)), sample=st.dictionaries(
    st.sampled_from(NAMES), st.one_of(st.none(), st.integers(), st.floats(), st.text(max_size=10),
                                      st.lists(st.integers(), max_size=3)), max_size=4))
def test_check_and_evaluate_routes_answer_without_server_errors(client, tenant_a, source, sample):
    CASES["api"] += 1
    headers = bearer(tenant_a.admin_token, "zh-CN")
    res = client.post("/api/v1/expressions/check", json={"form": "inspection", "expression": source},
                      headers=headers)
    assert res.status_code == 200
    body = res.get_json()
    assert all(e["line"] >= 1 and e["column"] >= 1 and e["message"] for e in body["errors"])
    res = client.post("/api/v1/expressions/evaluate", json={"expression": source, "data": sample}, headers=headers)
    assert res.status_code in (200, 422), res.get_data(as_text=True)[:300]
    if res.status_code == 422:
        assert all(e["line"] >= 1 and e["column"] >= 1 and e["message"] for e in res.get_json()["errors"])


def test_report_fuzz_case_counts():
    """Runs last in this module: the number of fuzz cases (for the CI log)."""
    print(f"expression fuzz: {CASES}")
