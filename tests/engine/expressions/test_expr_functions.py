"""Every built-in function: normal values, blanks, and bad inputs."""
from datetime import date, datetime, timezone

import pytest

from engine.errors import EvaluationError, ExpressionLimitError
from engine.expressions import FUNCTIONS, compile_expression, evaluate
from engine.expressions.limits import MAX_TEXT_LENGTH

from tests.engine.expressions.support import CTX, SCOPE, data


def run(source, **overrides):
    return compile_expression(source, SCOPE).evaluate(data(**overrides), CTX)


@pytest.mark.parametrize("source, expected", [
    # logic
    ('IF(lot_size > 500, "big", "small")', "big"), ("IF(FALSE, 1)", None), ("IF(ISBLANK(remark), 1, 2)", 1),
    ('IFS(defect_qty = 0, "A", defect_qty <= 2, "B", TRUE, "C")', "B"), ("IFS(FALSE, 1)", None),
    ('SWITCH(supplier, "SUP-01", 1, "SUP-02", 2, 0)', 1), ('SWITCH(supplier, "x", 1)', None),
    ('SWITCH(supplier, "sup-01", 1, 0)', 1),
    ("AND(passed, lot_size > 1, TRUE)", True), ("AND(passed, ISBLANK(supplier))", False), ("OR(defect_qty = 0, 0, FALSE)", False),
    ("NOT(passed)", False), ("ISBLANK(remark)", True), ('ISBLANK("")', True), ("ISBLANK(0)", False),
    ("ISBLANK(items)", False), ('COALESCE(remark, "", supplier)', "SUP-01"), ("COALESCE(remark)", None),
    # math
    ("ROUND(2.675, 2)", 2.68), ("ROUND(-2.5, 0)", -3), ("ROUND(2.5, 0)", 3), ("ROUND(1234.5, -2)", 1200),
    ("ROUNDUP(1.201, 2)", 1.21), ("ROUNDUP(-1.201, 1)", -1.3),
    ("ROUNDDOWN(1.299, 1)", 1.2), ("ROUNDDOWN(-1.299, 1)", -1.2), ("ABS(-3)", 3),
    ("SQRT(16)", 4.0), ("POWER(2, 10)", 1024), ("MOD(10, 3)", 1), ("MOD(-3, 2)", 1), ("MOD(3, -2)", -1),
    ("INT(-2.5)", -3), ("INT(2.9)", 2),
    # aggregates (blanks skipped)
    ("SUM(items.qty)", 5), ("SUM(items.qty, lot_size, 1)", 806), 
    ("AVERAGE(items.qty)", 2.5), ("MIN(items.qty)", 2), ("MAX(items.qty, 7)", 7),
    ("COUNT(items.qty)", 2), ("COUNTA(items.qty)", 2), ("COUNTA(items)", 3), ("COUNTA(items.result)", 3),
    ("COUNT(items.result)", 0), ("STDEV(1, 2, 3, 4)", pytest.approx(1.2909944)),
    ('COUNTIF(items.result, "NG")', 1), ('COUNTIF(items.result, "=ok")', 2), ('COUNTIF(items.result, "<>OK")', 1),
    ('COUNTIF(items.qty, ">2")', 1), ('COUNTIF(items.qty, ">=2")', 2), ("COUNTIF(items.qty, 3)", 1),
    ('COUNTIF(items.qty, "")', 1), ('COUNTIF(items.qty, "<>")', 2), ('COUNTIF(items.result, "N*")', 1),
    ('COUNTIF(items.result, "?K")', 2), ('COUNTIF(items.qty, "<>3")', 2),
    ('SUMIF(items.result, "OK", items.qty)', 5), ('SUMIF(items.qty, ">2")', 3),
    ("SUM(items.readings.value)", 6), ("COUNTA(items.readings)", 3),
    # text
    ("LEN(supplier)", 6), ('LEN("检验批")', 3), ("LEN(remark)", 0), ('CONCAT(supplier, "/", lot_size)', "SUP-01/800"),
    ("CONCAT(items.result)", "OKngOK"), ('TEXTJOIN("-", TRUE, items.result, remark)', "OK-ng-OK"),
    ('TEXTJOIN("/", FALSE, supplier, remark, lot_size)', "SUP-01//800"), ("LEFT(supplier, 3)", "SUP"), ("LEFT(supplier)", "S"),
    ("RIGHT(supplier, 2)", "01"), ("RIGHT(supplier, 0)", ""), ("MID(supplier, 2, 3)", "UP-"),
    ('UPPER("ng")', "NG"), ('LOWER("OK")', "ok"), ('TRIM("  a   b ")', "a b"),
    ('CONTAINS(supplier, "sup")', True), ('CONTAINS(remark, "x")', False),
    ('TEXT(1234.567, "#,##0.00")', "1,234.57"), ('TEXT(0.125, "0.0%")', "12.5%"), ('TEXT(2.5, "0")', "3"),
    ('TEXT(inspect_date, "yyyy年m月d日")', "2024年6月12日"), ('TEXT(inspect_date, "yyyy-mm-dd")', "2024-06-12"),
    ('TEXT(created_at, "yyyy/mm/dd hh:mm")', "2024/06/10 08:00"), ("TEXT(1.5)", "1.5"), ("TEXT(remark)", ""),
    ('VALUE("1,250")', 1250), ('VALUE("12.5%")', 0.125), ('VALUE(" 3 ")', 3), ('VALUE("")', None),
    ('REPT("*", 3)', "***"), ('REPT("ab", 0)', ""),
    ('1.0 & ""', "1"), ('0.1 + 0.2 & ""', "0.3"), ('TRUE & ""', "TRUE"),
    # dates
    ("DATE(2024, 2, 30)", date(2024, 3, 1)), ("DATE(2024, 13, 1)", date(2025, 1, 1)),
    ("YEAR(inspect_date)", 2024), ("MONTH(inspect_date)", 6), ("DAY(inspect_date)", 12),
    ("WEEKDAY(DATE(2024, 6, 16))", 1), ("WEEKDAY(DATE(2024, 6, 16), 2)", 7), ("WEEKDAY(DATE(2024, 6, 17), 3)", 0),
    ('DATEDIF(DATE(2023, 1, 31), DATE(2024, 3, 1), "y")', 1), ('DATEDIF(DATE(2023, 1, 31), DATE(2024, 3, 1), "m")', 13),
    ('DATEDIF(DATE(2024, 1, 1), DATE(2024, 3, 1), "d")', 60), ('DATEDIF(DATE(2023, 1, 31), DATE(2024, 3, 1), "ym")', 1),
    ('DATEDIF(DATE(2023, 1, 31), DATE(2024, 3, 1), "md")', 1), 
    ('DATEADD(DATE(2024, 1, 31), 1, "m")', date(2024, 2, 29)), ("DATEADD(DATE(2024, 1, 1), 10)", date(2024, 1, 11)),
    ('DATEADD(DATE(2024, 2, 29), 1, "y")', date(2025, 2, 28)), ('DATEADD(DATE(2024, 1, 1), 2, "w")', date(2024, 1, 15)),
    ('DATEADD(created_at, 2, "h")', datetime(2024, 6, 10, 10, 0, tzinfo=timezone.utc)),
    ("TODAY()", date(2024, 6, 15)), ("NOW()", datetime(2024, 6, 15, 1, 30, tzinfo=timezone.utc)),
    ('DATEDIF(created_at, TODAY(), "d")', 5), ("CURRENT_USER()", 42), ("CURRENT_USER() = inspector", True),
])
def test_function_results(source, expected):
    assert run(source) == expected


@pytest.mark.parametrize("source, expected", [
    ("ROUND(defect_qty, 1)", 0), ("ABS(defect_qty)", 0), ("SUM(defect_qty)", 0), ("MIN(defect_qty)", 0),
    ("COUNTA(defect_qty, remark)", 0), ("YEAR(inspect_date)", None), ('DATEDIF(inspect_date, TODAY(), "d")', None),
    ("defect_qty + 1", 1), ("defect_qty * 5", 0), ('remark & "x"', "x"), ('remark = ""', True),
    ("defect_qty = 0", True), ("defect_qty < 1", True), ("remark = supplier", False), ("passed = FALSE", True),
    ("inspect_date < due_date", True), ("inspect_date = due_date", False), ("inspect_date + 1", None),
    ("LEN(remark)", 0), ("ISBLANK(inspect_date)", True),
])
def test_blank_rules(source, expected):
    assert run(source, defect_qty=None, inspect_date=None, passed=None) == expected


def test_average_of_nothing_is_div0():
    with pytest.raises(EvaluationError, match="DIV/0"):
        run("AVERAGE(defect_qty)", defect_qty=None)


@pytest.mark.parametrize("source, fragment", [
    ("SQRT(-1)", "#NUM!"), ("MOD(1, 0)", "#DIV/0!"), ("AVERAGE(items.readings.value, 1) / 0", "#DIV/0!"), ("STDEV(1)", "#DIV/0!"),
    ('VALUE("abc")', "#VALUE!"), ('LEFT("abc", -1)', "#VALUE!"), ('MID("abc", 0, 1)', "#VALUE!"),
    ('DATEDIF(DATE(2024, 2, 1), DATE(2024, 1, 1), "d")', "#NUM!"), ('DATEDIF(TODAY(), TODAY(), "q")', "#NUM!"),
    ("WEEKDAY(TODAY(), 9)", "#NUM!"), ('DATEADD(TODAY(), 1, "h")', "DATEADD"), ("DATE(99999, 1, 1)", "#NUM!"),
    ('TEXT(1, "abc")', "TEXT"), ("ROUND(1, 99)", "digits"), ('REPT("x", -1)', "#VALUE!"),
])
def test_bad_values_raise_evaluation_errors(source, fragment):
    with pytest.raises(EvaluationError) as info:
        run(source)
    assert fragment in info.value.message.en and info.value.message.zh


def test_text_in_a_numeric_column_is_named():
    with pytest.raises(EvaluationError) as info:
        evaluate("SUM(items.qty)", {"items": [{"qty": 1}, {"qty": "x"}]})
    assert "SUM" in info.value.message.en and "SUM" in info.value.message.zh


def test_blank_conditions_are_false():
    assert run("IF(defect_qty, 1, 2)", defect_qty=None) == 2
    assert run("AND(passed, defect_qty)", defect_qty=None) is False
    assert run("OR(defect_qty, passed)", defect_qty=None, passed=None) is False
    assert run("NOT passed", passed=None) is True


def test_if_is_lazy_and_and_or_short_circuit():
    assert run("IF(TRUE, 1, 1 / 0)") == 1
    assert run("IF(FALSE, SQRT(-1), 2)") == 2
    assert run('IFS(TRUE, 1, 1 / 0 > 1, 2)') == 1
    assert run('SWITCH(1, 1, "a", 2, 1 / 0)') == "a"
    assert run("AND(FALSE, 1 / 0 > 1)") is False
    assert run("OR(TRUE, 1 / 0 > 1)") is True
    assert run("FALSE AND 1 / 0 > 1") is False


def test_rept_limit_is_checked_before_building():
    with pytest.raises(ExpressionLimitError) as info:
        evaluate('REPT("x", 1e9)')
    assert str(MAX_TEXT_LENGTH) in info.value.message.en


def test_every_function_has_bilingual_doc_and_a_checkable_example():
    for name, spec in FUNCTIONS.items():
        assert spec.doc.zh and spec.doc.en and spec.doc.zh != spec.doc.en, name
        assert spec.example.upper().startswith(name) or name in spec.example.upper(), name
        assert spec.category, name
