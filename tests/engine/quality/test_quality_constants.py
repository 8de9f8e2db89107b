"""SPC constants: the exact reference values for n = 2..25, clear errors outside."""
from __future__ import annotations

import math

import pytest

from engine.quality import QualityInputError, constants


def test_every_constant_equals_the_reference_exact_value(reference):
    rows = reference("spc_constants.json")["rows"]
    assert [r["n"] for r in rows] == list(range(2, 26))
    for row in rows:
        for name in constants.NAMES:
            assert getattr(constants, name)(row["n"]) == row["exact"][name], (name, row["n"])
            assert constants.value(name, row["n"]) == row["exact"][name]


def test_published_tables_agree_within_tolerance(reference):
    for row in reference("spc_constants.json")["rows"]:
        for name, published in row["published"].items():
            tolerance = 0.0001 if name == "c4" else 0.001
            assert abs(constants.value(name, row["n"]) - published) <= tolerance + 1e-12


def test_known_values():
    assert constants.d2(2) == 1.128379          # 2/sqrt(pi)
    assert abs(constants.d2(2) - 2 / math.sqrt(math.pi)) < 1e-6
    assert abs(constants.d3(2) - math.sqrt(2 - 4 / math.pi)) < 2e-6
    assert constants.D4(3) == 2.574591          # exact, not the published 2.574
    assert constants.D3(6) == 0.0 and constants.B3(5) == 0.0
    assert abs(constants.E2(2) - 3 / constants.d2(2)) < 1e-6
    for n in range(2, 26):   # c4 closed form
        c4 = math.sqrt(2 / (n - 1)) * math.exp(math.lgamma(n / 2) - math.lgamma((n - 1) / 2))
        assert abs(constants.c4(n) - c4) < 1e-6


def test_integral_float_subgroup_size_is_accepted():
    assert constants.d2(5.0) == constants.d2(5)


@pytest.mark.parametrize("bad", [1, 0, 26, -3, 2.5, "5", None, True, float("nan"), float("inf")])
def test_outside_table_is_a_clear_error(bad):
    with pytest.raises(QualityInputError) as err:
        constants.d2(bad)
    text = err.value.message
    assert "n" in text.en and ("2" in text.en and "25" in text.en or "whole number" in text.en)
    assert text.zh != text.en


def test_out_of_range_message_names_the_range():
    with pytest.raises(QualityInputError) as err:
        constants.c4(30)
    assert "2 to 25" in err.value.message.en and "2 至 25" in err.value.message.zh


def test_unknown_constant_name():
    with pytest.raises(QualityInputError) as err:
        constants.value("A4", 5)
    assert "d2" in err.value.message.en
