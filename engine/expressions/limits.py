"""Every bound of the expression language, in one place, and the pre-parse guard.

The language has no loops, no recursion and no way to build a list, so the work of one
evaluation is bounded by the size of the expression (nodes) times the size of the data it
reads (rows). These constants bound the rest: text results, list sizes, number magnitudes.
"""
from __future__ import annotations

from engine.errors import ExpressionLimitError
from engine.i18n import msg

MAX_SOURCE_LENGTH = 4_000     # characters of expression text
MAX_DEPTH = 64                # nesting depth of brackets and of the syntax tree
MAX_NODES = 1_000             # syntax-tree nodes (operators, literals, names, calls)
MAX_TEXT_LENGTH = 100_000     # characters of any text result (REPT, CONCAT, &, TEXT …)
MAX_LIST_LENGTH = 100_000     # elements of a list read from a sub-table column
MAX_POWER_RESULT = 1e15       # |a ^ b|: Excel's 15-digit precision; stops 9^9^9 at once
MAX_CACHE_SIZE = 2_048        # compiled expressions kept per process


def limit_error(zh: str, en: str, line: int = 1, column: int = 1, **kw) -> ExpressionLimitError:
    """A bilingual :class:`ExpressionLimitError`."""
    return ExpressionLimitError(msg(zh, en, **kw), line, column)


def position(source: str, offset: int) -> tuple[int, int]:
    """1-based (line, column) of character ``offset`` in ``source``."""
    line = source.count("\n", 0, offset) + 1
    start = source.rfind("\n", 0, offset) + 1
    return line, offset - start + 1


def scan_source(source: str) -> list[int]:
    """Check length and bracket depth before parsing; return offsets of unclosed ``(``.

    Runs in one linear pass so that a 10,000-deep nesting fails at once, before the parser
    (or anything recursive) sees it. Brackets inside string literals are skipped.
    """
    if len(source) > MAX_SOURCE_LENGTH:
        raise limit_error("表达式过长：{n} 个字符，上限为 {max} 个字符",
                          "Expression too long: {n} characters, the limit is {max}",
                          n=len(source), max=MAX_SOURCE_LENGTH)
    open_at: list[int] = []
    in_string = False
    i, n = 0, len(source)
    while i < n:
        ch = source[i]
        if in_string:
            if ch == "\\" and i + 1 < n:
                i += 1
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "(（":
            open_at.append(i)
            if len(open_at) > MAX_DEPTH:
                line, col = position(source, i)
                raise limit_error("括号嵌套过深：超过 {max} 层", "Brackets nested too deeply: more than {max} levels",
                                  line, col, max=MAX_DEPTH)
        elif ch in ")）" and open_at:
            open_at.pop()
        i += 1
    return open_at
