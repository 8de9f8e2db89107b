"""AST of the expression language: small frozen dataclasses, each with a 1-based position.

The parser builds these from user text; the checker and the code generator only ever read
them. Operators are normalised (``==``→``=``, ``<>``→``!=``, ``&&``→``AND``, ``||``→``OR``,
``!``→``NOT``) so later stages see one spelling.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, Union

BINARY_OPS = ("+", "-", "*", "/", "^", "&", "=", "!=", "<", "<=", ">", ">=", "AND", "OR")
UNARY_OPS = ("-", "+", "NOT", "%")


@dataclass(frozen=True)
class Literal:
    """A constant: int, float, str, bool, or None (blank)."""

    value: int | float | str | bool | None
    line: int = field(default=1, compare=False)
    column: int = field(default=1, compare=False)


@dataclass(frozen=True)
class Name:
    """A field reference by key (case-sensitive)."""

    key: str
    line: int = field(default=1, compare=False)
    column: int = field(default=1, compare=False)


@dataclass(frozen=True)
class Path:
    """A dotted path into sub-tables: ``items.qty``, ``lots.readings.value``."""

    parts: tuple[str, ...]
    line: int = field(default=1, compare=False)
    column: int = field(default=1, compare=False)


@dataclass(frozen=True)
class Unary:
    """A prefix ``-``/``+``/``NOT`` or the postfix ``%``."""

    op: str
    operand: "Node"
    line: int = field(default=1, compare=False)
    column: int = field(default=1, compare=False)


@dataclass(frozen=True)
class Binary:
    """An infix operator with normalised ``op`` (one of :data:`BINARY_OPS`)."""

    op: str
    left: "Node"
    right: "Node"
    line: int = field(default=1, compare=False)
    column: int = field(default=1, compare=False)


@dataclass(frozen=True)
class Call:
    """A function call; ``name`` is upper-case (function names are case-insensitive)."""

    name: str
    args: tuple["Node", ...] = ()
    line: int = field(default=1, compare=False)
    column: int = field(default=1, compare=False)


Node = Union[Literal, Name, Path, Unary, Binary, Call]


def children(node: Node) -> tuple[Node, ...]:
    """Direct sub-nodes of ``node``."""
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, Call):
        return node.args
    return ()


def walk(node: Node) -> Iterator[Node]:
    """Every node of the tree, parents before children (iterative: deep trees are safe)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(children(current)))


def depth(node: Node) -> int:
    """Height of the tree (a single literal has depth 1), computed without recursion."""
    best = 0
    stack = [(node, 1)]
    while stack:
        current, level = stack.pop()
        best = max(best, level)
        stack.extend((child, level + 1) for child in children(current))
    return best
