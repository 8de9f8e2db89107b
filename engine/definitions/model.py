"""Frozen dataclasses the rest of the engine consumes instead of raw definition dicts.

Built by :func:`engine.definitions.load_form` / ``load_app`` after validation; never build
them from unchecked input. ``to_dict()`` gives back the JSON form (round-trip safe).

A property that "may be a constant or an expression" (required, default, readonly, visible,
min, max, min_length, max_length, pattern) holds either a plain value or an :class:`Expr`.
In JSON an expression is written ``{"expr": "lot_size > 500"}``.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping, Union

from engine.i18n import Msg


@dataclass(frozen=True)
class Expr:
    """An expression-valued property."""

    source: str

    def to_json(self) -> dict:
        return {"expr": self.source}


Prop = Union[Any, Expr]


def label_from(data: Mapping[str, str] | None) -> Msg | None:
    if data is None:
        return None
    return Msg(data.get("zh-CN") or data.get("en") or "", data.get("en") or data.get("zh-CN") or "")


@dataclass(frozen=True)
class ValidationRule:
    """``expr`` must be true (or blank) for the value to be valid; otherwise ``message``."""

    expr: str
    message: Msg


@dataclass(frozen=True)
class FieldDef:
    """One field of a form or of a sub-table.

    ``options`` holds the type-specific properties (``precision``, ``unit``, ``choices``,
    ``form``, ``formula``, ``pattern`` of a serial …) as a read-only mapping (lists become
    tuples); options with a schema default are always present. Loading adds derived options:
    a formula's ``result_type`` (ExprType), a lookup's ``result_type`` and ``target`` (the
    target FieldDef) when the target form is known. ``fields`` holds the columns of a
    sub-table (which may contain sub-tables again). Constant ``default``/``min``/``max`` are
    Python values of the field's type (a date field's ``min`` is a ``datetime.date``).
    """

    key: str
    type: str
    label: Msg
    required: Prop = False
    default: Prop = None
    readonly: Prop = False
    visible: Prop = True
    min: Prop = None
    max: Prop = None
    min_length: Prop = None
    max_length: Prop = None
    pattern: Prop = None
    validations: tuple[ValidationRule, ...] = ()
    help: Msg | None = None
    indexed: bool = False
    options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    fields: tuple["FieldDef", ...] = ()

    def option(self, name: str, default: Any = None) -> Any:
        return self.options.get(name, default)

    def field(self, key: str) -> "FieldDef | None":
        """A sub-table column by key."""
        for f in self.fields:
            if f.key == key:
                return f
        return None

    def shown_as(self) -> "FieldDef":
        """The field whose type decides how a value shows: a lookup's target field (the supplier
        contact a lookup copies is a user; a looked-up status is an option code), else itself."""
        found: FieldDef = self
        for _ in range(8):          # a lookup of a lookup…; loaded forms have no cycles
            target = found.option("target") if found.type == "lookup" else None
            if not isinstance(target, FieldDef):
                return found
            found = target
        return found


@dataclass(frozen=True)
class PrintDef:
    """A print template of a form: Jinja2 HTML rendered to PDF (see :mod:`engine.printing`)."""

    key: str
    label: Msg
    template: str
    paper: str = "A4"                     # "A4" | "A4-landscape" | "Letter"


@dataclass(frozen=True)
class FormDef:
    """A form definition. ``version`` is the published version number (0 = draft)."""

    key: str
    label: Msg
    fields: tuple[FieldDef, ...]
    title_template: str | None = None
    numbering: str | None = None          # pattern such as "NCR-{YYYY}-{0000}" for serial_no
    layout: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    description: Msg | None = None
    version: int = 0
    format: int = 1
    raw: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}), compare=False, repr=False)

    def field(self, key: str) -> FieldDef | None:
        for f in self.fields:
            if f.key == key:
                return f
        return None

    def field_at(self, dotted: str) -> FieldDef | None:
        """A field by its path through sub-tables (``items.code``), or None."""
        fields, found = self.fields, None
        for key in dotted.split("."):
            found = next((f for f in fields if f.key == key), None)
            if found is None:
                return None
            fields = found.fields
        return found

    def to_dict(self) -> dict:
        """The JSON definition this was loaded from (after format upgrades), as a fresh copy."""
        return copy.deepcopy(dict(self.raw))

    @property
    def prints(self) -> tuple[PrintDef, ...]:
        """The form's print templates, read from the definition (``raw`` carries them through
        ``to_dict`` and publishing, so no builder change is needed); malformed entries are skipped."""
        items = self.raw.get("prints")
        return tuple(PrintDef(p["key"], label_from(p.get("label")) or Msg(p["key"], p["key"]), p["template"],
                              p.get("paper") or "A4")
                     for p in items if isinstance(p, Mapping) and isinstance(p.get("key"), str)
                     and isinstance(p.get("template"), str)) if isinstance(items, (list, tuple)) else ()


@dataclass(frozen=True)
class AppPackage:
    """An app package: forms (and later flows, rules, reports, dashboards, roles)."""

    key: str
    label: Msg
    version: str
    forms: tuple[FormDef, ...]
    description: Msg | None = None
    format: int = 1
    raw: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}), compare=False, repr=False)
    # Slots that later issues give a full shape; for now read-only mappings with key and label.
    flows: tuple[Mapping[str, Any], ...] = ()
    rules: tuple[Mapping[str, Any], ...] = ()
    reports: tuple[Mapping[str, Any], ...] = ()
    dashboards: tuple[Mapping[str, Any], ...] = ()
    roles: tuple[Mapping[str, Any], ...] = ()

    def form(self, key: str) -> FormDef | None:
        for f in self.forms:
            if f.key == key:
                return f
        return None
