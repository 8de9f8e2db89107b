"""Raw definition dicts → the frozen dataclasses of :mod:`engine.definitions.model`.

``strict=True`` (used by ``load_form`` after every check passed) also turns constant
``default``/``min``/``max`` into Python values through the field type. ``strict=False`` builds
what it can from a definition that may be broken, for the semantic checks: unusable fields
(no string key, unknown type) are left out, odd values are kept as they are.
"""
from __future__ import annotations

import copy
from dataclasses import replace
from types import MappingProxyType
from typing import Any, Mapping

from engine.definitions.model import Expr, FieldDef, FormDef, ValidationRule
from engine.fields import FIELD_TYPES
from engine.i18n import Msg

EXPR_PROPS = ("required", "default", "readonly", "visible", "min", "max", "min_length", "max_length", "pattern")
_BOOL_DEFAULTS = {"required": False, "readonly": False, "visible": True}


def is_field_type(value: Any) -> bool:
    """Whether ``value`` names a registered field type (safe for any JSON value)."""
    return isinstance(value, str) and value in FIELD_TYPES


def freeze(value: Any) -> Any:
    """A read-only deep copy: dicts become mappings, lists tuples."""
    if isinstance(value, dict):
        return MappingProxyType({k: freeze(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v) for v in value)
    return value


def thaw(value: Any) -> Any:
    """The inverse of :func:`freeze`: read-only mappings and tuples as plain JSON data again."""
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [thaw(v) for v in value]
    return value


def msg_of(data: Any) -> Msg | None:
    """A bilingual label dict → Msg (missing language falls back to the other), else None."""
    if not isinstance(data, dict):
        return None
    zh, en = data.get("zh-CN"), data.get("en")
    zh, en = (zh if isinstance(zh, str) else ""), (en if isinstance(en, str) else "")
    return Msg(zh or en, en or zh)


def prop(value: Any) -> Any:
    """``{"expr": "…"}`` → Expr; anything else unchanged."""
    if isinstance(value, dict) and isinstance(value.get("expr"), str):
        return Expr(value["expr"])
    return value


def option_names(kind) -> list[str]:
    """The JSON keys that are options of field type ``kind`` (not structural ``fields``)."""
    return [name for name in kind.options_schema if name != "fields"]


def _options(kind, data: dict) -> Mapping[str, Any]:
    options: dict[str, Any] = {}
    for name, schema in kind.options_schema.items():
        if name in data:
            options[name] = freeze(data[name])
        elif isinstance(schema, dict) and "default" in schema:
            options[name] = schema["default"]
    return MappingProxyType(options)


def _constant(kind, field: FieldDef, name: str, value: Any) -> Any:
    """Strict mode: a constant default/min/max as the field type's Python value."""
    if value is None or isinstance(value, Expr):
        return value
    if name == "default" and not (kind.is_computed or kind.is_subtable):
        return kind.coerce(field, value)
    if name in ("min", "max") and "range" in kind.supports:
        return kind.coerce(field, value)
    return value


def build_field(data: Any, strict: bool = False) -> FieldDef | None:
    """One field dict → FieldDef, or None if it has no usable key/type."""
    if not isinstance(data, dict) or not isinstance(data.get("key"), str) or not is_field_type(data.get("type")):
        return None
    kind = FIELD_TYPES.get(data["type"])
    options = _options(kind, data)
    props = {name: prop(data[name]) for name in EXPR_PROPS if name in data and name not in options}
    for name, default in _BOOL_DEFAULTS.items():
        if props.get(name) is None:
            props[name] = default
    validations = tuple(
        ValidationRule(v["expr"], msg_of(v.get("message")) or Msg("", ""))
        for v in data.get("validations") or () if isinstance(v, dict) and isinstance(v.get("expr"), str)
    ) if isinstance(data.get("validations"), list) else ()
    children = data.get("fields") if kind.is_subtable and isinstance(data.get("fields"), list) else ()
    field = FieldDef(
        key=data["key"], type=data["type"], label=msg_of(data.get("label")) or Msg("", ""),
        validations=validations, help=msg_of(data.get("help")), indexed=data.get("indexed") is True,
        options=options, fields=build_fields(children, strict), **props)
    if strict:
        constants = {n: _constant(kind, field, n, getattr(field, n)) for n in ("default", "min", "max")}
        field = replace(field, **constants)
    return field


def build_fields(items: Any, strict: bool = False) -> tuple[FieldDef, ...]:
    """A list of field dicts → FieldDefs (unusable entries skipped)."""
    if not isinstance(items, list):
        return ()
    built = (build_field(item, strict) for item in items)
    return tuple(f for f in built if f is not None)


def build_form(data: dict, strict: bool = False) -> FormDef:
    """A form dict → FormDef (``raw`` keeps a private copy of ``data``)."""
    def text(name: str) -> str | None:
        return data[name] if isinstance(data.get(name), str) else None

    version = data.get("version")
    return FormDef(
        key=text("key") or "", label=msg_of(data.get("label")) or Msg("", ""),
        fields=build_fields(data.get("fields"), strict), title_template=text("title_template"),
        numbering=text("numbering"), layout=freeze(data["layout"]) if isinstance(data.get("layout"), dict)
        else MappingProxyType({}), description=msg_of(data.get("description")),
        version=version if isinstance(version, int) and not isinstance(version, bool) else 0,
        format=data["format"] if isinstance(data.get("format"), int) else 1,
        raw=MappingProxyType(copy.deepcopy(data)))
