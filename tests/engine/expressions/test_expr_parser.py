"""Parsing: literals, names, operators and precedence, friendly syntax errors."""
import pytest

from engine.errors import ExpressionError, ExpressionLimitError
from engine.expressions import evaluate, parse
from engine.expressions.ast import Binary, Call, Literal, Name, Path, Unary


@pytest.mark.parametrize("source, value", [
    ("1 + 2 * 3", 7), ("(1 + 2) * 3", 9), ("2 ^ 3 ^ 2", 64),          # ^ is left-associative (Excel)
    ("-2 ^ 2", 4), ("2 ^ -1", 0.5), ("10 - 4 - 3", 3), ("12 / 3 / 2", 2),
    ("50%", 0.5), ("-50% * 2", -1), ("2 * 10%", 0.2),
    ('1 + 2 & "x"', "3x"), ('"a" & 1 = "a1"', True),                  # & below +, above =
    ("1 < 2 = TRUE", True), ("NOT 1 = 2", True), ("NOT FALSE AND FALSE", False),
    ("TRUE OR FALSE AND FALSE", True), ("FALSE && TRUE || TRUE", True), ("!TRUE", False),
    ("1 == 1", True), ("1 <> 1", False), ("1 != 2", True), ("3 >= 3", True), ("3 <= 2", False),
    ("1e3", 1000.0), (".5 + 1.", 1.5), ("2.5E-1", 0.25),
    ("AND(TRUE, 1 > 0)", True), ("OR(FALSE, FALSE)", False), ("true", True), ("False", False),
    ("if(1 > 0, 1, 2)", 1), ("Sum(1, 2)", 3),
])
def test_precedence_and_values(source, value):
    assert evaluate(source) == value


def test_ast_shapes_and_positions():
    node = parse("a + b * 2")
    assert isinstance(node, Binary) and node.op == "+" and (node.line, node.column) == (1, 3)
    assert node.right == Binary("*", Name("b"), Literal(2))
    assert parse("items.readings.value") == Path(("items", "readings", "value"))
    assert parse("round(x, 2)") == Call("ROUND", (Name("x"), Literal(2)))
    assert parse("-x") == Unary("-", Name("x")) and parse("x%") == Unary("%", Name("x"))
    assert parse("!x") == Unary("NOT", Name("x"))
    assert parse("a && b") == Binary("AND", Name("a"), Name("b"))
    assert parse("a == b").op == "=" and parse("a <> b").op == "!="
    second = parse("1 +\n  bad")
    assert (second.right.line, second.right.column) == (2, 3)


def test_field_keys_are_case_sensitive_function_names_are_not():
    assert parse("Lot") == Name("Lot") and parse("lot") == Name("lot")
    assert parse("today()") == Call("TODAY", ())


@pytest.mark.parametrize("source, value", [
    ('"say ""hi"""', 'say "hi"'), (r'"say \"hi\""', 'say "hi"'), (r'"C:\path"', r"C:\path"),
    ('""', ""), ('"多行\n文本"', "多行\n文本"), (r'"a\\"', "a\\"),
])
def test_strings(source, value):
    assert parse(source) == Literal(value)


@pytest.mark.parametrize("source, line, column, zh, en", [
    ("(1 + 2", 1, 1, "缺少右括号", "Missing closing parenthesis"),
    ("IF(a > 1, 2", 1, 3, "缺少右括号", "Missing closing parenthesis"),
    ("1 +", 1, 4, "表达式不完整", "Incomplete expression"),
    ("a, b", 1, 2, "此处不应出现 ','", "Unexpected ','"),
    ('"abc', 1, 1, "文本缺少结尾的双引号", "Unterminated text"),
    ("'abc'", 1, 1, "双引号", "double quotes"),
    ("a => b", 1, 3, "未知的运算符 '=>'", "Unknown operator '=>'"),
    ("a ** 2", 1, 3, "未知的运算符 '**'", "Unknown operator '**'"),
    ("IF(a，b)", 1, 5, "全角符号", "Full-width character"),
    ("1 + 2)", 1, 6, "多余的右括号", "Unexpected ')'"),
    ("a b", 1, 3, "缺少运算符", "Missing operator"),
    ("a $ b", 1, 3, "无法识别的字符 '$'", "Unknown character '$'"),
    ("", 1, 1, "表达式为空", "empty"),
    ("1 +\n\n  * 2", 3, 3, "此处不应出现 '*'", "Unexpected '*'"),
])
def test_syntax_errors_are_friendly_and_positioned(source, line, column, zh, en):
    with pytest.raises(ExpressionError) as info:
        parse(source)
    error = info.value
    assert (error.line, error.column) == (line, column)
    assert zh in error.message.zh and en in error.message.en
    assert "lark" not in error.message.en.lower() and "Token" not in error.message.en


def test_number_too_large_is_a_limit_error():
    with pytest.raises(ExpressionLimitError):
        parse("1e999")


def test_parse_rejects_non_text():
    with pytest.raises(ExpressionError):
        parse(None)  # type: ignore[arg-type]
