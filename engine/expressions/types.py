"""Static types of the expression language and the scope an expression is checked against.

A form's fields become a :class:`Scope`: each field key maps to an :class:`ExprType`, and a
sub-table key maps to a nested :class:`Scope` (its columns). Inside a sub-table row (a formula
column, a row validation) the row's scope is used, with ``parent`` pointing at the enclosing
form or row, so names resolve to the row's columns first and then outward.

Runtime values: NUMBER int/float, TEXT str, BOOLEAN bool, DATE datetime.date, DATETIME an
aware datetime.datetime, ID int (a user, department or record id; ``tag`` says which),
FILE a list of file descriptors (opaque), LIST a Python list, ROWS a list of row dicts,
blank is ``None``.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Iterable, Mapping, Union


class Kind(str, Enum):
    NUMBER = "number"
    TEXT = "text"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    ID = "id"          # user / department / record id; ExprType.tag names which
    FILE = "file"      # attachments, images, signatures: only blank checks and counts
    LIST = "list"      # a list of scalars (a sub-table column, a multiselect)
    ROWS = "rows"      # a sub-table itself (list of rows)
    RECORD = "record"  # one nested record (a rule's ``old`` values): ``old.status`` is a value
    BLANK = "blank"    # the type of an empty value literal
    ANY = "any"        # unknown statically; checked at run time


@dataclass(frozen=True)
class ExprType:
    kind: Kind
    item: "ExprType | None" = None   # element type of a LIST
    tag: str | None = None           # for ID: "user", "department", "record:<form_key>"
    rows: "Scope | None" = None      # for ROWS: the sub-table's columns

    def __str__(self) -> str:
        if self.kind is Kind.LIST and self.item is not None:
            return f"list<{self.item}>"
        if self.kind is Kind.ID and self.tag:
            return f"id<{self.tag}>"
        return self.kind.value

    @property
    def is_list(self) -> bool:
        return self.kind in (Kind.LIST, Kind.ROWS)


NUMBER = ExprType(Kind.NUMBER)
TEXT = ExprType(Kind.TEXT)
BOOLEAN = ExprType(Kind.BOOLEAN)
DATE = ExprType(Kind.DATE)
DATETIME = ExprType(Kind.DATETIME)
FILE = ExprType(Kind.FILE)
BLANK = ExprType(Kind.BLANK)
ANY = ExprType(Kind.ANY)


def list_of(item: ExprType) -> ExprType:
    return ExprType(Kind.LIST, item=item)


def id_of(tag: str) -> ExprType:
    return ExprType(Kind.ID, tag=tag)


Member = Union[ExprType, "Scope"]


@dataclass(frozen=True)
class Scope:
    """Names visible to an expression. Hashable, so compiled expressions can be cached by it.

    ``fields`` is a tuple of (key, ExprType | Scope) pairs; a nested Scope is a sub-table.
    ``labels`` optionally maps keys to bilingual labels for messages and autocomplete.
    """

    fields: tuple[tuple[str, Member], ...] = ()
    parent: "Scope | None" = None
    labels: tuple[tuple[str, str, str], ...] = ()  # (key, zh, en)
    record: bool = False    # a nested Scope that is one record (``old.x``), not a sub-table's rows

    @classmethod
    def of(cls, fields: Mapping[str, Member] | Iterable[tuple[str, Member]] = (),
           parent: "Scope | None" = None) -> "Scope":
        items = fields.items() if isinstance(fields, Mapping) else fields
        return cls(tuple(items), parent)

    def lookup(self, key: str) -> Member | None:
        """The type of ``key`` here or in an enclosing scope (nearest wins), else None."""
        scope: Scope | None = self
        while scope is not None:
            for k, member in scope.fields:
                if k == key:
                    return member
            scope = scope.parent
        return None

    def keys(self) -> list[str]:
        return [k for k, _ in self.fields]


EMPTY_SCOPE = Scope()
