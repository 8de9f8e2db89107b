"""check → compile → evaluate: the public entry points of the expression language.

``compile_expression`` parses and checks once, generates Python source from the AST
(:mod:`engine.expressions.codegen`), compiles it with an empty ``__builtins__`` and only our
helpers in its globals, and caches the result per (source, scope). The generated function is
the ``evaluate`` of the :class:`Compiled` object itself, so an evaluation costs one call.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable, Mapping, Sequence

from engine.errors import EvaluationError, ExpressionError, ExpressionLimitError
from engine.i18n import msg
from engine.expressions import ast
from engine.expressions.checker import Checker
from engine.expressions.codegen import CodeGen, Generated, strip_markers
from engine.expressions.limits import MAX_CACHE_SIZE
from engine.expressions.parser import _parse_cached, parse
from engine.expressions.runtime import DEFAULT_CONTEXT, HELPERS, EvalContext
from engine.expressions.types import ANY, ExprType, Kind, Scope, list_of



@dataclass(frozen=True)
class CheckResult:
    """Outcome of :func:`check`: the expression's type (None if it has errors) and all errors."""

    type: ExprType | None
    errors: list[ExpressionError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _checked(source: str, scope: Scope):
    tree = parse(source)
    checker = Checker(scope)
    result = checker.visit(tree)
    for error in checker.errors:
        error.source = source
    return tree, result, checker


def check(source: str, scope: Scope | None = None) -> CheckResult:
    """Parse and type-check ``source``; never raises on bad input, returns every error found."""
    try:
        _, result, checker = _checked(source, scope or Scope())
    except ExpressionError as exc:
        return CheckResult(None, [exc])
    errors = sorted(checker.errors, key=lambda e: (e.line, e.column))
    return CheckResult(None if errors else result, errors)


class Compiled:
    """A compiled expression. ``evaluate(data, ctx=None, parents=())`` runs it.

    ``data`` maps field keys to Python values (sub-tables as lists of row dicts). In a sub-table
    row scope, ``data`` is the row and ``parents`` the enclosing record(s), nearest first; if
    ``parents`` is empty, names of outer scopes are read from ``data`` too (so a merged dict or a
    ``collections.ChainMap(row, record)`` also works).
    """

    __slots__ = ("source", "scope", "type", "names", "python", "evaluate")

    def __init__(self, source: str, scope: Scope, type_: ExprType, names: frozenset[str],
                 python: str, function: Callable):
        self.source, self.scope, self.type, self.names = source, scope, type_, names
        self.python = python          # the generated source, for debugging and tests
        self.evaluate = function

    def __repr__(self) -> str:
        return f"Compiled({self.source!r}, type={self.type})"


def compile_expression(source: str, scope: Scope | None = None) -> Compiled:
    """Parse, check and compile ``source`` for ``scope`` (cached); raises ExpressionError."""
    return _compile_cached(source, scope if scope is not None else Scope())


@lru_cache(maxsize=MAX_CACHE_SIZE)
def _compile_cached(source: str, scope: Scope) -> Compiled:
    return compile_uncached(source, scope)


def clear_caches() -> None:
    """Forget compiled and parsed expressions (benchmarks measure the cold path)."""
    _compile_cached.cache_clear()
    _parse_cached.cache_clear()


def compile_uncached(source: str, scope: Scope) -> Compiled:
    """Compile without the cache (see :func:`compile_expression`)."""
    tree, result, checker = _checked(source, scope)
    if checker.errors:
        errors = sorted(checker.errors, key=lambda e: (e.line, e.column))
        first = errors[0]
        first.errors = errors   # every problem, for callers that show them all
        raise first
    generated = CodeGen(checker.notes).generate(tree)
    python, function = _assemble(generated, result, source)
    return Compiled(source, scope, result, frozenset(checker.notes.names), python, function)


def _function(name: str, gen: Generated, expr: str, tail: list[str], fast: bool) -> list[str]:
    """Source lines of one evaluation function; ``fast`` reads the record with ``data[key]``."""
    loads = ["if ctx is None: ctx = _CTX"] if gen.uses_ctx else []
    for var, level, key, numeric in gen.loads:
        if level == 0:
            read = f"data[{ascii(key)}]" if fast else f"data.get({ascii(key)})"
        else:
            read = f"_up(data, parents, {level}).get({ascii(key)})"
        loads.append(f"{var} = {read}")
        if numeric:
            # a type check, not only a blank guard: "x" * 10**9 must never run on bad data
            loads.append(f"n{var[1:]} = 0 if {var} is None else {var} if {var}.__class__ in _NUMS "
                         f"else _num0({var})")
    lines = [f"def {name}(data, ctx=None, parents=()):", "    try:"]
    lines += [f"        {load}" for load in loads]
    lines.append("        r = " + expr)
    lines += ["    " + line for line in tail]
    if fast:   # a missing key is blank: rerun the careful version, which uses data.get()
        lines += ["    except _KeyError:", "        return _careful(data, ctx, parents)"]
    lines += ["    except _Exception as exc:", "        raise _convert(exc, data) from None", "    return r"]
    return lines


def _assemble(gen: Generated, result: ExprType, source: str) -> tuple[str, Callable]:
    """Wrap the generated expression in functions, compile them, and bind the error handler.

    ``evaluate`` reads fields with ``data[key]`` (a dict subscript is the cheapest read in
    CPython) and falls back to ``_careful`` (``data.get``) when a key is missing.
    """
    expr, spans = strip_markers(gen.expr)
    if result.kind is Kind.NUMBER:
        tail = ["    if r is not None and r - r: _finite(r)"]
    elif result.kind is Kind.ANY:
        tail = ["    _finite(r)"]
    else:
        tail = []
    careful = _function("_careful", gen, expr, tail, fast=False)
    fast = _function("evaluate", gen, expr, tail, fast=True) if any(
        level == 0 for _, level, _, _ in gen.loads) else []
    offset = len("        r = ")
    located = [(start + offset, end + offset, gen.nodes[i]) for start, end, i in spans]
    namespace: dict[str, Any] = {"__builtins__": {}, "_CTX": DEFAULT_CONTEXT, "_up": _up,
                                 "_Exception": Exception, "_KeyError": KeyError,
                                 "_NUMS": frozenset((int, float, bool)),
                                 **HELPERS, **gen.functions}
    # The careful twin is compiled on first use only: most records carry every key.
    lines = fast or careful
    expr_lines = frozenset(i + 1 for i, line in enumerate(lines) if line.startswith("        r = "))
    namespace["_convert"] = _converter(source, located, expr_lines)
    namespace["_careful"] = _lazy(namespace, "\n".join(careful))
    python = "\n".join(lines)
    exec(compile(python, "<expression>", "exec"), namespace)   # our generated source only
    return python, namespace.get("evaluate") or namespace["_careful"]


def _lazy(namespace: dict, python: str) -> Callable:
    """A stand-in for ``_careful`` that compiles it when first called."""
    def first_call(data, ctx=None, parents=()):
        exec(compile(python, "<expression>", "exec"), namespace)   # replaces the stand-in
        return namespace["_careful"](data, ctx, parents)
    return first_call


def _up(data: Mapping, parents: Sequence[Mapping], level: int) -> Mapping:
    """The mapping holding names of the ``level``-th enclosing scope."""
    if len(parents) >= level:
        return parents[level - 1]
    return parents[-1] if parents else data


def _converter(source: str, spans: list[tuple[int, int, ast.Node]], expr_lines: frozenset[int]):
    """The error handler of one compiled expression: language errors with the node's position."""
    def convert(exc: BaseException, data) -> ExpressionError:
        node = _locate(exc, spans, expr_lines)
        error = _translate(exc)
        if node is not None:
            error.line, error.column = node.line, node.column
        error.source = source
        return error
    return convert


def _translate(exc: BaseException) -> ExpressionError:
    if isinstance(exc, ExpressionError):
        return exc
    if isinstance(exc, ZeroDivisionError):
        return EvaluationError(msg("#DIV/0! 除数为零", "#DIV/0! division by zero"))
    if isinstance(exc, (OverflowError, MemoryError, RecursionError)):
        return ExpressionLimitError(msg("数值或结果过大，超出计算范围", "Number or result too large to compute"))
    return EvaluationError(msg("#VALUE! 值的类型不正确（例如文本参与了算术运算，或数据与字段类型不符）",
                               "#VALUE! a value has the wrong type (e.g. text in arithmetic, or data "
                               "that does not match the field type)"))


def _locate(exc: BaseException, spans: list[tuple[int, int, ast.Node]],
            expr_lines: frozenset[int]) -> ast.Node | None:
    """The innermost node whose generated code contains the instruction that raised."""
    tb = exc.__traceback__
    if tb is None:
        return None
    try:
        positions = list(tb.tb_frame.f_code.co_positions())
        line, _, col, end_col = positions[tb.tb_lasti // 2]
    except (IndexError, ValueError, AttributeError):
        return None
    if line not in expr_lines or col is None:
        return None
    best = None
    for start, end, node in spans:
        if start <= col and end_col is not None and end >= end_col:
            if best is None or end - start < best[1] - best[0]:
                best = (start, end, node)
    return best[2] if best else None


def scope_from_data(data: Mapping[str, Any]) -> Scope:
    """A scope typing every key of ``data`` as ANY; lists of dicts become sub-tables."""
    fields = []
    for key, value in data.items():
        if isinstance(value, list) and value and all(isinstance(r, Mapping) for r in value):
            fields.append((key, scope_from_data(_merged(value))))
        elif isinstance(value, list):
            fields.append((key, list_of(ANY)))
        else:
            fields.append((key, ANY))
    return Scope(tuple(fields))


def _merged(rows: list[Mapping]) -> dict:
    merged: dict = {}
    for row in rows:
        for key, value in row.items():
            if merged.get(key) is None:
                merged[key] = value
    return merged


def evaluate(source: str, data: Mapping[str, Any] | None = None, scope: Scope | None = None,
             ctx: EvalContext | None = None) -> Any:
    """Compile (cached) and evaluate once. Without a scope, names are typed from ``data``."""
    data = data or {}
    if not isinstance(data, Mapping):
        raise EvaluationError(msg("数据必须是字段到值的映射", "Data must map field keys to values"))
    compiled = compile_expression(source, scope if scope is not None else scope_from_data(data))
    return compiled.evaluate(data, ctx)
