"""The Jinja2 environment print templates run in: sandboxed, immutable, autoescaped, bounded.

Print templates are written in the designer, so they are untrusted code running on the server.
:class:`jinja2.sandbox.ImmutableSandboxedEnvironment` keeps them away from Python internals
(``''.__class__`` and friends) and from changing the data they are given; on top of it:

- an unsafe attribute is an error at once (the stock sandbox renders it as an empty string and
  only fails on the next use), so a probing template fails loudly instead of printing blanks;
- ``range`` has one budget for the whole render, and ``*`` / ``**`` cannot build huge values,
  so loops and repetition stay bounded;
- the output is cut off with an error past :data:`MAX_OUTPUT` characters;
- there is no loader: ``include``/``extends``/``import`` of other files are not available.
"""
from __future__ import annotations

import operator
from functools import lru_cache
from typing import Any, Mapping

from jinja2 import ChainableUndefined, TemplateError, TemplateSyntaxError
from jinja2.sandbox import SecurityError

from engine.errors import QMSError
from engine.jinja_bounds import BoundedSandbox, bounded_steps
from engine.i18n import Msg, msg

MAX_OUTPUT = 4_000_000          # characters of HTML one render may produce (a 500-page batch fits)
MAX_RANGE_ITEMS = 100_000       # all range() calls of one render together
MAX_REPEAT = 100_000            # length of a string or list built with *
MAX_EXPONENT = 64
MAX_STEPS = 100_000             # loop iterations + calls of one render (~1 s at worst)


class PrintError(QMSError):
    """A print template that cannot be compiled or rendered; the message says where and why."""

    code = "print_error"


class _Budget:
    """What one render may still spend on range()."""

    def __init__(self) -> None:
        self.left = MAX_RANGE_ITEMS

    def range(self, *args: int) -> range:
        items = range(*args)
        self.left -= len(items)
        if self.left < 0:
            raise SecurityError(f"range() may produce at most {MAX_RANGE_ITEMS} items per print")
        return items


class PrintEnvironment(BoundedSandbox):
    """The bounded sandbox (engine.jinja_bounds) with a tighter limit on ``*`` and ``**``."""

    def call_binop(self, context, op: str, left: Any, right: Any) -> Any:
        if op not in ("*", "**"):
            return super().call_binop(context, op, left, right)
        if op == "**":
            if isinstance(right, (int, float)) and abs(right) > MAX_EXPONENT:
                raise SecurityError(f"exponents are limited to {MAX_EXPONENT}")
            return operator.pow(left, right)
        for seq, times in ((left, right), (right, left)):
            if isinstance(seq, (str, list, tuple)) and isinstance(times, int) and len(seq) * times > MAX_REPEAT:
                raise SecurityError(f"a repeated value may be at most {MAX_REPEAT} long")
        return operator.mul(left, right)


def _finalize(value: Any) -> Any:
    """``None`` prints as nothing (a blank field), not as the word "None"."""
    return "" if value is None else value


ENV = PrintEnvironment(autoescape=True, undefined=ChainableUndefined, finalize=_finalize,
                       trim_blocks=True, lstrip_blocks=True)


def syntax_message(exc: TemplateSyntaxError) -> Msg:
    """A bilingual description of a template syntax error, with its line."""
    return msg("模板第 {l} 行语法错误：{e}", "Template syntax error on line {l}: {e}", l=exc.lineno or 1,
               e=exc.message or "")


@lru_cache(maxsize=128)
def compile_template(source: str):
    """The compiled template (cached by source); PrintError with the line for a syntax error."""
    try:
        return ENV.from_string(source)
    except TemplateSyntaxError as exc:
        raise PrintError(syntax_message(exc)) from None


def render(source: str, context: Mapping[str, Any]) -> str:
    """Render a print template with ``context``; PrintError for anything the template does wrong."""
    template = compile_template(source)
    budget = _Budget()
    parts: list[str] = []
    size = 0
    try:
        with bounded_steps(MAX_STEPS):
            chunks = template.generate({**context, "range": budget.range})
            for chunk in chunks:
                size += len(chunk)
                if size > MAX_OUTPUT:
                    raise PrintError(msg("打印模板输出过大（超过 {n} 个字符），请减少循环或分批打印",
                                         "The print template produced too much output (over {n} characters); "
                                         "loop less or print fewer records at once", n=MAX_OUTPUT))
                parts.append(chunk)
    except PrintError:
        raise
    except SecurityError as exc:
        raise PrintError(msg("打印模板执行了不允许的操作：{e}", "The print template did something not allowed: {e}",
                             e=str(exc))) from None
    except (TemplateError, TypeError, ValueError, ArithmeticError, LookupError, AttributeError,
            RecursionError, MemoryError) as exc:
        raise PrintError(msg("打印模板出错（{k}）：{e}", "The print template failed ({k}): {e}",
                             k=type(exc).__name__, e=str(exc)[:300])) from None
    return "".join(parts)
