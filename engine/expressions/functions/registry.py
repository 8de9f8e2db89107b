"""The one registry of expression functions: signatures for the checker, code for the compiler,
bilingual help for the docs and the designer's autocomplete.

A function module registers each function once::

    @register("CPK", params=[Param("values", list_of(NUMBER)), Param("lsl", NUMBER),
                             Param("usl", NUMBER)],
              returns=NUMBER, category="quality",
              doc=msg("过程能力指数 Cpk …", "Process capability index Cpk …"),
              example="CPK(items.measured, lsl, usl)")
    def cpk(values, lsl, usl): ...

The function receives plain Python values (``None`` = blank). A parameter typed ``list<…>``
always receives a Python list (a single value arrives as a one-element list, possibly
``[None]``; a blank sub-table as ``[]``). A text parameter receives a ``str`` (blank is ``""``;
numbers and dates are converted as ``&`` does). Number, date and boolean parameters receive
the value or ``None`` (a date-time passed for a date parameter arrives as its calendar day).
Raise :class:`engine.errors.EvaluationError` on values the function cannot use; any other
exception is converted to one by the runtime.

``doc`` may be omitted when the docstring carries the help text as ``zh: …`` / ``en: …`` /
``example: …`` lines. ``context=True`` passes the :class:`EvalContext` as the first argument.
``inline`` (for the logic functions) generates Python source instead of a call, so that IF,
IFS, SWITCH, AND and OR evaluate lazily: ``inline(args: list[str], types: list[ExprType], emit)``
returns a Python expression over the already generated argument code; ``emit`` offers
``truth(code, type)``, ``temp()`` and ``ctx()`` (see :mod:`engine.expressions.codegen`). ``validate(types)``
may return a bilingual Msg for a problem the parameter list cannot express (IFS needs pairs).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence, Union

from engine.i18n import Msg
from engine.registry import Registry
from engine.expressions.types import ExprType

CATEGORIES = {
    "logic": Msg("逻辑", "Logic"),
    "math": Msg("数学", "Math"),
    "aggregate": Msg("统计汇总", "Aggregation"),
    "text": Msg("文本", "Text"),
    "date": Msg("日期时间", "Date & time"),
    "context": Msg("上下文", "Context"),
    "quality": Msg("质量", "Quality"),
    "lookup": Msg("查找", "Lookup"),
}


@dataclass(frozen=True)
class Param:
    """One parameter: ``optional`` ones may be left out at the end; a ``variadic`` one repeats."""

    name: str
    type: ExprType
    optional: bool = False
    variadic: bool = False


Returns = Union[ExprType, Callable[[list], ExprType]]


@dataclass(frozen=True)
class FunctionSpec:
    """A registered function: what the checker, the compiler and the catalogue need."""

    name: str
    params: tuple[Param, ...]
    returns: Returns
    category: str
    doc: Msg
    example: str
    impl: Callable = field(compare=False)
    context: bool = False
    inline: Callable | None = field(default=None, compare=False)
    validate: Callable | None = field(default=None, compare=False)

    @property
    def min_args(self) -> int:
        return sum(1 for p in self.params if not p.optional and not p.variadic) + \
            sum(1 for p in self.params if p.variadic and not p.optional)

    @property
    def max_args(self) -> int | None:
        """None when the last parameter is variadic (no upper bound but the node limit)."""
        return None if any(p.variadic for p in self.params) else len(self.params)

    def param_for(self, index: int) -> Param | None:
        """The parameter that argument ``index`` binds to (variadic ones repeat)."""
        if index < len(self.params):
            return self.params[index]
        if self.params and self.params[-1].variadic:
            return self.params[-1]
        return None

    def result_type(self, arg_types: Sequence[ExprType]) -> ExprType:
        return self.returns(list(arg_types)) if callable(self.returns) else self.returns

    def signature(self) -> str:
        """``ROUND(number, digits?)``-style signature for help and autocomplete."""
        parts = []
        for p in self.params:
            text = f"{p.name}: {p.type}"
            if p.variadic:
                text += ", …"
            if p.optional:
                text = f"[{text}]"
            parts.append(text)
        ret = "…" if callable(self.returns) else str(self.returns)
        return f"{self.name}({', '.join(parts)}) → {ret}"


FUNCTIONS: Registry[FunctionSpec] = Registry("expression functions")


def _doc_from_docstring(func: Callable) -> tuple[Msg | None, str | None]:
    """Read ``zh:``/``en:``/``example:`` lines from a docstring."""
    found: dict[str, str] = {}
    for line in (func.__doc__ or "").splitlines():
        key, sep, value = line.strip().partition(":")
        if sep and key.strip().lower() in ("zh", "en", "example"):
            found[key.strip().lower()] = value.strip()
    doc = Msg(found["zh"], found["en"]) if "zh" in found and "en" in found else None
    return doc, found.get("example")


def register(name: str, params: Sequence[Param] = (), returns: Returns = None, *,
             category: str = "math", doc: Msg | None = None, example: str | None = None,
             context: bool = False, inline: Callable | None = None,
             validate: Callable | None = None) -> Callable:
    """Decorator: register the decorated Python function as expression function ``name``."""
    upper = name.upper()

    def wrap(func: Callable) -> Callable:
        doc_found, example_found = _doc_from_docstring(func)
        text = doc or doc_found
        if text is None:
            line = (func.__doc__ or upper).strip().splitlines()[0]
            text = Msg(line, line)
        spec = FunctionSpec(upper, tuple(params), returns, category, text,
                            example or example_found or f"{upper}()", func, context, inline,
                            validate)
        FUNCTIONS.register(upper, spec)
        return func
    return wrap


def function_catalog(lang: str | None = "zh-CN") -> list[dict]:
    """Every function as ``{name, signature, category, doc, example}`` for docs and autocomplete."""
    from engine.expressions import functions  # noqa: F401  (ensure every module registered)
    rows = []
    for name, spec in sorted(FUNCTIONS.items()):
        category = CATEGORIES.get(spec.category)
        rows.append({"name": name, "signature": spec.signature(),
                     "category": spec.category,
                     "category_label": category.get(lang) if category else spec.category,
                     "doc": spec.doc.get(lang), "example": spec.example})
    return rows
