"""Capability and performance indices, sigma estimates and PPM against worked examples."""
from __future__ import annotations

import math
import statistics
from collections import defaultdict

import pytest
from hypothesis import assume, given, settings, strategies as st

from engine.quality import QualityInputError, capability
from engine.quality.sigma import SigmaMethod

QCC_GROUPS = [[10.00, 10.02, 9.98, 10.01], [10.03, 9.99, 10.01, 10.00], [9.97, 10.04, 10.02, 9.99]]


def _example(reference, example_id):
    examples = reference("spc_worked_examples.json")["examples"]
    return next(e for e in examples if e["id"] == example_id)


@pytest.fixture(scope="module")
def piston_rings(dataset):
    groups = defaultdict(list)
    for row in dataset("pistonrings.txt"):
        groups[int(row["sample"])].append(float(row["diameter"]))
    return [groups[k] for k in sorted(groups)]


# --- worked examples ------------------------------------------------------------------------

def test_piston_rings_with_rbar_over_d2(reference, piston_rings):
    want = _example(reference, "capability_pistonrings")["result"]
    got = capability.study(piston_rings, want["LSL"], want["USL"])
    assert (got.n, got.subgroups) == (125, 25)
    assert got.within.method is SigmaMethod.RANGE
    assert got.overall.method is SigmaMethod.OVERALL
    checks = {"mean": got.mean, "sigma_within_Rbar_d2": got.within.value,
              "sigma_overall": got.overall.value, "Cp": got.cp, "Cpk": got.cpk, "Pp": got.pp,
              "Ppk": got.ppk, "ppm_within_expected": got.ppm_within,
              "ppm_overall_expected": got.ppm_overall}
    for key, value in checks.items():
        assert value == pytest.approx(want[key], abs=1e-6), key   # reference has 6 decimals
    assert got.cp == pytest.approx(1.7032, abs=5e-5)
    assert got.ppm_observed == 0 and not got.small_sample and got.warnings == ()


def test_piston_rings_other_within_estimators(reference, piston_rings):
    s_chart = _example(reference, "xbar_s_pistonrings")["result"]
    by_s = capability.study(piston_rings, 73.95, 74.05, within="std_dev")
    assert by_s.within.method is SigmaMethod.STD_DEV
    assert by_s.within.value == pytest.approx(s_chart["sigma_within"], abs=1e-6)
    pooled = capability.cp(piston_rings, 73.95, 74.05, within="pooled")
    assert pooled.sigma.method is SigmaMethod.POOLED
    assert pooled.sigma.value == pytest.approx(0.0098629, abs=1e-7)
    assert pooled.value == pytest.approx(1.6898, abs=1e-4)
    assert capability.cpk(piston_rings, 73.95, 74.05, within="pooled").value == \
        pytest.approx(1.6501, abs=1e-4)
    # Pp/Ppk do not depend on the within estimator
    assert by_s.pp == capability.study(piston_rings, 73.95, 74.05).pp


def test_piston_rings_xbar_r_sigma(reference, piston_rings):
    want = _example(reference, "xbar_r_pistonrings")["result"]
    got = capability.study(piston_rings, 73.95, 74.05)
    assert got.mean == pytest.approx(want["CL"], abs=1e-6)
    assert got.within.value == pytest.approx(want["sigma_within"], abs=1e-6)


def test_qcc_unit_example_with_exact_d2(reference):
    want = _example(reference, "capability_qcc_unit_test")
    exact = want["result_exact_d2"]
    got = capability.study(QCC_GROUPS, 9.9, 10.1, target=10.0)
    for key, attr in {"mean": "mean", "Cp": "cp", "Cpl": "cpl", "Cpu": "cpu", "Cpk": "cpk",
                      "Pp": "pp", "Ppl": "ppl", "Ppu": "ppu", "Ppk": "ppk"}.items():
        assert getattr(got, attr) == pytest.approx(exact[key], abs=1e-6), key
    assert got.within.value == pytest.approx(exact["sigma_within"], abs=1e-6)
    assert got.overall.value == pytest.approx(exact["sigma_overall"], abs=1e-6)
    # qcc rounds d2(4) to 2.059: its Cpm differs from ours only by that rounding (~2e-4)
    assert got.cpm == pytest.approx(want["qcc_expected"]["Cpm"], rel=2e-4)
    sd = 0.05 / 2.059
    assert (0.2 / (6 * math.sqrt(sd ** 2 + 0.005 ** 2))) == pytest.approx(
        want["qcc_expected"]["Cpm"], abs=1e-6)


def test_qcc_unit_example_without_reference_folder():
    """The same numbers, inlined, so the test still protects something on a bare clone."""
    got = capability.study(QCC_GROUPS, 9.9, 10.1)
    assert got.cp == pytest.approx(1.3725, abs=1e-6)
    assert got.cpk == pytest.approx(1.303875, abs=1e-6)
    assert got.ppk == pytest.approx(1.531968, abs=1e-6)
    assert got.target == 10.0 and got.small_sample


def test_viscosity_individuals_moving_range(reference, dataset):
    want = _example(reference, "imr_viscosity")["result"]
    values = [float(r["viscosity"]) for r in dataset("viscosity.txt")]
    got = capability.study(values, 32, 36)
    assert got.within.method is SigmaMethod.MOVING_RANGE
    assert got.within.value == pytest.approx(want["sigma"], abs=1e-6)
    assert got.mean == pytest.approx(want["CL"], abs=1e-6)
    assert got.subgroups == 0 and got.small_sample and got.n == 20


# --- formulas on small hand-checked data ---------------------------------------------------

def test_individuals_formulas():
    values = [1, 2, 3, 2, 1, 2, 3]
    mr_bar = statistics.fmean([1, 1, 1, 1, 1, 1])
    sigma_w = mr_bar / 1.128379
    sigma_o = statistics.stdev(values)
    mean = statistics.fmean(values)
    got = capability.study(values, 0, 5)
    assert got.cp == pytest.approx(5 / (6 * sigma_w))
    assert got.cpk == pytest.approx(min(5 - mean, mean) / (3 * sigma_w))
    assert got.pp == pytest.approx(5 / (6 * sigma_o))
    assert got.ppk == pytest.approx(min(5 - mean, mean) / (3 * sigma_o))
    assert got.cpm == pytest.approx(5 / (6 * math.sqrt(sigma_w ** 2 + (mean - 2.5) ** 2)))


def test_single_sided_specifications():
    values = [9.8, 10.1, 10.0, 9.9, 10.2, 10.0]
    upper = capability.study(values, usl=10.5)
    assert upper.cp is None and upper.pp is None and upper.cpm is None
    assert upper.cpl is None and upper.ppl is None
    assert upper.cpk == upper.cpu is not None and upper.ppk == upper.ppu is not None
    lower = capability.study(values, lsl=9.5)
    assert lower.cpu is None and lower.cpk == lower.cpl is not None
    assert capability.cp(values, None, 10.5).value is None
    assert capability.cpk(values, 9.5, None).value == lower.cpl


def test_zero_spread_gives_undefined_indices_and_a_warning():
    got = capability.study([5.0] * 10, 4, 6)
    assert got.cp is None and got.cpk is None and got.pp is None and got.cpm is None
    assert got.ppm_within is None and got.ppm_observed == 0
    assert any("sigma is 0" in w.en for w in got.warnings)


def test_small_sample_flag():
    values = [10 + (i % 7) * 0.01 for i in range(30)]
    assert not capability.study(values, 9, 11).small_sample
    few = capability.study(values[:29], 9, 11)
    assert few.small_sample and "fewer than 30" in few.warnings[0].en
    assert capability.cpk(values[:29], 9, 11).small_sample


def test_index_results_record_the_sigma_used():
    values = [1, 2, 3, 2, 1, 2, 3]
    assert capability.cp(values, 0, 5).sigma.method is SigmaMethod.MOVING_RANGE
    assert capability.ppk(values, 0, 5).sigma.method is SigmaMethod.OVERALL
    assert capability.cpm(values, 0, 5, target=2).name == "Cpm"
    r = capability.cpk(QCC_GROUPS, 9.9, 10.1, within="std_dev")
    assert r.name == "Cpk" and r.sigma.method is SigmaMethod.STD_DEV
    assert SigmaMethod.RANGE.label.zh.startswith("组内标准差")


def test_unequal_subgroups_average_each_ratio():
    groups = [[1.0, 2.0], [1.0, 2.0, 4.0]]
    got = capability.study(groups, 0, 5)
    from engine.quality import constants
    assert got.within.value == pytest.approx((1 / constants.d2(2) + 3 / constants.d2(3)) / 2)


def test_pooled_allows_single_value_subgroups():
    got = capability.study([[1.0, 2.0, 3.0], [2.0]], 0, 5, within="pooled")
    assert got.within.value == pytest.approx(1.0)


# --- PPM -------------------------------------------------------------------------------------

def test_expected_ppm_normal_model():
    # Cpk 1.33 centred ~ 63 PPM (two tails at 4 sigma)
    assert capability.expected_ppm(0, 1, -4, 4) == pytest.approx(63.342484, abs=1e-5)
    assert capability.expected_ppm(0, 1, None, 3) == pytest.approx(1349.898, abs=1e-3)
    nd = statistics.NormalDist(10, 2)
    assert capability.expected_ppm(10, 2, 7, 12) == pytest.approx(
        1e6 * (nd.cdf(7) + 1 - nd.cdf(12)), rel=1e-9)
    assert capability.expected_ppm(0, 1, -40, 40) == 0.0
    assert capability.expected_ppm(0, 0, -1, 1) is None


def test_observed_ppm_counts_strictly_outside():
    values = [1, 2, 3, 4, 5]
    assert capability.ppm_observed(values, 2, 4) == pytest.approx(400_000)
    assert capability.ppm_observed(values, 1, 5) == 0           # on a limit is in spec
    assert capability.ppm_observed(values, usl=4.5) == pytest.approx(200_000)


@pytest.mark.parametrize("defects, total, want", [(3, 1000, 3000), (0, 5, 0), (1, 1_000_000, 1),
                                                  (2.5, 10, 250_000)])
def test_ppm(defects, total, want):
    assert capability.ppm(defects, total) == pytest.approx(want)


@pytest.mark.parametrize("defects, total", [(1, 0), (1, -10), (-1, 10), ("3", 10), (3, None),
                                            (None, 10), (True, 10), (float("nan"), 10)])
def test_ppm_bad_input(defects, total):
    with pytest.raises(QualityInputError) as err:
        capability.ppm(defects, total)
    assert err.value.message.zh and err.value.message.en


# --- bad input --------------------------------------------------------------------------------

@pytest.mark.parametrize("data, lsl, usl, fragment", [
    ([1, 2, 3], 5, 5, "below the upper"),
    ([1, 2, 3], 6, 5, "below the upper"),
    ([1, 2, 3], None, None, "at least one specification limit"),
    ([1, 2, 3], "a", 5, "lower specification limit"),
    ([1, 2, 3], 0, float("inf"), "upper specification limit"),
    ([], 0, 5, "non-empty"),
    ("123", 0, 5, "non-empty"),
    (None, 0, 5, "non-empty"),
    ([1, "x", 3], 0, 5, "Value 2"),
    ([1, None, 3], 0, 5, "Value 2"),
    ([1, True, 3], 0, 5, "Value 2"),
    ([1, float("nan"), 3], 0, 5, "Value 2"),
    ([[1, 2], [3, "x"]], 0, 5, "Value 2 of subgroup 2"),
    ([[1, 2], 3], 0, 5, "Value 1"),
    ([1], 0, 5, "At least 2 values"),
    ([[1, 2], [3]], 0, 5, "Subgroup 2 has 1 value"),
    ([[float(i) for i in range(26)]], 0, 50, "Subgroup 1 has 26 value"),
])
def test_bad_input_is_a_clear_bilingual_error(data, lsl, usl, fragment):
    with pytest.raises(QualityInputError) as err:
        capability.study(data, lsl, usl)
    assert fragment in err.value.message.en
    assert err.value.message.zh != err.value.message.en


@pytest.mark.parametrize("data, method", [([1, 2, 3], "range"), ([[1, 2], [2, 3]], "moving_range"),
                                          ([1, 2, 3], "bogus"), ([[1, 2]], "overall")])
def test_within_method_must_fit_the_data(data, method):
    with pytest.raises(QualityInputError) as err:
        capability.study(data, 0, 5, within=method)
    assert "Within-sigma method" in err.value.message.en


def test_unknown_index_name():
    result = capability.study([1, 2, 3], 0, 5)
    with pytest.raises(QualityInputError):
        result.index("Cpx")


# --- properties --------------------------------------------------------------------------------

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=200, deadline=None)
@given(values=st.lists(finite, min_size=2, max_size=60), lsl=finite, width=st.floats(0.001, 1e6))
def test_cpk_never_exceeds_cp(values, lsl, width):
    assume(max(values) - min(values) > 1e-6)
    got = capability.study(values, lsl, lsl + width)
    assert got.cpk <= got.cp + 1e-9 * abs(got.cp)
    assert got.ppk <= got.pp + 1e-9 * abs(got.pp)
    assert got.ppm_within is not None and 0 <= got.ppm_within <= 1e6
    assert 0 <= got.ppm_observed <= 1e6


@settings(max_examples=100, deadline=None)
@given(values=st.lists(st.floats(-1000, 1000), min_size=3, max_size=40), shift=st.floats(-1e3, 1e3))
def test_indices_are_shift_invariant(values, shift):
    assume(max(values) - min(values) > 1e-3)
    a = capability.study(values, -2000, 2000)
    b = capability.study([v + shift for v in values], -2000 + shift, 2000 + shift)
    assert b.cp == pytest.approx(a.cp, rel=1e-6)
    assert b.pp == pytest.approx(a.pp, rel=1e-6)
