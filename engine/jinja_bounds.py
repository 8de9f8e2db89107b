"""A Jinja2 sandbox whose work and memory are bounded: the base of every user-written template.

The stock :class:`~jinja2.sandbox.ImmutableSandboxedEnvironment` keeps templates away from Python
internals but not from exhausting the server: nested loops over long lists, a macro that calls
itself twice, ``{% set s = s ~ s %}`` forty times, ``'a'|center(10**9)``, ``'%*s'|format(10**9, 'x')``.
:class:`BoundedSandbox` adds, for one render (see :func:`bounded_steps`):

- a budget of steps: every loop iteration and every call spends one; ``range()`` has its own;
- a size limit on every text or list a template builds (``~``, ``+``, ``*``, filters, methods),
  checked before the large value is built wherever its size can be known in advance;
- widths in format strings and width/count arguments of text methods bounded by :data:`MAX_SIZE`;
- an unsafe attribute is an error at once, ``**`` has a bounded exponent.
"""
from __future__ import annotations

import contextvars
import operator
import re
from contextlib import contextmanager
from typing import Any, Iterable, Iterator

from jinja2 import nodes
from jinja2.compiler import CodeGenerator
from jinja2.runtime import LoopContext
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from jinja2.utils import Namespace

MAX_STEPS = 100_000             # loop iterations + calls + range() items of one render (~0.6 s)
MAX_SIZE = 1_000_000            # characters of a text / items of a list built inside a template
MAX_EXPONENT = 64
MAX_RANGE_ITEMS = 100_000       # all range() results of one render together

_steps: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar("jinja_steps", default=None)
_WIDTH_METHODS = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs"})
_PRINTF_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")
_BRACE_SPEC = re.compile(r"\{[^{}]*?:([^{}]*)\}|\{[^{}]*?:[^{}]*\{")


@contextmanager
def bounded_steps(limit: int = MAX_STEPS) -> Iterator[None]:
    """Give the renders inside this block one budget of ``limit`` steps."""
    token = _steps.set([limit, limit, MAX_RANGE_ITEMS])
    try:
        yield
    finally:
        _steps.reset(token)


def spend(n: int = 1) -> None:
    """Spend ``n`` steps of the current render's budget (no budget set: nothing to count)."""
    left = _steps.get()
    if left is None:
        return
    left[0] -= n
    if left[0] < 0:
        raise SecurityError(f"the template does too much work (more than {left[1]} loop steps and calls)")


def _check_size(value: Any) -> Any:
    if isinstance(value, (str, list, tuple)) and len(value) > MAX_SIZE:
        raise SecurityError(f"a value built by the template may be at most {MAX_SIZE} long")
    return value


def _check_format(fmt: str) -> None:
    """Refuse widths/precisions over MAX_SIZE and widths taken from arguments (``%*s``, ``{:{}}``)."""
    for width, precision in _PRINTF_SPEC.findall(fmt):
        for part in (width, precision):
            if part == "*" or (part and int(part) > MAX_SIZE):
                raise SecurityError("format widths may be at most a fixed %d" % MAX_SIZE)
    for match in _BRACE_SPEC.finditer(fmt):
        spec = match.group(1)
        if spec is None or any(int(n) > MAX_SIZE for n in re.findall(r"\d+", spec)):
            raise SecurityError("format widths may be at most a fixed %d" % MAX_SIZE)


def _check_method(obj: Any, args: tuple, kwargs: dict) -> None:
    """Size the result of a text method before it runs."""
    owner, name = getattr(obj, "__self__", None), getattr(obj, "__name__", "")
    if not isinstance(owner, str):
        return
    values = list(args) + list(kwargs.values())
    if name in _WIDTH_METHODS and any(isinstance(v, int) and v > MAX_SIZE for v in values):
        raise SecurityError(f"a width may be at most {MAX_SIZE}")
    if name == "replace" and len(args) >= 2 and isinstance(args[0], str) and isinstance(args[1], str):
        count = owner.count(args[0]) if args[0] else len(owner) + 1
        _check_size_estimate(len(owner) + count * max(0, len(args[1]) - len(args[0])))
    if name == "join" and args:
        items = args[0]
        if isinstance(items, (list, tuple, str)):
            _check_size_estimate(sum(len(str(i)) for i in items) + len(owner) * max(0, len(items) - 1))


def _check_size_estimate(size: int) -> None:
    if size > MAX_SIZE:
        raise SecurityError(f"a value built by the template may be at most {MAX_SIZE} long")


class _BoundedCodeGenerator(CodeGenerator):
    """Routes ``~`` through a size check and every ``for`` through the step budget."""

    def visit_Concat(self, node, frame) -> None:
        self.write("environment.sized(")
        super().visit_Concat(node, frame)
        self.write(")")

    def visit_For(self, node, frame) -> None:
        if not getattr(node, "_bounded", False):
            node.iter = nodes.Call(nodes.EnvironmentAttribute("bounded_iter", lineno=node.lineno), [node.iter],
                                   [], None, None, lineno=node.lineno)
            node._bounded = True
        super().visit_For(node, frame)


class BoundedNamespace(Namespace):
    """``namespace()`` whose attributes cannot hold oversized values."""

    def __setitem__(self, name: str, value: Any) -> None:
        super().__setitem__(name, _check_size(value))


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox with bounded work and sizes (use inside :func:`bounded_steps`)."""

    code_generator_class = _BoundedCodeGenerator
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.globals["range"] = self.bounded_range
        self.globals["namespace"] = BoundedNamespace
        for name in ("center", "indent", "format", "join", "replace", "batch", "wordwrap", "truncate"):
            self.filters[name] = self._bounded_filter(self.filters[name], name)

    # -- hooks called by the compiled template
    @staticmethod
    def sized(value: Any) -> Any:
        return _check_size(value)

    @staticmethod
    def bounded_iter(iterable: Iterable) -> Iterator:
        for item in iterable:
            spend()
            yield item

    @staticmethod
    def bounded_range(*args: int) -> range:
        items = range(*args)
        budget = _steps.get()
        if budget is not None:
            budget[2] -= len(items)
            if budget[2] < 0:
                raise SecurityError(f"range() may produce at most {MAX_RANGE_ITEMS} items per render")
        elif len(items) > MAX_RANGE_ITEMS:
            raise SecurityError(f"range() may produce at most {MAX_RANGE_ITEMS} items")
        return items

    def unsafe_undefined(self, obj: Any, attribute: str):
        raise SecurityError(f"access to attribute {attribute!r} of {type(obj).__name__!r} object is not allowed")

    def call(__self, __context, __obj, *args: Any, **kwargs: Any) -> Any:  # noqa: N805 - Jinja's signature
        spend()
        if isinstance(__obj, LoopContext) and args:          # loop(children) of a recursive for
            args = (__self.bounded_iter(args[0]),) + args[1:]
        _check_method(__obj, args, kwargs)
        return _check_size(super().call(__context, __obj, *args, **kwargs))

    def wrap_str_format(self, value: Any):
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        fmt = value.__self__

        def checked(*args: Any, **kwargs: Any) -> str:
            _check_format(fmt)
            return _check_size(wrapped(*args, **kwargs))

        return checked

    def call_binop(self, context, op: str, left: Any, right: Any) -> Any:
        if op == "**":
            if isinstance(right, (int, float)) and abs(right) > MAX_EXPONENT:
                raise SecurityError(f"exponents are limited to {MAX_EXPONENT}")
            return operator.pow(left, right)
        if op == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(times, int):
                    _check_size_estimate(len(seq) * times)
            return _check_size(operator.mul(left, right))
        if op == "%":
            if isinstance(left, str):
                _check_format(left)
            return _check_size(operator.mod(left, right))
        return _check_size(operator.add(left, right))

    @staticmethod
    def _bounded_filter(func, name: str):
        def bounded(*args: Any, **kwargs: Any) -> Any:
            params = [a for a in args if not hasattr(a, "environment")][1:] + list(kwargs.values())
            if name == "format" and args:
                value = next((a for a in args if not hasattr(a, "environment")), "")
                _check_format(str(value))
            elif name in ("join", "replace"):
                pass                                       # sized after the call below
            elif any(isinstance(p, int) and not isinstance(p, bool) and p > MAX_SIZE for p in params):
                raise SecurityError(f"a width or count may be at most {MAX_SIZE}")
            if name == "indent" and any(isinstance(p, str) and len(p) > 1_000 for p in params):
                raise SecurityError("an indent may be at most 1000 characters")
            if name == "replace":
                value = [a for a in args if not hasattr(a, "environment")]
                if len(value) >= 3 and all(isinstance(v, str) for v in value[:3]):
                    _check_method(value[0].replace, tuple(value[1:3]), {})
            if name == "join":
                value = [a for a in args if not hasattr(a, "environment")]
                if len(value) >= 2 and isinstance(value[1], str) and isinstance(value[0], (list, tuple, str)):
                    _check_method(value[1].join, (value[0],), {})
            return _check_size(func(*args, **kwargs))

        for attr in ("jinja_pass_arg",):
            if hasattr(func, attr):
                setattr(bounded, attr, getattr(func, attr))
        bounded.__name__ = getattr(func, "__name__", name)
        return bounded
