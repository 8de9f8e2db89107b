"""The quality functions of the expression language (engine/expressions/functions/quality.py)."""
from __future__ import annotations

import statistics

import pytest

from engine.errors import EvaluationError
from engine.expressions.functions import FUNCTIONS
from engine.quality import aql, capability

NAMES = ("PPM", "CP", "CPK", "PP", "PPK", "AQL_CODE", "AQL_SAMPLE_SIZE", "AQL_AC", "AQL_RE")
MEASURED = [74.030, 74.002, 74.019, 73.992, 74.008, 73.995, 73.992, 74.001, 74.011, 74.004]


def call(name, *args):
    return FUNCTIONS.get(name).impl(*args)


# --- registration ----------------------------------------------------------------------------

@pytest.mark.parametrize("name", NAMES)
def test_registered_with_bilingual_docs(name):
    spec = FUNCTIONS.get(name)
    assert spec.category == "quality"
    assert spec.doc.zh and spec.doc.en and spec.doc.zh != spec.doc.en
    assert any("\u4e00" <= ch <= "\u9fff" for ch in spec.doc.zh)
    assert spec.example.startswith(name + "(")


def test_plan_functions_take_an_optional_severity():
    for name in ("AQL_SAMPLE_SIZE", "AQL_AC", "AQL_RE"):
        spec = FUNCTIONS.get(name)
        assert (spec.min_args, spec.max_args) == (3, 4)
    assert (FUNCTIONS.get("CPK").min_args, FUNCTIONS.get("CPK").max_args) == (3, 3)


# --- direct calls ----------------------------------------------------------------------------

def test_capability_functions_match_the_library():
    want = capability.study(MEASURED, 73.95, 74.05)
    assert call("CP", MEASURED, 73.95, 74.05) == want.cp
    assert call("CPK", MEASURED, 73.95, 74.05) == want.cpk
    assert call("PP", MEASURED, 73.95, 74.05) == want.pp
    assert call("PPK", MEASURED, 73.95, 74.05) == want.ppk
    # PP uses the sample SD (n-1), CP the moving range
    overall = statistics.stdev(MEASURED)
    assert call("PP", MEASURED, 73.95, 74.05) == pytest.approx(0.1 / (6 * overall))


def test_blanks_in_the_list_are_skipped():
    with_blanks = [None, MEASURED[0], None, *MEASURED[1:], None]
    assert call("CPK", with_blanks, 73.95, 74.05) == call("CPK", MEASURED, 73.95, 74.05)


@pytest.mark.parametrize("values", [[], [None], [74.0], [None, 74.0, None]])
def test_fewer_than_two_values_is_blank(values):
    for name in ("CP", "CPK", "PP", "PPK"):
        assert call(name, values, 73.95, 74.05) is None


def test_blank_limits():
    assert call("CP", MEASURED, None, 74.05) is None          # one-sided: Cp undefined
    assert call("CPK", MEASURED, None, 74.05) == capability.study(MEASURED, usl=74.05).cpu
    assert call("PPK", MEASURED, 73.95, None) == capability.study(MEASURED, lsl=73.95).ppl
    assert call("CPK", MEASURED, None, None) is None


def test_no_spread_is_blank():
    assert call("CPK", [5, 5, 5], 4, 6) is None


@pytest.mark.parametrize("args, fragment", [
    ((MEASURED, 74.05, 73.95), "below the upper"),
    ((MEASURED, 74.0, 74.0), "below the upper"),
    (([1, "x", 3], 0, 5), "Value 2"),
])
def test_bad_capability_inputs_raise_evaluation_error(args, fragment):
    with pytest.raises(EvaluationError) as err:
        call("CPK", *args)
    assert err.value.message.en.startswith("CPK: ") and fragment in err.value.message.en
    assert err.value.message.zh.startswith("CPK：")


def test_ppm():
    assert call("PPM", 3, 1000) == pytest.approx(3000)
    assert call("PPM", None, 1000) is None and call("PPM", 3, None) is None
    with pytest.raises(EvaluationError) as err:
        call("PPM", 3, 0)
    assert "PPM" in err.value.message.zh and "above 0" in err.value.message.en


def test_aql_functions():
    assert call("AQL_CODE", 1000, "II") == "J"
    assert call("AQL_CODE", 1000, "2") == "J"
    assert call("AQL_SAMPLE_SIZE", 1000, "II", "1.0") == 80
    assert call("AQL_AC", 1000, "II", "1.0") == 2
    assert call("AQL_RE", 1000, "II", "1.0") == 3
    assert call("AQL_AC", 1000, "II", "1", "tightened") == 1
    assert call("AQL_RE", 1000, "ii", "1", "reduced") == 3
    assert call("AQL_SAMPLE_SIZE", 1000, "II", "1.0", "reduced") == 32
    assert call("AQL_SAMPLE_SIZE", 1000, "II", "1.0", None) == 80      # blank severity = normal
    assert call("AQL_SAMPLE_SIZE", 10, "II", "0.65") == 10              # full inspection
    assert call("AQL_SAMPLE_SIZE", 1000.0, "II", "0.65") == aql.plan(1000, "II", "0.65").n


@pytest.mark.parametrize("name", ["AQL_SAMPLE_SIZE", "AQL_AC", "AQL_RE"])
@pytest.mark.parametrize("args", [(None, "II", "1.0"), (1000, None, "1.0"), (1000, "II", None),
                                  (1000, "", "1.0")])
def test_aql_blank_arguments_give_blank(name, args):
    assert call(name, *args) is None


@pytest.mark.parametrize("args, fragment", [
    ((1000, "II", "0.3"), "not in the sampling tables"),
    ((0, "II", "1.0"), "lot size"),
    ((12.5, "II", "1.0"), "lot size"),
    ((1000, "IV", "1.0"), "Inspection level"),
    ((1000, "II", "1.0", "strict"), "severity"),
])
def test_aql_bad_inputs_raise_evaluation_error(args, fragment):
    with pytest.raises(EvaluationError) as err:
        call("AQL_AC", *args)
    assert err.value.message.en.startswith("AQL_AC: ") and fragment in err.value.message.en
    assert any("\u4e00" <= ch <= "\u9fff" for ch in err.value.message.zh)


# --- through the expression language --------------------------------------------------------

@pytest.fixture(scope="module")
def iqc_scope():
    from engine.expressions.types import NUMBER, TEXT, Scope
    return Scope.of({"lot_size": NUMBER, "level": TEXT, "aql": TEXT, "lsl": NUMBER,
                     "usl": NUMBER, "ng_qty": NUMBER,
                     "items": Scope.of({"measured": NUMBER})})


def _rows(values):
    return [{"measured": v} for v in values]


def test_evaluate_aql_formulas(iqc_scope):
    from engine.expressions import evaluate
    data = {"lot_size": 1000, "level": "II", "aql": "1.0"}
    assert evaluate("AQL_CODE(lot_size, level)", data, iqc_scope) == "J"
    assert evaluate("AQL_SAMPLE_SIZE(lot_size, level, aql)", data, iqc_scope) == 80
    assert evaluate("AQL_AC(lot_size, level, aql)", data, iqc_scope) == 2
    assert evaluate("AQL_RE(lot_size, level, aql)", data, iqc_scope) == 3
    assert evaluate('AQL_AC(lot_size, "II", 1.0, "tightened")', data, iqc_scope) == 1
    assert evaluate('AQL_RE(lot_size, "II", 0.65, "reduced")', data, iqc_scope) == 2
    assert evaluate('IF(ng_qty <= AQL_AC(lot_size, level, aql), "接收", "拒收")',
                    {**data, "ng_qty": 3}, iqc_scope) == "拒收"
    assert evaluate("AQL_SAMPLE_SIZE(lot_size, level, aql)", {**data, "lot_size": None},
                    iqc_scope) is None


def test_evaluate_capability_on_a_sub_table_column(iqc_scope):
    from engine.expressions import evaluate
    data = {"lsl": 73.95, "usl": 74.05, "items": _rows([*MEASURED[:3], None, *MEASURED[3:]])}
    assert evaluate("CPK(items.measured, lsl, usl)", data, iqc_scope) == \
        pytest.approx(call("CPK", MEASURED, 73.95, 74.05))
    assert evaluate("ROUND(PPK(items.measured, lsl, usl), 2)", data, iqc_scope) == \
        round(call("PPK", MEASURED, 73.95, 74.05), 2)
    assert evaluate("CP(items.measured, lsl, usl)", {**data, "items": _rows([74.0])},
                    iqc_scope) is None
    assert evaluate("PPM(ng_qty, lot_size)", {"ng_qty": 2, "lot_size": 4000}, iqc_scope) == 500


def test_evaluate_bad_values_raise_evaluation_error(iqc_scope):
    from engine.expressions import evaluate
    with pytest.raises(EvaluationError) as err:
        evaluate('AQL_AC(lot_size, "II", "0.3")', {"lot_size": 1000}, iqc_scope)
    assert "0.65" in err.value.message.en and "抽样表" in err.value.message.zh
    with pytest.raises(EvaluationError):
        evaluate("CPK(items.measured, usl, lsl)",
                 {"lsl": 73.95, "usl": 74.05, "items": _rows(MEASURED)}, iqc_scope)


def test_type_checking_of_quality_calls(iqc_scope):
    from engine.expressions import check
    from engine.expressions.types import NUMBER, TEXT
    assert check("CPK(items.measured, lsl, usl)", iqc_scope).type == NUMBER
    assert check("AQL_CODE(lot_size, level)", iqc_scope).type == TEXT
    assert check("AQL_AC(lot_size, level)", iqc_scope).errors          # too few arguments
    assert check("CPK(items, lsl, usl)", iqc_scope).errors             # a sub-table, not a column


@pytest.mark.parametrize("name", NAMES)
def test_examples_parse(name):
    from engine.expressions import parse
    parse(FUNCTIONS.get(name).example)
