"""Turn lark's UnexpectedInput into a bilingual message a quality engineer understands."""
from __future__ import annotations

from lark import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from engine.errors import ExpressionError
from engine.i18n import Msg, msg
from engine.expressions.limits import position

# What each terminal looks like to a user, for "expected …" lists.
_TERMINALS = {
    "NUMBER": Msg("数字", "a number"), "STRING": Msg("文本", "a text in double quotes"),
    "NAME": Msg("字段或函数名", "a field or function name"), "LPAR": Msg("'('", "'('"),
    "RPAR": Msg("')'", "')'"), "COMMA": Msg("','", "','"), "TRUE": Msg("TRUE", "TRUE"),
    "FALSE": Msg("FALSE", "FALSE"), "COMP_OP": Msg("比较运算符", "a comparison"),
    "ADD_OP": Msg("'+' 或 '-'", "'+' or '-'"), "MUL_OP": Msg("'*' 或 '/'", "'*' or '/'"),
    "AMP": Msg("'&'", "'&'"), "CARET": Msg("'^'", "'^'"), "PERCENT": Msg("'%'", "'%'"),
    "AND": Msg("AND", "AND"), "OR": Msg("OR", "OR"), "NOT": Msg("NOT", "NOT"),
    "DOT": Msg("'.'", "'.'"), "$END": Msg("表达式结尾", "the end of the expression"),
}
_OPERAND = {"NUMBER", "STRING", "NAME", "LPAR"}

# Full-width punctuation typed with a Chinese input method, and its ASCII twin.
_FULL_WIDTH = {"（": "(", "）": ")", "，": ",", "“": '"', "”": '"', "＝": "=", "＋": "+",
               "－": "-", "＊": "*", "／": "/", "＜": "<", "＞": ">", "！": "!", "＆": "&",
               "。": ".", "；": ",", "：": ":", "‘": "'", "’": "'"}

# Operators from other languages that users try; what we offer instead.
_WRONG_OPERATORS = {"=>": ">=", "=<": "<=", "><": "<>", "**": "^", "//": "/", "===": "=",
                    "!==": "!=", "+=": "+", "-=": "-", ":=": "="}


def _error(zh: str, en: str, line: int, column: int, source: str, **kw) -> ExpressionError:
    return ExpressionError(msg(zh, en, **kw), line, column, source)


def _expected_list(expected: set[str]) -> Msg:
    names = [_TERMINALS[t] for t in sorted(expected) if t in _TERMINALS]
    if expected & _OPERAND:
        names = [Msg("数字、文本、字段、函数或 '('", "a number, text, field, function or '('")] + \
                [n for t, n in sorted((t, _TERMINALS[t]) for t in expected if t in _TERMINALS)
                 if t not in _OPERAND | {"TRUE", "FALSE", "NOT", "ADD_OP", "AND", "OR"}]
    return Msg("、".join(n.zh for n in names[:6]), ", ".join(n.en for n in names[:6]))


def _wrong_operator(source: str, offset: int) -> tuple[str, int] | None:
    """A known mistake such as ``=>`` or ``**`` around ``offset``: (text, its start)."""
    for start in range(max(0, offset - 2), offset + 1):
        for length in (3, 2):
            text = source[start:start + length]
            if text in _WRONG_OPERATORS and start <= offset < start + length:
                return text, start
    return None


def _characters(source: str, exc: UnexpectedCharacters) -> ExpressionError:
    ch = source[exc.pos_in_stream] if exc.pos_in_stream < len(source) else ""
    line, col = exc.line, exc.column
    if ch == '"':
        return _error("文本缺少结尾的双引号 \"", "Unterminated text: missing the closing double quote \"",
                      line, col, source)
    if ch == "'":
        return _error("文本请用双引号 \"…\"，不能用单引号", "Write text in double quotes \"…\", not single quotes",
                      line, col, source)
    if ch in _FULL_WIDTH:
        return _error("发现中文全角符号 '{c}'，请改用半角 '{a}'", "Full-width character '{c}' found; use '{a}' instead",
                      line, col, source, c=ch, a=_FULL_WIDTH[ch])
    wrong = _wrong_operator(source, exc.pos_in_stream)
    if wrong:
        return _unknown_operator(source, *wrong)
    return _error("无法识别的字符 '{c}'", "Unknown character '{c}'", line, col, source, c=ch)


def _unknown_operator(source: str, text: str, start: int) -> ExpressionError:
    line, col = position(source, start)
    return _error("未知的运算符 '{op}'，是否想写 '{fix}'？", "Unknown operator '{op}'; did you mean '{fix}'?",
                  line, col, source, op=text, fix=_WRONG_OPERATORS[text])


def _token(source: str, exc: UnexpectedToken, unclosed: list[int]) -> ExpressionError:
    tok = exc.token
    expected = set(exc.expected or ())
    if tok.type == "$END":
        if "RPAR" in expected and unclosed:
            line, col = position(source, unclosed[-1])
            return _error("缺少右括号：第 {l} 行第 {c} 列的 '(' 没有对应的 ')'",
                          "Missing closing parenthesis: the '(' at line {l}, column {c} is never closed",
                          line, col, source, l=line, c=col)
        line, col = position(source, len(source.rstrip()))
        return _error("表达式不完整：结尾处缺少 {exp}", "Incomplete expression: expected {exp} at the end",
                      line, col, source, exp=_expected_list(expected))
    line, col = tok.line, tok.column
    offset = tok.start_pos if tok.start_pos is not None else 0
    wrong = _wrong_operator(source, offset)
    if wrong:
        return _unknown_operator(source, *wrong)
    text = str(tok)
    if tok.type == "RPAR" and not unclosed and _more_closing(source, offset):
        return _error("多余的右括号 ')'", "Unexpected ')': there is no '(' to close", line, col, source)
    if tok.type == "COMMA":
        return _error("此处不应出现 ','（逗号只能分隔函数参数）",
                      "Unexpected ',' (commas only separate function arguments)", line, col, source)
    if tok.type in ("NAME", "NUMBER", "STRING", "TRUE", "FALSE") and "NAME" not in expected:
        return _error("'{t}' 前缺少运算符或逗号", "Missing operator or comma before '{t}'",
                      line, col, source, t=text[:20])
    return _error("此处不应出现 '{t}'，应为：{exp}", "Unexpected '{t}'; expected {exp}",
                  line, col, source, t=text[:20], exp=_expected_list(expected))


def _more_closing(source: str, offset: int) -> bool:
    """True if the ``)`` at ``offset`` closes nothing (outside strings)."""
    depth, in_string = 0, False
    for i, ch in enumerate(source[:offset + 1]):
        if ch == '"':
            in_string = not in_string
        elif not in_string and ch == "(":
            depth += 1
        elif not in_string and ch == ")":
            depth -= 1
            if depth < 0:
                return True
    return False


def describe_syntax_error(source: str, exc: UnexpectedInput, unclosed: list[int]) -> ExpressionError:
    """The ExpressionError (with 1-based line/column) for a lark parse failure."""
    if isinstance(exc, UnexpectedCharacters):
        return _characters(source, exc)
    if isinstance(exc, UnexpectedToken):
        return _token(source, exc, unclosed)
    line, col = getattr(exc, "line", 1) or 1, getattr(exc, "column", 1) or 1
    return _error("表达式不完整", "Incomplete expression", line, col, source)
