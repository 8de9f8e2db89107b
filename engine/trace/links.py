"""The reference fields of a tenant's forms as :class:`Link` values (pure, no I/O).

A link is one reference column somewhere in a form — top level or in a sub-table at any
depth — pointing at another (or the same) form. Backward tracing reads a record's links;
forward tracing asks, for a form, every link that targets it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

from engine.definitions.model import FieldDef, FormDef
from engine.i18n import Msg


@dataclass(frozen=True)
class Link:
    """Reference column ``column`` of form ``source`` (sub-table ``path``; () = the form itself) → ``target``."""

    source: str
    path: tuple[str, ...]
    column: str
    target: str
    label: Msg

    @property
    def field_path(self) -> str:
        """``materials.material_lot`` for a sub-table column, ``customer`` for a top-level one."""
        return ".".join(self.path + (self.column,))

    def hidden_by(self, hidden: Iterable[str]) -> bool:
        """Whether a field the reader may not see lies on this link's path (the sub-table or the column).

        Hidden-field rules name field keys; a hidden sub-table hides its columns, and a key
        that matches a column deep inside is taken as hiding it too (the cautious reading).
        """
        hidden = set(hidden)
        return any(part in hidden for part in self.path + (self.column,))


def reference_links(forms: Mapping[str, FormDef], has_column=None) -> list[Link]:
    """Every reference field of ``forms`` whose target form is among them, in a stable order.

    ``has_column(form_key, path, column)``: whether storage holds that column (a field added to
    the definition always has one; the check keeps a broken layout from producing bad SQL).
    """
    out: list[Link] = []
    for key in sorted(forms):
        for path, f in reference_fields(forms[key]):
            target = f.option("form")
            if not isinstance(target, str) or target not in forms:
                continue
            if has_column is not None and not has_column(key, path, f.key):
                continue
            out.append(Link(key, path, f.key, target, f.label))
    return out


def reference_fields(form: FormDef) -> list[tuple[tuple[str, ...], FieldDef]]:
    """(sub-table path, field) of every reference field of ``form``, at any depth, in form order."""
    return list(_reference_fields(form.fields, ()))


def _reference_fields(fields: Iterable[FieldDef], path: tuple[str, ...]):
    for f in fields:
        if f.type == "subtable":
            yield from _reference_fields(f.fields, path + (f.key,))
        elif f.type == "reference":
            yield path, f


def links_from(links: Iterable[Link], form_key: str) -> list[Link]:
    """The links whose reference fields belong to ``form_key``."""
    return [link for link in links if link.source == form_key]


def links_to(links: Iterable[Link], form_key: str) -> list[Link]:
    """The links that point at records of ``form_key``."""
    return [link for link in links if link.target == form_key]
