"""Control limits for every chart kind: worked examples, variable n, Phase II and bad input."""
from __future__ import annotations

import json
import math
import statistics
from collections import defaultdict
from decimal import Decimal

import pytest
from hypothesis import given, settings, strategies as st

from engine.quality import QualityInputError, constants, control
from engine.quality.control import FrozenLimits
from engine.quality.sigma import SigmaMethod


def _example(reference, example_id):
    examples = reference("spc_worked_examples.json")["examples"]
    return next(e for e in examples if e["id"] == example_id)["result"]


@pytest.fixture(scope="module")
def piston_rings(dataset):
    groups = defaultdict(list)
    for row in dataset("pistonrings.txt"):
        groups[int(row["sample"])].append(float(row["diameter"]))
    return [groups[k] for k in sorted(groups)]


def _close(got, want):
    assert got == pytest.approx(want, abs=1e-6)   # the reference has 6 decimals


def _constant(values):
    assert len(set(values)) == 1, values
    return values[0]


# --- worked examples ------------------------------------------------------------------------

def test_xbar_r_piston_rings(reference, piston_rings):
    want = _example(reference, "xbar_r_pistonrings")
    chart = control.from_groups("xbar_r", piston_rings)
    assert chart.kind == "xbar_r" and chart.phase == "I" and chart.sizes == (5,) * 25
    _close(_constant(chart.primary.cl), want["CL"])
    _close(_constant(chart.primary.ucl), want["UCL"])
    _close(_constant(chart.primary.lcl), want["LCL"])
    _close(_constant(chart.secondary.cl), want["Rbar"])
    _close(_constant(chart.secondary.ucl), want["R_UCL"])
    assert _constant(chart.secondary.lcl) == want["R_LCL"] == 0.0
    assert chart.sigma_within.method is SigmaMethod.RANGE
    _close(chart.sigma_within.value, want["sigma_within"])


def test_xbar_r_equals_the_textbook_factors_for_constant_n(piston_rings):
    chart = control.from_groups("xbar_r", piston_rings)
    r_bar = statistics.fmean(max(g) - min(g) for g in piston_rings)
    x_bar = chart.primary.cl[0]
    assert chart.primary.ucl[0] == pytest.approx(x_bar + constants.A2(5) * r_bar, abs=1e-8)
    assert chart.secondary.ucl[0] == pytest.approx(constants.D4(5) * r_bar, abs=1e-8)


def test_xbar_s_piston_rings_from_summaries(reference, piston_rings):
    want = _example(reference, "xbar_s_pistonrings")
    chart = control.xbar_s([statistics.fmean(g) for g in piston_rings],
                           [statistics.stdev(g) for g in piston_rings], [5] * 25)
    assert chart.secondary.name == "s" and chart.sigma_within.method is SigmaMethod.STD_DEV
    for got, key in [(chart.primary.cl, "CL"), (chart.primary.ucl, "UCL"),
                     (chart.primary.lcl, "LCL"), (chart.secondary.cl, "Sbar"),
                     (chart.secondary.ucl, "S_UCL"), (chart.secondary.lcl, "S_LCL")]:
        _close(_constant(got), want[key])
    _close(chart.sigma_within.value, want["sigma_within"])
    s_bar = chart.secondary.cl[0]
    assert chart.primary.ucl[0] == pytest.approx(chart.primary.cl[0] + constants.A3(5) * s_bar,
                                                 abs=1e-8)


def test_imr_viscosity(reference, dataset):
    want = _example(reference, "imr_viscosity")
    values = [float(r["viscosity"]) for r in dataset("viscosity.txt")]
    chart = control.imr(values)
    assert len(chart.primary.points) == want["k"] == 20 and chart.sizes == (1,) * 20
    _close(_constant(chart.primary.cl), want["CL"])
    _close(_constant(chart.primary.ucl), want["UCL"])
    _close(_constant(chart.primary.lcl), want["LCL"])
    _close(_constant(chart.secondary.cl), want["MRbar"])
    _close(_constant(chart.secondary.ucl), want["MR_UCL"])
    _close(chart.sigma_within.value, want["sigma"])
    assert chart.secondary.points[0] is None and chart.secondary.points[1] == pytest.approx(
        abs(values[1] - values[0]))
    beyond = [i + 1 for i, x in enumerate(chart.primary.points) if x > chart.primary.ucl[i]]
    assert beyond == want["beyond_limits"]


def test_p_and_np_orange_juice(reference, dataset):
    rows = dataset("orangejuice.txt")
    d, n = [int(r["D"]) for r in rows], [int(r["size"]) for r in rows]
    p_want, np_want = _example(reference, "p_orangejuice"), _example(reference, "np_orangejuice")
    p = control.p_chart(d, n)
    _close(_constant(p.primary.cl), p_want["pbar"])
    _close(_constant(p.primary.ucl), p_want["UCL"])
    _close(_constant(p.primary.lcl), p_want["LCL"])
    beyond = [i + 1 for i, x in enumerate(p.primary.points) if x > p.primary.ucl[i]]
    assert beyond == p_want["beyond"] == [15, 23]
    np_ = control.np_chart(d, n)
    for got, key in [(np_.primary.cl, "CL"), (np_.primary.ucl, "UCL"), (np_.primary.lcl, "LCL")]:
        _close(_constant(got), np_want[key])
    assert np_.limits().cl == pytest.approx(p.limits().cl)   # both store p-bar


def test_c_circuit_and_u_pc_manufacturing(reference, dataset):
    c_want, u_want = _example(reference, "c_circuit"), _example(reference, "u_pcmanufact")
    c = control.c_chart([int(r["x"]) for r in dataset("circuit.txt")])
    for got, key in [(c.primary.cl, "cbar"), (c.primary.ucl, "UCL"), (c.primary.lcl, "LCL")]:
        _close(_constant(got), c_want[key])
    out = [i + 1 for i, x in enumerate(c.primary.points)
           if not c.primary.lcl[i] <= x <= c.primary.ucl[i]]
    assert out == c_want["beyond"] == [6, 20]         # 6 is below the LCL, 20 above the UCL
    rows = dataset("pcmanufact.txt")
    u = control.u_chart([int(r["x"]) for r in rows], [int(r["size"]) for r in rows])
    for got, key in [(u.primary.cl, "ubar"), (u.primary.ucl, "UCL"), (u.primary.lcl, "LCL")]:
        _close(_constant(got), u_want[key])


# --- variable subgroup sizes -----------------------------------------------------------------

def test_xbar_r_with_variable_sizes_uses_each_n():
    means, ranges, sizes = [10.0, 10.4, 9.8], [0.5, 1.2, 0.9], [3, 5, 4]
    chart = control.xbar_r(means, ranges, sizes)
    sigma = statistics.fmean(r / constants.d2(n) for r, n in zip(ranges, sizes))
    x_bar = sum(m * n for m, n in zip(means, sizes)) / sum(sizes)   # weighted by n
    assert chart.sigma_within.value == pytest.approx(sigma)
    assert chart.primary.cl == pytest.approx((x_bar,) * 3)
    assert chart.primary.ucl == pytest.approx(tuple(x_bar + 3 * sigma / math.sqrt(n)
                                                    for n in sizes))
    assert chart.secondary.cl == pytest.approx(tuple(constants.d2(n) * sigma for n in sizes))
    assert chart.secondary.ucl == pytest.approx(
        tuple(constants.D4(n) * constants.d2(n) * sigma for n in sizes), rel=1e-5)
    assert chart.primary.sigma == pytest.approx(tuple(sigma / math.sqrt(n) for n in sizes))


def test_xbar_s_with_variable_sizes_has_a_lower_s_limit_where_b3_is_positive():
    chart = control.xbar_s([5.0, 5.1], [0.2, 0.3], [4, 10])
    sigma = statistics.fmean([0.2 / constants.c4(4), 0.3 / constants.c4(10)])
    assert chart.secondary.lcl[0] == 0.0
    assert chart.secondary.lcl[1] == pytest.approx(constants.B3(10) * constants.c4(10) * sigma,
                                                   abs=1e-5)     # B3 has 6 decimals


def test_p_chart_with_variable_sizes_has_stepped_limits_clipped_at_zero():
    chart = control.p_chart([1, 4, 0], [10, 200, 50])
    p_bar = 5 / 260
    assert chart.primary.cl == (p_bar,) * 3
    assert chart.primary.ucl == pytest.approx(
        tuple(p_bar + 3 * math.sqrt(p_bar * (1 - p_bar) / n) for n in (10, 200, 50)))
    assert chart.primary.lcl == (0.0, 0.0, 0.0)
    assert chart.primary.points == pytest.approx((0.1, 0.02, 0.0))


def test_u_chart_limits_step_with_the_number_of_units():
    chart = control.u_chart([3, 8], [2, 8])
    assert chart.primary.cl == (1.1, 1.1)
    assert chart.primary.sigma == pytest.approx((math.sqrt(1.1 / 2), math.sqrt(1.1 / 8)))


# --- Phase II: frozen limits -----------------------------------------------------------------

def test_frozen_limits_round_trip_and_judge_new_points(piston_rings):
    phase1 = control.from_groups("xbar_r", piston_rings)
    stored = json.loads(json.dumps(phase1.limits().to_json()))
    frozen = FrozenLimits.from_json(stored)
    assert frozen == phase1.limits() and frozen.kind == "xbar_r"
    phase2 = control.xbar_r([74.02, 74.0], [0.01, 0.05], [5, 5], frozen=frozen)
    assert phase2.phase == "II" and phase2.limits() == frozen
    assert phase2.primary.ucl == phase1.primary.ucl[:2]
    assert phase2.secondary.ucl == pytest.approx(phase1.secondary.ucl[:2])
    assert phase2.sigma_within.value == pytest.approx(0.03 / constants.d2(5))  # from new data


def test_frozen_attribute_limits_need_only_the_centre():
    frozen = FrozenLimits(cl=0.1, kind="p")
    chart = control.p_chart([5, 30], [100, 100], frozen=frozen)
    assert chart.primary.cl == (0.1, 0.1)
    assert chart.primary.ucl[0] == pytest.approx(0.1 + 3 * math.sqrt(0.09 / 100))
    assert chart.limits().sigma == pytest.approx(0.3)
    assert control.np_chart([5], [100], frozen=FrozenLimits(0.1)).primary.cl == (10.0,)
    assert control.c_chart([3], frozen=FrozenLimits(4.0, 2.0)).primary.ucl == (10.0,)


def test_frozen_imr_can_judge_a_single_value():
    chart = control.imr([12.0], frozen=FrozenLimits(10.0, 0.5, "imr"))
    assert chart.primary.ucl == (11.5,) and chart.sigma_within is None
    assert chart.secondary.points == (None,)


@pytest.mark.parametrize("frozen, call, words", [
    (FrozenLimits(0.1, None, "c"), lambda f: control.p_chart([1], [10], frozen=f), "belong"),
    (FrozenLimits(10.0), lambda f: control.imr([1.0, 2.0], frozen=f), "sigma above 0"),
    (FrozenLimits(10.0, -1.0), lambda f: control.xbar_r([1.0], [1.0], [2], frozen=f),
     "sigma above 0"),
    (FrozenLimits(0.1, 0.5), lambda f: control.p_chart([1], [10], frozen=f), "disagrees"),
    (FrozenLimits(1.5), lambda f: control.p_chart([1], [10], frozen=f), "out of range"),
    (FrozenLimits(0.1, "x"), lambda f: control.p_chart([1], [10], frozen=f), "frozen.sigma"),
    ({"cl": 1}, lambda f: control.c_chart([1], frozen=f), "FrozenLimits"),
])
def test_bad_frozen_limits_are_refused(frozen, call, words):
    with pytest.raises(QualityInputError) as err:
        call(frozen)
    assert words in err.value.message.en and err.value.message.zh


@pytest.mark.parametrize("data", [None, [], {"sigma": 1}, {"cl": "x"}, {"cl": 1, "kind": "zz"}])
def test_malformed_stored_limits_are_refused(data):
    with pytest.raises(QualityInputError):
        FrozenLimits.from_json(data)


# --- raw groups and serialisation -----------------------------------------------------------

def test_from_groups_agrees_with_the_summary_entry_points():
    groups = [[1.0, 2.0, 4.0], [2.0, 2.5], [3.0, 1.0, 2.0, 2.5]]
    raw = control.from_groups("xbar_s", groups)
    summary = control.xbar_s([statistics.fmean(g) for g in groups],
                             [statistics.stdev(g) for g in groups], [3, 2, 4])
    assert raw == summary
    assert control.from_groups("imr", [[1.0], [3.0], [2.0]]) == control.imr([1, 3, 2])
    assert control.from_groups("p", [[True, False], [1, 1, 0]]) == control.p_chart([1, 2], [2, 3])
    assert control.from_groups("np", [[1, 0], [0, 0]]) == control.np_chart([1, 0], [2, 2])
    assert control.from_groups("c", [[1, 2], [0, 4]]) == control.c_chart([3, 4])
    assert control.from_groups("u", [[1, 2], [4]]) == control.u_chart([3, 4], [2, 1])


def test_summaries_from_sql_may_be_decimals():
    chart = control.xbar_r([Decimal("10.1"), Decimal("9.9")], [Decimal("0.4"), Decimal("0.2")],
                           [Decimal(4), 4])
    assert chart.primary.cl == pytest.approx((10.0, 10.0))


def test_to_json_is_plain_json():
    chart = control.imr([1.0, 3.0, 2.0])
    data = json.loads(json.dumps(chart.to_json()))
    assert data["kind"] == "imr" and data["phase"] == "I"
    assert data["secondary"]["points"][0] is None
    assert data["sigma_within"]["method"] == "moving_range"
    assert data["limits"] == {"kind": "imr", "cl": 2.0, "sigma": pytest.approx(1.5 / 1.128379,
                                                                              abs=1e-6)}
    assert json.loads(json.dumps(control.c_chart([1, 2]).to_json()))["secondary"] is None


@settings(max_examples=50, deadline=None)
@given(st.lists(st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=2, max_size=25),
                min_size=1, max_size=30))
def test_xbar_limits_are_symmetric_three_sigma(groups):
    chart = control.from_groups("xbar_r", groups)
    for cl, ucl, lcl, s in zip(chart.primary.cl, chart.primary.ucl, chart.primary.lcl,
                               chart.primary.sigma):
        assert ucl - cl == pytest.approx(3 * s, abs=1e-9) and cl - lcl == pytest.approx(
            3 * s, abs=1e-9)
    assert all(v >= 0 for v in chart.secondary.lcl)


# --- bad input -------------------------------------------------------------------------------

@pytest.mark.parametrize("call, names", [
    (lambda: control.xbar_r([], [], []), "means"),
    (lambda: control.xbar_r([1.0, "x"], [1, 1], [5, 5]), "means[1]"),
    (lambda: control.xbar_r([1.0, float("nan")], [1, 1], [5, 5]), "means[1]"),
    (lambda: control.xbar_r([1.0, True], [1, 1], [5, 5]), "means[1]"),
    (lambda: control.xbar_r([1.0, 2.0], [1, -1], [5, 5]), "ranges[1]"),
    (lambda: control.xbar_r([1.0, 2.0], [1, 1], [5, 1]), "sizes[1]"),
    (lambda: control.xbar_s([1.0, 2.0], [1, 1], [26, 5]), "sizes[0]"),
    (lambda: control.xbar_s([1.0, 2.0], [1, 1], [5, 4.5]), "sizes[1]"),
    (lambda: control.xbar_r([1.0, 2.0], [1], [5, 5]), "ranges"),
    (lambda: control.imr([1.0]), "2 values"),
    (lambda: control.imr("12"), "values"),
    (lambda: control.p_chart([3, 11], [10, 10]), "defectives[1]"),
    (lambda: control.p_chart([3, 1], [10, 0]), "sizes[1]"),
    (lambda: control.p_chart([3, -1], [10, 10]), "defectives[1]"),
    (lambda: control.np_chart([3, 1], [10, 20]), "constant sample size"),
    (lambda: control.c_chart([3, -2]), "counts[1]"),
    (lambda: control.c_chart([3, 1.5]), "counts[1]"),
    (lambda: control.u_chart([3, 2], [0, 2]), "sizes[0]"),
    (lambda: control.u_chart([3, 2], [1]), "sizes"),
    (lambda: control.from_groups("pareto", [[1]]), "pareto"),
    (lambda: control.from_groups("xbar_r", [[1.0, 2.0], [3.0]]), "len(groups[1])"),
    (lambda: control.from_groups("xbar_r", [[1.0, 2.0], []]), "groups[1]"),
    (lambda: control.from_groups("imr", [[1.0, 2.0]]), "groups[0]"),
    (lambda: control.from_groups("p", [[1, 2]]), "groups[0]"),
    (lambda: control.from_groups("c", [[1, -2]]), "groups[0][1]"),
])
def test_bad_input_is_a_bilingual_error_naming_the_argument(call, names):
    with pytest.raises(QualityInputError) as err:
        call()
    assert names in err.value.message.en
    assert err.value.message.zh and err.value.message.zh != err.value.message.en
