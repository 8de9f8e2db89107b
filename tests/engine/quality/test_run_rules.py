"""Nelson 1–8 and Western Electric 1–4: each rule fires, and just does not at its boundary."""
from __future__ import annotations

import json

import pytest

from engine.quality import QualityInputError, control, run_rules
from engine.quality.run_rules import Violation


def flagged(points, rules, cl=0.0, sigma=1.0):
    """(rule, flagged point) pairs for a series around CL 0 with sigma 1 by default."""
    return [(v.rule, v.point) for v in run_rules.evaluate(points, cl, sigma, rules)]


ALTERNATING_SMALL = [0.5, -0.5] * 7                    # 14 points, 13 alternating steps
HUGGING = ([0.5, 0.6, -0.5, -0.6] * 4)[:15]            # within 1 sigma, no run, no trend


# --- every rule: fires / just does not -------------------------------------------------------

@pytest.mark.parametrize("rule, points, want", [
    # Nelson 1: beyond 3 sigma, strictly
    (1, [0.0, 3.01], [(1, 1)]),
    (1, [0.0, -3.5], [(1, 1)]),
    (1, [3.0, -3.0], []),
    # Nelson 2: 9 on one side; on the CL breaks the run; each point from the 9th on
    (2, [0.5] * 9, [(2, 8)]),
    (2, [-0.5] * 10, [(2, 8), (2, 9)]),
    (2, [0.5] * 8, []),
    (2, [0.5] * 4 + [0.0] + [0.5] * 4, []),
    # Nelson 3: 6 strictly increasing or decreasing; a tie breaks the trend
    (3, [0.0, 0.25, 0.5, 0.75, 1.0, 1.25], [(3, 5)]),
    (3, [1.25, 1.0, 0.75, 0.5, 0.25, 0.0, -0.25], [(3, 5), (3, 6)]),
    (3, [0.0, 0.25, 0.5, 0.5, 0.75, 1.0, 1.25], []),
    (3, [0.0, 0.25, 0.5, 0.75, 1.0], []),
    # Nelson 4: 14 alternating; 13 points or a tie is not enough
    (4, ALTERNATING_SMALL, [(4, 13)]),
    (4, ALTERNATING_SMALL[:13], []),
    (4, ALTERNATING_SMALL[:7] + [0.5] + ALTERNATING_SMALL[8:] + [0.5], []),   # a tie
    # Nelson 5: 2 of 3 beyond 2 sigma, same side, the flagged point among them
    (5, [2.5, 0.0, 2.5], [(5, 2)]),
    (5, [0.0, -2.5, -2.5], [(5, 2)]),
    (5, [-2.5, -2.5, 0.0], []),
    (5, [2.5, 0.0, 0.0, 2.5], []),
    (5, [2.0, 0.0, 2.5], []),
    (5, [2.5, -2.5, 0.0], []),
    # Nelson 6: 4 of 5 beyond 1 sigma, same side
    (6, [1.5, 1.5, 0.0, 1.5, 1.5], [(6, 4)]),
    (6, [0.0, -1.5, -1.5, -1.5, -1.5], [(6, 4)]),
    (6, [-1.5, -1.5, -1.5, -1.5], []),
    (6, [1.0, 1.5, 0.0, 1.5, 1.5], []),
    (6, [1.5, 1.5, -1.5, 1.5, 1.5], [(6, 4)]),      # the 5th point may be anywhere
    (6, [1.5, 1.5, -1.5, -1.5, 1.5], []),
    # Nelson 7: 15 strictly within 1 sigma
    (7, HUGGING, [(7, 14)]),
    (7, HUGGING[:7] + [1.0] + HUGGING[8:], []),
    (7, HUGGING[:14], []),
    # Nelson 8: 8 beyond 1 sigma on either side (one side is enough, Minitab wording)
    (8, [1.5, -1.5] * 4, [(8, 7)]),
    (8, [1.5] * 8, [(8, 7)]),
    (8, [1.5, -1.5] * 3 + [1.0, 1.5], []),
    (8, [1.5, -1.5] * 3 + [1.5], []),
])
def test_nelson_rule(rule, points, want):
    assert flagged(points, [rule]) == want


@pytest.mark.parametrize("rule, points, want", [
    (1, [0.0, 3.2], [(1, 1)]),
    (1, [3.0], []),
    (2, [2.1, 0.0, 2.1], [(2, 2)]),
    (2, [2.1, 0.0, -2.1], []),
    (3, [1.1, 1.1, 1.1, 0.0, 1.1], [(3, 4)]),
    (3, [1.1, 1.1, 1.1, 0.0, 0.9], []),
    (4, [0.5] * 8, [(4, 7)]),
    (4, [0.5] * 7, []),
    (4, [0.5] * 3 + [0.0] + [0.5] * 5, []),
])
def test_western_electric_rule(rule, points, want):
    assert [(r, p) for r, p in flagged(points, "we") if r == rule] == want


def test_only_the_rule_under_test_fires_on_its_series():
    assert {r for r, _ in flagged(ALTERNATING_SMALL, "nelson")} == {4}
    assert {r for r, _ in flagged(HUGGING, "nelson")} == {7}
    assert {r for r, _ in flagged([1.5, -1.5] * 4, "nelson")} == {8}


# --- the qcc unit tests quoted in nelson_rules.json ------------------------------------------

def test_qcc_western_electric_4_fires_at_the_eighth_point():
    assert flagged([0.5] * 8 + [-0.5], "we") == [(4, 7)]


def test_qcc_nelson_7_flags_points_15_and_16():
    assert flagged([0.3] * 16 + [1.2], [7]) == [(7, 14), (7, 15)]


# --- worked examples -------------------------------------------------------------------------

def _signals(chart, rules):
    s = chart.primary
    return run_rules.evaluate(s.points, s.cl, s.sigma, rules)


def test_orange_juice_p_chart_samples_15_and_23(dataset):
    rows = dataset("orangejuice.txt")
    chart = control.p_chart([int(r["D"]) for r in rows], [int(r["size"]) for r in rows])
    assert [v.point + 1 for v in _signals(chart, [1])] == [15, 23]


def test_circuit_c_chart_samples_6_and_20(dataset):
    chart = control.c_chart([int(r["x"]) for r in dataset("circuit.txt")])
    assert [v.point + 1 for v in _signals(chart, [1])] == [6, 20]


def test_viscosity_point_4_is_the_only_western_electric_signal(dataset):
    chart = control.imr([float(r["viscosity"]) for r in dataset("viscosity.txt")])
    signals = _signals(chart, "we")
    assert [(v.rule, v.point + 1) for v in signals] == [(1, 4)]   # qcc: exactly one violation


def test_a_point_on_the_drawn_limit_is_not_beyond_it():
    chart = control.imr([10.0, 10.1, 9.9, 10.0])
    ucl, s = chart.primary.ucl[0], chart.primary
    on_limit = [10.0, ucl, 10.0]
    assert run_rules.evaluate(on_limit, s.cl[0], s.sigma[0], [1]) == []
    just_over = [10.0, ucl + 1e-9, 10.0]
    assert [v.point for v in run_rules.evaluate(just_over, s.cl[0], s.sigma[0], [1])] == [1]


# --- conventions -----------------------------------------------------------------------------

def test_missing_points_break_every_run():
    assert flagged([0.5] * 5 + [None] + [0.5] * 4, [2]) == []
    assert flagged([0.5] * 5 + [None] + [0.5] * 9, [2]) == [(2, 14)]


def test_per_point_limits_are_used():
    points = [0.25, 0.3, 0.1]
    assert flagged(points, [1], cl=[0.1, 0.1, 0.1], sigma=[0.1, 0.05, 0.01]) == [(1, 1)]
    assert flagged(points, [1], cl=0.1, sigma=0.1) == []


def test_zero_sigma_flags_every_point_off_the_centre_line_only():
    assert flagged([0.0] * 15, "nelson", sigma=0.0) == []
    assert flagged([0.0, 0.0, 0.02], [1], sigma=0.0) == [(1, 2)]


def test_violations_are_ordered_and_carry_their_whole_window():
    found = run_rules.evaluate([0.0, 2.5, 2.5, 3.5], 0.0, 1.0, "nelson")
    assert [(v.point, v.rule) for v in found] == [(2, 5), (3, 1), (3, 5)]
    assert found[0] == Violation(rule=5, rule_set="nelson", point=2, points=(0, 1, 2))
    assert found[1].points == (3,)


def test_m_of_n_rules_need_a_full_window():
    # two points beyond 2 sigma at the very start are not yet "2 of 3" (as in qcc)
    assert flagged([2.5, 2.5], [5]) == []
    assert flagged([2.5, 2.5, 0.0], [5]) == []


def test_violation_name_and_json():
    v = run_rules.evaluate([0.0, 4.0], 0.0, 1.0, "we")[0]
    assert v.name().en == "1 point beyond 3 sigma" and v.name().zh == "1 点超出 3σ"
    data = json.loads(json.dumps(v.to_json()))
    assert data == {"rule": 1, "rule_set": "we", "point": 1, "points": [1],
                    "name": {"zh-CN": "1 点超出 3σ", "en": "1 point beyond 3 sigma"}}
    assert {(r.rule_set, r.number) for r in run_rules.RULES.values()} == (
        {("nelson", n) for n in range(1, 9)} | {("we", n) for n in range(1, 5)})
    assert all(r.name.zh and r.name.en for r in run_rules.RULES.values())


def test_rule_selection():
    assert [r.number for r in run_rules.select("nelson")] == list(range(1, 9))
    assert [(r.rule_set, r.number) for r in run_rules.select("Western-Electric")] == [
        ("we", 1), ("we", 2), ("we", 3), ("we", 4)]
    assert [r.number for r in run_rules.select((5, 1, 1))] == [1, 5]
    assert run_rules.evaluate([], 0.0, 1.0) == []


@pytest.mark.parametrize("call, words", [
    (lambda: run_rules.evaluate([0.0], 0.0, 1.0, "shewhart"), "Run rules"),
    (lambda: run_rules.evaluate([0.0], 0.0, 1.0, [9]), "Run rules"),
    (lambda: run_rules.evaluate([0.0], 0.0, 1.0, [True]), "Run rules"),
    (lambda: run_rules.evaluate([0.0], 0.0, 1.0, []), "Run rules"),
    (lambda: run_rules.evaluate([0.0, "a"], 0.0, 1.0), "points[1]"),
    (lambda: run_rules.evaluate([0.0, 1.0], 0.0, [1.0]), "sigma has 1 values for 2 points"),
    (lambda: run_rules.evaluate([0.0, 1.0], 0.0, -1.0), "sigma[0]"),
    (lambda: run_rules.evaluate([0.0, 1.0], [0.0, None], 1.0), "cl[1]"),
    (lambda: run_rules.evaluate("0.0", 0.0, 1.0), "points"),
])
def test_bad_input_is_a_bilingual_error(call, words):
    with pytest.raises(QualityInputError) as err:
        call()
    assert words in err.value.message.en and err.value.message.zh
