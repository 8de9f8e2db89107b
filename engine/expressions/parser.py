"""Text → AST with lark's LALR parser; every syntax problem becomes a friendly ExpressionError.

The AST is built by an inline transformer while lark reduces (no recursive tree walk), so a
pathological input cannot exhaust the Python stack; bracket depth and length are checked
before lark sees the text (:func:`engine.expressions.limits.scan_source`).
"""
from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path as FilePath

from lark import Lark, Token, Transformer, UnexpectedInput

from engine.errors import ExpressionError
from engine.i18n import msg
from engine.expressions import ast
from engine.expressions.limits import MAX_DEPTH, MAX_NODES, limit_error, scan_source
from engine.expressions.parse_errors import describe_syntax_error

_NORMALISE = {"==": "=", "<>": "!=", "&&": "AND", "||": "OR", "!": "NOT"}


def _op(token: Token) -> str:
    text = str(token)
    return _NORMALISE.get(text, text.upper() if text.isalpha() else text)


def _unescape(body: str) -> str:
    """Excel's ``""`` and the C-style ``\\"`` / ``\\\\``; any other backslash stays literal."""
    out, i = [], 0
    while i < len(body):
        ch = body[i]
        if ch == '"' and body[i + 1:i + 2] == '"':
            out.append('"')
            i += 2
        elif ch == "\\" and body[i + 1:i + 2] in ('"', "\\"):
            out.append(body[i + 1])
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


class _Build(Transformer):
    """lark callbacks building :mod:`engine.expressions.ast` nodes with token positions."""

    def number(self, children):
        tok = children[0]
        text = str(tok)
        if any(c in text for c in ".eE"):
            value = float(text)
            if not math.isfinite(value):
                raise limit_error("数字过大：{t}", "Number too large: {t}", tok.line, tok.column, t=text)
        else:
            value = int(text)
        return ast.Literal(value, tok.line, tok.column)

    def string(self, children):
        tok = children[0]
        return ast.Literal(_unescape(str(tok)[1:-1]), tok.line, tok.column)

    def true(self, children):
        return ast.Literal(True, children[0].line, children[0].column)

    def false(self, children):
        return ast.Literal(False, children[0].line, children[0].column)

    def name(self, children):
        tok = children[0]
        return ast.Name(str(tok), tok.line, tok.column)

    def path(self, children):
        parts = tuple(str(t) for t in children if t.type == "NAME")
        return ast.Path(parts, children[0].line, children[0].column)

    def binary(self, children):
        left, op, right = children
        return ast.Binary(_op(op), left, right, op.line, op.column)

    def unary(self, children):
        op, operand = children
        return ast.Unary(_op(op), operand, op.line, op.column)

    def percent(self, children):
        operand, op = children
        return ast.Unary("%", operand, op.line, op.column)

    def paren(self, children):
        return children[1]

    def args(self, children):
        return tuple(c for c in children if not isinstance(c, Token))

    def call(self, children):
        tok = children[0]
        args = children[2] if len(children) == 4 else ()
        return ast.Call(str(tok).upper(), args, tok.line, tok.column)


_GRAMMAR = (FilePath(__file__).with_name("grammar.lark")).read_text(encoding="utf-8")
_PARSER = Lark(_GRAMMAR, parser="lalr", lexer="contextual", transformer=_Build(),
               maybe_placeholders=False)


def _check_tree(node: ast.Node) -> None:
    """Bound the size and depth of the tree (a long chain of ``-`` has no brackets)."""
    count = 0
    for current in ast.walk(node):
        count += 1
        if count > MAX_NODES:
            raise limit_error("表达式过于复杂：超过 {max} 个元素", "Expression too complex: more than {max} elements",
                              current.line, current.column, max=MAX_NODES)
    if ast.depth(node) > MAX_DEPTH:
        raise limit_error("表达式嵌套过深：超过 {max} 层", "Expression nested too deeply: more than {max} levels",
                          node.line, node.column, max=MAX_DEPTH)


def parse(source: str) -> ast.Node:
    """Parse expression text into an AST; raises :class:`ExpressionError` with line/column."""
    return _parse_cached(source)


@lru_cache(maxsize=1024)
def _parse_cached(source: str) -> ast.Node:
    if not isinstance(source, str):
        raise ExpressionError(msg("表达式必须是文本", "An expression must be text"))
    unclosed = scan_source(source)
    if not source.strip():
        raise ExpressionError(msg("表达式为空", "The expression is empty"))
    try:
        tree = _PARSER.parse(source)
    except UnexpectedInput as exc:
        raise describe_syntax_error(source, exc, unclosed) from None
    except RecursionError:
        raise limit_error("表达式嵌套过深", "Expression nested too deeply") from None
    _check_tree(tree)
    return tree
