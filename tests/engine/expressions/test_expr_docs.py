"""The function catalogue and docs/expressions.md stay in sync with the registry."""
from engine.expressions import FUNCTIONS, function_catalog
from engine.expressions.doc import DOC, render

REQUIRED = """IF IFS SWITCH AND OR NOT ISBLANK COALESCE ROUND ROUNDUP ROUNDDOWN ABS SQRT POWER MOD INT MIN MAX
SUM AVERAGE COUNT COUNTA COUNTIF SUMIF STDEV LEN CONCAT LEFT RIGHT MID UPPER LOWER TRIM CONTAINS TEXT
VALUE REPT TODAY NOW DATE YEAR MONTH DAY WEEKDAY DATEDIF DATEADD CURRENT_USER""".split()


def test_required_functions_are_registered():
    missing = [name for name in REQUIRED if name not in FUNCTIONS]
    assert not missing


def test_catalog_rows_in_both_languages():
    zh, en = function_catalog("zh-CN"), function_catalog("en")
    assert [r["name"] for r in zh] == [r["name"] for r in en] == sorted(FUNCTIONS.keys())
    for row in en:
        assert set(row) >= {"name", "signature", "category", "doc", "example"}
        assert row["signature"].startswith(row["name"] + "(")
    assert next(r for r in zh if r["name"] == "ROUND")["doc"].startswith("四舍五入")


def test_every_function_is_documented_and_the_doc_is_generated_from_the_registry():
    text = DOC.read_text(encoding="utf-8")
    for name in FUNCTIONS.keys():
        assert f"| `{name}` |" in text, f"{name} missing from docs/expressions.md"
    assert render(text) == text, "run `python -m engine.expressions.doc` to refresh docs/expressions.md"
