"""The contract every field type implements (one class per type, registered once).

A field type declares: its ``type`` key (lower_snake, never renamed once released), bilingual
label, palette group, JSON Schema fragment for its type-specific properties, and a handful
of methods with safe defaults:

* ``expr_type(field, ctx=None)`` – its type in the expression language
* ``storage(field, ctx=None)``   – how storage keeps it: a :class:`Column` description or None
* ``coerce(field, value)``   – JSON input → Python value (blank → None), or raise
  :class:`InvalidValue` (a ValueError whose ``args[0]``/``message`` is a bilingual Msg)
* ``to_json(field, value)``  – Python value → JSON output
* ``check(field, ctx)``      – extra semantic checks of the definition, yielding Problems
* ``is_blank(value)``        – what counts as empty for "required"
* ``json_schema(field, lang)`` – a JSON Schema (Draft 2020-12) of the field's JSON value, for
  the OpenAPI document; types override ``value_schema`` (the base allows any value)

Storage stays out of this layer: a type says *what* it stores (:class:`StorageKind` with
length/precision), and ``engine.storage`` maps that to SQLAlchemy column types.
"""
from __future__ import annotations

from dataclasses import dataclass, field as dc_field
from enum import Enum
from typing import Any, Callable, ClassVar, Iterable, Mapping

from engine.errors import Problem
from engine.i18n import Msg, msg

# JSON Schema references usable inside ``options_schema`` (resolved against the shipped
# ``common.schema.json`` next to ``field.schema.json``).
LABEL_REF = {"$ref": "common.schema.json#/$defs/label"}
IDENTIFIER_REF = {"$ref": "common.schema.json#/$defs/identifier"}


class StorageKind(str, Enum):
    TEXT = "text"            # VARCHAR(length) or TEXT when length is None
    INTEGER = "integer"      # BIGINT
    DECIMAL = "decimal"      # NUMERIC(precision, scale); values are floats in Python
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"    # timezone-aware, stored in UTC
    JSON = "json"            # lists/objects: multiselect, files, signature


@dataclass(frozen=True)
class Column:
    """What a scalar field needs from storage. Widening order: see engine.storage."""

    kind: StorageKind
    length: int | None = None       # TEXT
    precision: int | None = None    # DECIMAL total digits
    scale: int | None = None        # DECIMAL digits after the point


class InvalidValue(ValueError):
    """A value a field type cannot accept; ``args[0]`` / ``message`` is a bilingual :class:`Msg`."""

    def __init__(self, message: Msg):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message.en


def invalid(zh: str, en: str, **kwargs: Any) -> InvalidValue:
    """Build an :class:`InvalidValue` (``raise invalid("…{v}", "…{v}", v=value)``)."""
    return InvalidValue(msg(zh, en, **kwargs))


def shown(value: Any, limit: int = 40) -> str:
    """A short printable form of user input for messages (long input is cut)."""
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class FieldContext:
    """What a field type may need beyond the field itself; every part is optional.

    ``forms``: other forms by key (``FormDef``); None means "not known", and cross-form checks
    are skipped. ``fields``: the fields visible from this field (its own level first, then the
    enclosing levels), by key. ``scope``: the expression scope the field lives in (formulas).
    ``resolve(form_key, field_key)``: the expression type of a field of another form (handles
    chains of lookups and formulas), or None when unknown.
    """

    path: str = "$"
    forms: Mapping[str, Any] | None = None
    fields: Mapping[str, Any] = dc_field(default_factory=dict)
    scope: Any = None
    resolve: Callable[[str, str], Any] | None = None
    depth: int = 0                      # sub-table nesting level (0 = the form itself)


class FieldType:
    """Base class; subclasses override what differs. See module docstring for the contract.

    ``required_options`` lists option names the definition must give; ``supports`` lists which
    common constraints make sense for the type: ``"range"`` (min/max), ``"length"``
    (min_length/max_length), ``"pattern"`` (a regular expression). ``expr_type``/``storage``
    accept an optional :class:`FieldContext` (needed by lookup and formula only).
    """

    type: ClassVar[str] = ""
    label: ClassVar[Msg] = Msg("", "")
    group: ClassVar[str] = "basic"          # palette group: basic, choice, people, media, advanced, layout
    options_schema: ClassVar[dict] = {}     # JSON Schema "properties" for type-specific options
    is_subtable: ClassVar[bool] = False     # sub-table: its columns are FieldDef.fields, own child table
    is_computed: ClassVar[bool] = False     # formula/lookup/serial: value is produced, never accepted from input
    required_options: ClassVar[tuple[str, ...]] = ()
    supports: ClassVar[frozenset[str]] = frozenset()

    def expr_type(self, field: Any, ctx: FieldContext | None = None) -> Any:
        from engine.expressions.types import ANY
        return ANY

    def storage(self, field: Any, ctx: FieldContext | None = None) -> Column | None:
        return Column(StorageKind.TEXT)

    def coerce(self, field: Any, value: Any) -> Any:
        return value

    def to_json(self, field: Any, value: Any) -> Any:
        return value

    def is_blank(self, value: Any) -> bool:
        return value is None or value == "" or value == [] or value == {}

    def check(self, field: Any, ctx: Any) -> Iterable[Problem]:
        return ()

    def value_schema(self, field: Any) -> dict:
        """JSON Schema of a non-blank JSON value of this type (safe default: any value)."""
        return {}

    def json_schema(self, field: Any, lang: str | None = "en") -> dict:
        """JSON Schema of the field's JSON value: ``value_schema`` plus blank (null), labels and help.

        ``title``/``description`` are in ``lang``; ``x-label-zh``/``x-label-en`` carry both.
        Computed types (formula, lookup, serial) are ``readOnly``: input for them is ignored.
        """
        schema = nullable(self.value_schema(field))
        label = getattr(field, "label", None)
        if isinstance(label, Msg):
            schema.update({"title": label.get(lang), "x-label-zh": label.zh, "x-label-en": label.en})
        help_text = getattr(field, "help", None)
        if isinstance(help_text, Msg):
            schema["description"] = help_text.get(lang)
        if self.is_computed:
            schema["readOnly"] = True
        return schema


def nullable(schema: dict) -> dict:
    """A copy of ``schema`` that also accepts null (a blank value)."""
    schema = dict(schema)
    if not schema:
        return schema
    kind = schema.get("type")
    if isinstance(kind, str) and kind != "null":
        schema["type"] = [kind, "null"]
    elif isinstance(kind, list) and "null" not in kind:
        schema["type"] = [*kind, "null"]
    if "enum" in schema and None not in schema["enum"]:
        schema["enum"] = [*schema["enum"], None]
    if kind is None and "anyOf" in schema:
        schema["anyOf"] = [*schema["anyOf"], {"type": "null"}]
    return schema
