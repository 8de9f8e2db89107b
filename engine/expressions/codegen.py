"""AST (already type-checked) → Python source of one function, specialised on static types.

Only this module writes Python source. User text never reaches it: field keys and text
literals become ``ascii()`` string constants, numbers are ``repr`` of int/float values, and
every name in the generated code is one of ours (``v0``, ``t1``, ``F2``, ``_cmp`` …). Each
node's code is wrapped in invisible markers so a run-time error can be mapped back to the
node (line, column) that raised it; :func:`strip_markers` removes them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

from engine.expressions import ast
from engine.expressions.checker import Annotations
from engine.expressions.functions import FUNCTIONS
from engine.expressions.functions.registry import FunctionSpec
from engine.expressions.runtime import format_number
from engine.expressions.typerules import NUMERIC
from engine.expressions.types import ANY, ExprType, Kind

_PY_OPS = {"=": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_DATES = (Kind.DATE, Kind.DATETIME)
_MARK = re.compile(r"\x00(\d+)\x01|\x02")


@dataclass
class Generated:
    """The generated function body and what the compiler needs around it."""

    expr: str                                   # Python expression (with markers)
    loads: list[tuple[str, int, str, bool]]     # (var, level, key, numeric form needed)
    functions: dict[str, Callable] = field(default_factory=dict)
    nodes: list[ast.Node] = field(default_factory=list)
    uses_ctx: bool = False


class CodeGen:
    """Emits a Python expression for a checked AST; the compiler wraps it in a function."""

    def __init__(self, notes: Annotations):
        self.notes = notes
        self.loads: dict[tuple[int, str], str] = {}
        self.numeric_loads: set[str] = set()
        self.functions: dict[str, Callable] = {}
        self.nodes: list[ast.Node] = []
        self.uses_ctx = False
        self.bool_codes: set[str] = set()
        self._temps = 0

    # -- services for inline functions ------------------------------------------------------
    def ctx(self) -> str:
        self.uses_ctx = True
        return "ctx"

    def temp(self) -> str:
        self._temps += 1
        return f"t{self._temps}"

    def truth(self, code: str, t: ExprType) -> str:
        """Python truthiness equals Excel's for numbers, booleans and blank; ANY is checked."""
        return code if t.kind in NUMERIC or t.kind is Kind.BLANK else f"_truth({code})"

    def type_of(self, node: ast.Node) -> ExprType:
        return self.notes.types.get(id(node), ANY)

    # -- entry ------------------------------------------------------------------------------
    def generate(self, node: ast.Node) -> Generated:
        code = self.value(node)
        loads = [(var, level, key, var in self.numeric_loads) for (level, key), var in self.loads.items()]
        return Generated(code, loads, self.functions, self.nodes, self.uses_ctx)

    def _mark(self, node: ast.Node, code: str) -> str:
        self.nodes.append(node)
        return f"\x00{len(self.nodes) - 1}\x01{code}\x02"

    def value(self, node: ast.Node) -> str:
        """Code computing the node's value (blank = None)."""
        code = getattr(self, "_" + type(node).__name__)(node)
        if _is_bool(self, node):
            self.bool_codes.add(code)
        return code

    def is_bool(self, code: str) -> bool:
        """True if ``code`` (generated here) always yields a real bool, never None or a number."""
        return code in self.bool_codes

    def number(self, node: ast.Node) -> str:
        """Code computing the node as a number with blank = 0."""
        t = self.type_of(node)
        if isinstance(node, ast.Literal) and node.value is not None:
            return repr(node.value)
        if isinstance(node, ast.Name) and t.kind in NUMERIC:
            var = self._load(node)
            self.numeric_loads.add(var)
            return "n" + var[1:]
        code = self.value(node)
        if t.kind in NUMERIC and _never_blank(node):
            return code
        if t.kind in NUMERIC or t.kind is Kind.BLANK:
            tmp = self.temp()
            return f"(0 if ({tmp} := {code}) is None else {tmp})"
        return f"_num0({code})"

    # -- leaves -----------------------------------------------------------------------------
    def _Literal(self, node: ast.Literal) -> str:
        value = node.value
        if isinstance(value, str):
            return ascii(value)
        return repr(value)

    def _load(self, node: ast.Name) -> str:
        level = self.notes.levels.get(id(node), 0)
        key = (level, node.key)
        if key not in self.loads:
            self.loads[key] = f"v{len(self.loads)}"
        return self.loads[key]

    def _Name(self, node: ast.Name) -> str:
        return self._load(node)

    def _Path(self, node: ast.Path) -> str:
        head = self._load(ast.Name(node.parts[0], node.line, node.column))
        self.notes.levels.setdefault(id(node), 0)
        rest = node.parts[1:]
        hops = self.notes.record_hops.get(id(node), 0)
        for part in rest[:hops]:          # old.status: a field of one record
            head = f"_field({head}, {ascii(part)})"
        rest = rest[hops:]
        if not rest:
            return self._mark(node, head)
        if len(rest) == 1:
            return self._mark(node, f"_col({head}, {ascii(rest[0])})")
        return self._mark(node, f"_path({head}, {ascii(tuple(rest))})")

    # -- operators --------------------------------------------------------------------------
    def _Unary(self, node: ast.Unary) -> str:
        t = self.type_of(node.operand)
        if node.op == "NOT":
            return f"(not {self.truth(self.value(node.operand), t)})"
        if t.kind is Kind.ANY:
            helper = {"-": "_neg", "+": "_num0", "%": "_pct"}[node.op]
            return self._mark(node, f"{helper}({self.value(node.operand)})")
        operand = self.number(node.operand)
        return {"-": f"(-{operand})", "+": operand, "%": f"({operand} / 100)"}[node.op]

    def _Binary(self, node: ast.Binary) -> str:
        op = node.op
        if op in ("AND", "OR"):
            left = self.truth(self.value(node.left), self.type_of(node.left))
            right = self.truth(self.value(node.right), self.type_of(node.right))
            word = op.lower()
            if _is_bool(self, node.left) and _is_bool(self, node.right):
                return f"({left} {word} {right})"
            return f"(True if ({left}) {word} ({right}) else False)"
        if op == "&":
            return self._mark(node, self._concat(node))
        if op in _PY_OPS:
            return self._mark(node, self._compare(node))
        return self._mark(node, self._arith(node))

    def _arith(self, node: ast.Binary) -> str:
        lt, rt = self.type_of(node.left), self.type_of(node.right)
        fast = all(t.kind in NUMERIC or t.kind is Kind.BLANK for t in (lt, rt))
        if not fast:
            helper = {"+": "_add", "-": "_sub", "*": "_mul", "/": "_div", "^": "_pow"}[node.op]
            left, right = self.value(node.left), self.value(node.right)
            dates = (lt.kind in _DATES, rt.kind in _DATES)
            if node.op == "+" and any(dates):   # a blank date stays blank
                return f"_dadd({left}, {right})" if dates[0] else f"_dadd({right}, {left})"
            if node.op == "-" and dates[0]:
                return f"{'_ddiff' if dates[1] else '_dsubn'}({left}, {right})"
            return f"{helper}({left}, {right})"
        left, right = self.number(node.left), self.number(node.right)
        if node.op == "^":
            return f"_pow({left}, {right})"
        return f"({left} {node.op} {right})"

    def _compare(self, node: ast.Binary) -> str:
        lt, rt = self.type_of(node.left), self.type_of(node.right)
        py = _PY_OPS[node.op]
        if all(t.kind in NUMERIC or t.kind is Kind.BLANK for t in (lt, rt)):
            return f"({self.number(node.left)} {py} {self.number(node.right)})"
        if lt.kind is Kind.TEXT and rt.kind is Kind.TEXT:
            return f"({self._folded(node.left)} {py} {self._folded(node.right)})"
        left, right = self.value(node.left), self.value(node.right)
        if lt.kind is rt.kind and lt.kind in (Kind.DATE, Kind.DATETIME, Kind.ID):
            a, b = self.temp(), self.temp()
            # both walruses run (bitwise &) so the fallback sees both values
            return (f"(({a} {py} {b}) if (({a} := {left}) is not None) & (({b} := {right}) is not None) "
                    f"else _cmp({node.op!r}, {a}, {b}, {self.ctx()}))")
        return f"_cmp({node.op!r}, {left}, {right}, {self.ctx()})"

    def _folded(self, node: ast.Node) -> str:
        if isinstance(node, ast.Literal) and isinstance(node.value, str):
            return ascii(node.value.casefold())
        return f"({self.value(node)} or '').casefold()"

    def _concat(self, node: ast.Binary) -> str:
        parts: list[ast.Node] = []
        stack = [node]
        while stack:   # flatten a & b & c into one call (left-associative chain)
            current = stack.pop()
            if isinstance(current, ast.Binary) and current.op == "&":
                stack.extend((current.right, current.left))
            else:
                parts.append(current)
        return "_cap(" + " + ".join(self._text_part(p) for p in parts) + ")"

    def _text_part(self, node: ast.Node) -> str:
        if isinstance(node, ast.Literal) and node.value is not None:
            return ascii(node.value if isinstance(node.value, str) else format_number(node.value))
        if self.type_of(node).kind is Kind.TEXT:
            return f"({self.value(node)} or '')"
        return f"_text({self.value(node)})"

    # -- calls ------------------------------------------------------------------------------
    def _Call(self, node: ast.Call) -> str:
        spec = FUNCTIONS.get(node.name)
        types = [self.type_of(a) for a in node.args]
        codes = [self.argument(spec, i, arg) for i, arg in enumerate(node.args)]
        if spec.inline is not None:
            return self._mark(node, spec.inline(codes, types, self))
        ref = f"F{len(self.functions)}"
        self.functions[ref] = spec.impl
        if spec.context:
            codes.insert(0, self.ctx())
        return self._mark(node, f"{ref}({', '.join(codes)})")

    def argument(self, spec: FunctionSpec, index: int, arg: ast.Node) -> str:
        """Code for one argument, converted to what the parameter promises the function."""
        param = spec.param_for(index)
        t = self.type_of(arg)
        want = param.type.kind if param else Kind.ANY
        if want is Kind.LIST:
            if isinstance(arg, ast.Path) and t.kind is Kind.LIST:
                return self.value(arg)
            if t.is_list or t.kind is Kind.ANY:
                return f"_list({self.value(arg)})"
            return f"[{self.value(arg)}]"
        if want is Kind.TEXT:
            if isinstance(arg, ast.Literal) and isinstance(arg.value, str):
                return self.value(arg)
            return f"_text({self.value(arg)})"
        if want is Kind.NUMBER and t.kind is Kind.ANY:
            return f"_num({self.value(arg)})"
        if want is Kind.BOOLEAN and t.kind is Kind.ANY:
            return f"_truth({self.value(arg)})"
        if want is Kind.DATE and t.kind is not Kind.DATE:
            return f"_date({self.value(arg)}, {self.ctx()})"
        if want is Kind.DATETIME and t.kind is not Kind.DATETIME:
            return f"_datetime({self.value(arg)}, {self.ctx()})"
        return self.value(arg)


def _never_blank(node: ast.Node) -> bool:
    """Operators always produce a value (functions may return blank)."""
    if isinstance(node, ast.Literal):
        return node.value is not None
    return isinstance(node, (ast.Binary, ast.Unary))


def _is_bool(gen: CodeGen, node: ast.Node) -> bool:
    """True when the node's code always yields a real bool (never None or a number)."""
    if isinstance(node, ast.Literal):
        return isinstance(node.value, bool)
    if isinstance(node, ast.Binary):
        return node.op in _PY_OPS or node.op in ("AND", "OR")
    if isinstance(node, ast.Unary):
        return node.op == "NOT"
    return isinstance(node, ast.Call) and node.name in ("ISBLANK", "AND", "OR", "NOT", "CONTAINS")


def strip_markers(code: str) -> tuple[str, list[tuple[int, int, int]]]:
    """Remove node markers; return the clean code and spans (start, end, node index)."""
    out: list[str] = []
    spans: list[tuple[int, int, int]] = []
    stack: list[tuple[int, int]] = []
    length, last = 0, 0
    for m in _MARK.finditer(code):
        chunk = code[last:m.start()]
        out.append(chunk)
        length += len(chunk)
        last = m.end()
        if m.group(1) is not None:
            stack.append((length, int(m.group(1))))
        else:
            start, index = stack.pop()
            spans.append((start, length, index))
    out.append(code[last:])
    return "".join(out), spans
