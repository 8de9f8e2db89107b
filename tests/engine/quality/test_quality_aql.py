"""AQL sampling: code letters, resolved plans, full inspection, judging, input handling."""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from engine.quality import QualityInputError, aql
from engine.quality.aql import Decision, Severity

SEVERITIES = ("normal", "tightened", "reduced")


# --- code letters (Table 1) ---------------------------------------------------------------

def test_all_105_code_letter_cells_match_reference(reference):
    table = reference("aql_code_letters.json")
    checked = 0
    for row in table["rows"]:
        probes = {row["lot_min"], (row["lot_min"] + (row["lot_max"] or 10**7)) // 2,
                  row["lot_max"] or 10**9}
        for level in table["levels"]:
            want = row["letters"][level]
            for lot in probes:
                assert aql.code_letter(lot, level) == want, (lot, level)
            checked += 1
    assert checked == 105


@pytest.mark.parametrize("lot, level, letter", [
    (1000, "II", "J"), (2, "II", "A"), (8, "III", "B"), (9, "III", "C"), (500, "II", "H"),
    (501, "II", "J"), (500_000, "S-4", "J"), (500_001, "S-3", "H"), (10**12, "III", "R"),
    (3200, "I", "H"), (3201, "I", "J"),
])
def test_code_letter_spot_values(lot, level, letter):
    assert aql.code_letter(lot, level) == letter


def test_code_letter_default_level_is_ii():
    assert aql.code_letter(1000) == "J"


# --- resolved plans -----------------------------------------------------------------------

def _lot_for_letter() -> dict[str, tuple[int, str]]:
    """A (lot size, level) that yields each code letter A..R with the largest lot possible."""
    found: dict[str, tuple[int, str]] = {}
    for row in aql._code_rows():
        low, high, letters = row
        for level, letter in letters.items():
            lot = high or 10**7
            if letter not in found or lot > found[letter][0]:
                found[letter] = (lot, level)
    return found


@pytest.mark.parametrize("severity", SEVERITIES)
def test_every_resolved_cell_matches_reference(reference, severity):
    table = reference(f"aql_single_{severity}.json")
    lots = _lot_for_letter()
    cells = 0
    for letter, row in table["resolved"].items():
        lot, level = lots[letter]
        for column, cell in row.items():
            direct = aql.table_plan(letter, column, severity)
            assert (direct.letter, direct.table_n, direct.ac, direct.re) == \
                (cell["letter"], cell["n"], cell["ac"], cell["re"]), (letter, column)
            assert direct.verified is cell.get("verified", True)
            got = aql.plan(lot, level, column, severity)
            assert got.code_letter == letter
            assert (got.letter, got.table_n, got.ac, got.re) == \
                (cell["letter"], cell["n"], cell["ac"], cell["re"])
            assert got.full_inspection is (cell["n"] >= lot)
            assert got.n == (lot if cell["n"] >= lot else cell["n"])
            cells += 1
    assert cells == 16 * 26


@pytest.mark.parametrize("severity", SEVERITIES)
def test_sample_size_of_found_row_is_used(reference, severity):
    """Following an arrow takes the n of the row where the plan is, not the original row."""
    table = reference(f"aql_single_{severity}.json")
    sizes = table["sample_size"]
    for letter, row in table["resolved"].items():
        for column, cell in row.items():
            assert aql.table_plan(letter, column, severity).table_n == sizes[cell["letter"]]


def test_shipped_tables_give_known_spot_values():
    p = aql.plan(1000, "II", "1.0")
    assert (p.code_letter, p.letter, p.n, p.ac, p.re, p.full_inspection) == \
        ("J", "J", 80, 2, 3, False)
    tightened = aql.plan(1000, "II", "1.0", "tightened")
    assert (tightened.n, tightened.ac, tightened.re) == (80, 1, 2)
    r = aql.plan(1000, "II", "1.0", "reduced")
    assert (r.n, r.ac, r.re) == (32, 1, 3)
    # down arrow: L/0.15 normal goes to M (n=315) Ac1 Re2 (a public calculator gets this wrong)
    assert aql.table_plan("L", "0.15") == aql.table_plan("L", 0.15)
    l015 = aql.table_plan("L", "0.15")
    assert (l015.letter, l015.n, l015.ac, l015.re) == ("M", 315, 1, 2)
    # tightened Q/0.025 resolves down to the extra row S (n=3150)
    q = aql.table_plan("Q", "0.025", "tightened")
    assert (q.letter, q.n, q.ac, q.re) == ("S", 3150, 1, 2)
    # up arrow: normal E/1.5 goes up to D (n=8) Ac0 Re1
    e = aql.table_plan("E", "1.5")
    assert (e.letter, e.n, e.ac, e.re) == ("D", 8, 0, 1)


def test_disputed_cells_are_marked_unverified():
    assert aql.table_plan("A", "10").verified is False
    assert aql.table_plan("A", "10", "reduced").verified is False
    assert aql.table_plan("C", "1000", "reduced").verified is False
    assert aql.table_plan("J", "1.0", "reduced").verified is True


def test_full_inspection_when_sample_reaches_lot_size():
    p = aql.plan(10, "II", "0.65")          # B → arrow down to F, n=20 >= 10
    assert p.full_inspection and p.n == 10 and p.table_n == 20 and (p.ac, p.re) == (0, 1)
    exact = aql.plan(80, "III", "6.5")      # letter F (n=20) < 80: a normal sample
    assert not exact.full_inspection and exact.n == 20
    equal = aql.plan(20, "II", "0.65")      # C → arrow down to F, n=20 == lot size
    assert (equal.letter, equal.table_n, equal.n, equal.full_inspection) == ("F", 20, 20, True)


def test_lot_of_one_is_full_inspection_of_one_unit():
    for level in aql.LEVELS:
        p = aql.plan(1, level, "2.5")
        assert p.full_inspection and p.n == 1 and p.lot_size == 1
    assert aql.code_letter(1, "II") == aql.code_letter(2, "II") == "A"


# --- judging --------------------------------------------------------------------------------

def test_judge_normal_plan():
    p = aql.plan(1000, "II", "1.0")
    assert aql.judge(p, 0) is Decision.ACCEPT
    assert aql.judge(p, 2) is Decision.ACCEPT
    assert aql.judge(p, 3) is Decision.REJECT
    assert aql.judge(p, 3.0) is Decision.REJECT
    assert aql.judge(p, 50) is Decision.REJECT


def test_judge_reduced_gap_accepts_and_returns_to_normal():
    p = aql.plan(1000, "II", "1.0", "reduced")   # Ac1 Re3
    assert aql.judge(p, 1) is Decision.ACCEPT
    gap = aql.judge(p, 2)
    assert gap is Decision.ACCEPT_RETURN_TO_NORMAL and gap.accepted
    assert aql.judge(p, 3) is Decision.REJECT and not Decision.REJECT.accepted
    assert gap.label.zh == "接收，恢复正常检验"


@pytest.mark.parametrize("bad", [-1, 1.5, "2", None, True, float("nan")])
def test_judge_rejects_bad_defect_counts(bad):
    with pytest.raises(QualityInputError) as err:
        aql.judge(aql.plan(1000, "II", "1.0"), bad)
    assert "不合格数" in err.value.message.zh and "nonconformities" in err.value.message.en


# --- input normalisation --------------------------------------------------------------------

@pytest.mark.parametrize("given, column", [
    ("1.0", "1.0"), (1, "1.0"), (1.0, "1.0"), ("1", "1.0"), ("1.00", "1.0"), (" 1.0 % ", "1.0"),
    ("0.65", "0.65"), (0.65, "0.65"), (0.1, "0.10"), ("0.01", "0.010"), (10, "10"),
    (10.0, "10"), ("1000", "1000"), (1000.0, "1000"), ("2.5", "2.5"), (0.065, "0.065"),
])
def test_aql_normalisation(given, column):
    assert aql.normalise_aql(given) == column


@pytest.mark.parametrize("bad", ["0.3", 0, -1, "abc", "", None, True, 3, float("inf"), "nan", [1]])
def test_aql_not_in_table_lists_valid_values(bad):
    with pytest.raises(QualityInputError) as err:
        aql.normalise_aql(bad)
    assert "0.65" in err.value.message.en and "1000" in err.value.message.en
    assert "AQL" in err.value.message.zh and "可用" in err.value.message.zh


@pytest.mark.parametrize("given, level", [
    ("II", "II"), ("ii", "II"), (" II ", "II"), ("2", "II"), (2, "II"), ("Ⅱ", "II"),
    (1, "I"), ("III", "III"), ("Ⅲ", "III"), ("s-1", "S-1"), ("S1", "S-1"), ("s 4", "S-4"),
    ("S-3", "S-3"),
])
def test_level_normalisation(given, level):
    assert aql.normalise_level(given) == level


@pytest.mark.parametrize("bad", ["IV", "", None, 4, 0, "S-5", "S", True, 2.5])
def test_bad_level(bad):
    with pytest.raises(QualityInputError) as err:
        aql.code_letter(100, bad)
    assert "S-1" in err.value.message.en and "检验水平" in err.value.message.zh


@pytest.mark.parametrize("bad", [0, -5, 2.5, "100", None, True, float("inf"), float("nan")])
def test_bad_lot_size(bad):
    with pytest.raises(QualityInputError) as err:
        aql.plan(bad, "II", "1.0")
    assert "批量" in err.value.message.zh and "lot size" in err.value.message.en


def test_integral_float_lot_size_is_accepted():
    assert aql.plan(1000.0, "II", "1.0").n == 80


@pytest.mark.parametrize("given, severity", [
    ("normal", Severity.NORMAL), ("Tightened", Severity.TIGHTENED), ("加严", Severity.TIGHTENED),
    ("放宽", Severity.REDUCED), (" reduced ", Severity.REDUCED), (Severity.NORMAL, Severity.NORMAL),
])
def test_severity_normalisation(given, severity):
    assert aql.normalise_severity(given) is severity


@pytest.mark.parametrize("bad", ["strict", "", None, 1])
def test_bad_severity(bad):
    with pytest.raises(QualityInputError) as err:
        aql.plan(100, "II", "1.0", bad)
    assert "tightened" in err.value.message.en and "加严" in err.value.message.zh


@pytest.mark.parametrize("bad", ["I", "S", "", None, 3])
def test_bad_table_letter(bad):
    with pytest.raises(QualityInputError):
        aql.table_plan(bad, "1.0")


# --- invariants -----------------------------------------------------------------------------

@settings(max_examples=300, deadline=None)
@given(lot=st.integers(min_value=1, max_value=10**8), level=st.sampled_from(aql.LEVELS),
       column=st.sampled_from(aql.aql_values()), severity=st.sampled_from(SEVERITIES))
def test_plan_invariants(lot, level, column, severity):
    p = aql.plan(lot, level, column, severity)
    assert 0 <= p.ac < p.re
    assert 1 <= p.n <= lot
    assert p.full_inspection is (p.table_n >= lot)
    assert aql.judge(p, p.ac).accepted and not aql.judge(p, p.re).accepted
    if severity != "reduced":
        assert p.re == p.ac + 1   # no gap outside the Z1.4 reduced table


@settings(max_examples=200, deadline=None)
@given(lot=st.integers(min_value=1, max_value=10**7), level=st.sampled_from(aql.LEVELS))
def test_code_letter_never_decreases_with_lot_size(lot, level):
    order = "ABCDEFGHJKLMNPQR"
    assert order.index(aql.code_letter(lot, level)) <= order.index(aql.code_letter(lot + 1, level))
