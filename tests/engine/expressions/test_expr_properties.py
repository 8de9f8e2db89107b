"""Property tests: random expressions and random data raise nothing but the language's errors."""
from datetime import timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.errors import ExpressionError
from engine.expressions import FUNCTIONS, check, compile_expression, evaluate

from tests.engine.expressions.support import CTX, SCOPE

NAMES = ["lot_size", "defect_qty", "measured", "supplier", "remark", "passed", "inspect_date",
         "created_at", "inspector", "tags", "items", "items.qty", "items.result", "items.readings.value",
         "nope", "Lot_size"]
OPERATORS = ["+", "-", "*", "/", "^", "&", "=", "==", "<>", "!=", "<", "<=", ">", ">=", "AND", "OR",
             "&&", "||"]

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12), st.dates(), st.datetimes(timezones=st.just(timezone.utc)),
    st.lists(st.integers(-5, 5), max_size=3),
)
rows = st.lists(st.fixed_dictionaries({}, optional={
    "qty": scalars, "result": scalars, "measured": scalars,
    "readings": st.lists(st.fixed_dictionaries({}, optional={"value": scalars}), max_size=3)}), max_size=4)
records = st.fixed_dictionaries({}, optional={
    **{name: scalars for name in ["lot_size", "defect_qty", "measured", "supplier", "remark", "passed",
                                  "inspect_date", "created_at", "inspector", "tags"]},
    "items": st.one_of(rows, scalars)})

literals = st.one_of(
    st.integers(-1000, 10**6).map(str), st.floats(0, 1e6, allow_nan=False).map(repr),
    st.sampled_from(['"NG"', '"OK"', '""', '">5"', '"<>OK"', '"d"', '"m"', '"y"', "TRUE", "FALSE", '"a""b"']),
)
atoms = st.one_of(literals, st.sampled_from(NAMES))


def _combine(children):
    unary = st.tuples(st.sampled_from(["-", "+", "NOT ", "!"]), children).map(lambda t: f"{t[0]}{t[1]}")
    percent = children.map(lambda c: f"{c}%")
    binary = st.tuples(children, st.sampled_from(OPERATORS), children).map(lambda t: f"({t[0]} {t[1]} {t[2]})")
    call = st.tuples(st.sampled_from(sorted(FUNCTIONS.keys())), st.lists(children, max_size=4)).map(
        lambda t: f"{t[0]}({', '.join(t[1])})")
    return st.one_of(unary, percent, binary, call)


expressions = st.recursive(atoms, _combine, max_leaves=12)
FAST = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))


@FAST
@given(expressions, records)
def test_random_expressions_on_random_data(source, record):
    try:
        compiled = compile_expression(source, SCOPE)
    except ExpressionError:
        return
    try:
        compiled.evaluate(record, CTX)
    except ExpressionError:
        pass


@FAST
@given(expressions, st.dictionaries(st.sampled_from(["a", "b", "items", "x"]), scalars, max_size=4))
def test_untyped_evaluation(source, record):
    try:
        evaluate(source.replace("lot_size", "a").replace("supplier", "b"), record, ctx=CTX)
    except ExpressionError:
        pass


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from(list('()+-*/^&=<>!,."\\%ab1 .e_IFSUMNOTAND\n，（')), max_size=40))
def test_random_text_only_raises_language_errors(source):
    result = check(source, SCOPE)
    assert result.ok or all(isinstance(e, ExpressionError) and e.line >= 1 and e.column >= 1 for e in result.errors)
    try:
        evaluate(source, {"a": 1, "b": "x"})
    except ExpressionError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_arbitrary_unicode_text(source):
    result = check(source, SCOPE)
    assert result.ok or result.errors
