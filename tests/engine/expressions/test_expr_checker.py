"""Type checking against a Scope: every error with its position, in both languages."""
import pytest

from engine.errors import ExpressionError
from engine.expressions import check, compile_expression
from engine.expressions.types import ANY, BOOLEAN, DATE, NUMBER, TEXT, Kind, Scope, list_of

from tests.engine.expressions.support import ROW_SCOPE, SCOPE


@pytest.mark.parametrize("source, type_", [
    ("lot_size * 2", NUMBER), ('IF(passed, "OK", "NG")', TEXT), ("inspect_date + 7", DATE),
    ("due_date - inspect_date", NUMBER), ("SUM(items.qty)", NUMBER), ("items.qty", list_of(NUMBER)),
    ("items.readings.value", list_of(NUMBER)), ("lot_size > 5 AND passed", BOOLEAN),
    ('supplier & "-" & lot_size', TEXT), ('IF(passed, 1, "x")', ANY), ("IF(passed, 1)", NUMBER),
    ("CURRENT_USER() = inspector", BOOLEAN), ("COUNTA(items)", NUMBER), ("created_at > TODAY()", BOOLEAN),
])
def test_types_flow(source, type_):
    result = check(source, SCOPE)
    assert result.ok, result.errors
    assert result.type == type_


@pytest.mark.parametrize("source, column, zh, en", [
    ("lot_sise > 1", 1, "未知字段 'lot_sise'，是否想写 'lot_size'？", "Unknown field 'lot_sise'. Did you mean 'lot_size'?"),
    ("Supplier", 1, "是否想写 'supplier'", "Did you mean 'supplier'"),
    ("SUMM(items.qty)", 1, "未知函数 'SUMM'，是否想写 'SUM'？", "Unknown function 'SUMM'. Did you mean 'SUM'?"),
    ("TODAY + 1", 1, "请写成 TODAY()", "write TODAY()"),
    ("ROUND(1, 2, 3)", 1, "需要 1 到 2 个参数，实际给了 3 个", "takes 1 to 2 arguments, got 3"),
    ("TODAY(1)", 1, "需要 0 个参数", "takes 0 argument(s), got 1"),
    ("SUM()", 1, "至少需要 1 个参数", "at least 1 argument"),
    ("ROUND(supplier, 2)", 7, "第 1 个参数（number）应为数值，实际为文本", "argument 1 (number) must be number, got text"),
    ("inspect_date = supplier", 14, "不能比较日期和文本", "Cannot compare date with text"),
    ("lot_size.qty", 1, "'lot_size' 不是子表", "'lot_size' is not a sub-table"),
    ("items.qtty", 1, "子表 'items' 中没有列 'qtty'，是否想写 'qty'？", "Sub-table 'items' has no column 'qtty'"),
    ("supplier + 1", 10, "不能对文本做算术运算", "Cannot do arithmetic '+' on text"),
    ("-supplier", 1, "不能对文本做算术运算", "Cannot do arithmetic '-' on text"),
    ("items.qty * 2", 11, "一列值", "list of values"),
    ("items > 1", 7, "不能比较子表和数值", "Cannot compare sub-table with number"),
    ("IF(supplier, 1, 2)", 4, "应为逻辑值", "must be true/false"),
    ("supplier AND passed", 1, "AND 的条件应为逻辑值（是/否），实际为文本", "AND needs a true/false condition, got text"),
    ("IFS(passed, 1, 2)", 1, "成对", "pairs"),
    ("inspect_date * 2", 14, "不能用于日期和数值", "cannot be used with date and number"),
    ("inspect_date + created_at", 14, "不能用于", "cannot be used"),
    ("DATEADD(supplier, 1)", 1, "DATEADD 的第 1 个参数应为日期", "DATEADD: argument 1 must be a date"),
])
def test_errors_name_position_and_problem_in_both_languages(source, column, zh, en):
    result = check(source, SCOPE)
    assert result.type is None and result.errors
    error = result.errors[0]
    assert isinstance(error, ExpressionError)
    assert (error.line, error.column) == (1, column)
    assert zh in error.message.zh, error.message.zh
    assert en in error.message.en, error.message.en


def test_check_returns_every_error_sorted_by_position():
    result = check('nope + 1 > 0 AND SUMM(1)\n OR ROUND("x") = supplier * 2', SCOPE)
    positions = [(e.line, e.column) for e in result.errors]
    assert positions == sorted(positions)
    assert len(result.errors) == 4
    messages = " | ".join(e.message.en for e in result.errors)
    assert "nope" in messages and "SUMM" in messages and "ROUND" in messages and "text" in messages


def test_check_never_raises():
    for bad in ["(((", "1 +", "\"x", None, "x" * 5000, "((" * 100]:
        result = check(bad, SCOPE)
        assert result.type is None and result.errors


def test_compile_raises_the_first_error_and_keeps_all():
    with pytest.raises(ExpressionError) as info:
        compile_expression("nope + SUMM(1)", SCOPE)
    assert info.value.column == 1 and len(info.value.errors) == 2


def test_blank_and_any_are_compatible_with_everything():
    scope = Scope.of({"x": ANY, "d": DATE})
    for source in ("x + 1", "x & 1", "x = d", "d = x", "ROUND(x)", "x.y", "IF(x, 1, 2)", "SUM(x)"):
        assert check(source, scope).ok, source


def test_row_scope_sees_columns_then_parent_fields():
    result = compile_expression("qty * lot_size", ROW_SCOPE)
    assert result.type == NUMBER
    assert result.names == frozenset({"qty", "lot_size"})
    row = {"qty": 2, "result": "OK"}
    record = {"lot_size": 10, "qty": 999}
    assert result.evaluate(row, parents=(record,)) == 20
    assert result.evaluate({**record, **row}) == 20   # a merged mapping works as well


def test_names_are_top_level_keys_for_formula_ordering():
    compiled = compile_expression("SUM(items.qty) + lot_size + IF(passed, defect_qty, 0)", SCOPE)
    assert compiled.names == frozenset({"items", "lot_size", "passed", "defect_qty"})


def test_rows_member_and_list_kinds():
    assert check("items", SCOPE).type.kind is Kind.ROWS
    assert check("items.readings", SCOPE).type.kind is Kind.ROWS
