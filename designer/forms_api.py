"""The form designer's palette: every registered field type, built from ``engine.fields.FIELD_TYPES``.

The browser hard-codes no list of types: what a type is called, where it sits in the palette,
which options it has (its JSON Schema fragment, with the shared ``common.schema.json`` references
inlined so the page can read it without a resolver) and which common constraints make sense for
it all come from the type's own class. A new field type registered in the engine therefore
appears in the designer with no change here.

``GET /designer/api/field-types`` →
``{"items": [{type, label:{zh-CN,en}, group, options_schema, required_options, supports,
is_subtable, is_computed, icon}], "groups": [{key, label}], "max_subtable_depth": n,
"key_pattern": regex, "reserved_keys": [...]}`` (keys a field may not take: system columns and
expression keywords, from ``engine.definitions.identifiers``).
The editor page can embed the same object (``palette()``) as ``config.extra.field_types``.
"""
from __future__ import annotations

import copy
from typing import Any

from flask import jsonify

from designer.blueprint import bp
from engine.definitions.checks import MAX_SUBTABLE_DEPTH
from engine.definitions.identifiers import EXPRESSION_KEYWORDS, IDENTIFIER_PATTERN, SYSTEM_COLUMNS
from engine.definitions.schema import load_schema
from engine.fields import FIELD_TYPES
from engine.fields.base import FieldType
from runtime.auth import login_required

# Palette groups in display order; a group a new type declares but not listed here goes last,
# labelled by its key.
GROUPS: tuple[tuple[str, str, str], ...] = (
    ("basic", "基础字段", "Basic"),
    ("choice", "选项", "Choices"),
    ("people", "人员与部门", "People"),
    ("media", "文件与图片", "Files and images"),
    ("advanced", "高级", "Advanced"),
    ("layout", "布局", "Layout"),
)
# A glyph shown in the palette next to the label: decoration only, a default when unknown. Plain
# symbols (no emoji): they must render with the fonts a bare Linux desktop has.
ICONS = {"text": "T", "textarea": "¶", "number": "#", "date": "◫", "datetime": "◷", "select": "▾",
         "multiselect": "☑", "radio": "◉", "boolean": "✓", "user": "☺", "department": "⌂",
         "attachment": "⊡", "image": "▣", "signature": "✍", "barcode": "▥", "serial": "№",
         "reference": "↗", "lookup": "⇢", "subtable": "▦", "formula": "ƒ"}
DEFAULT_ICON = "▢"
_COMMON_PREFIX = "common.schema.json#/$defs/"


def _inline_refs(node: Any, defs: dict) -> Any:
    """``node`` with every ``{"$ref": "common.schema.json#/$defs/x"}`` replaced by that definition."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(_COMMON_PREFIX) and ref[len(_COMMON_PREFIX):] in defs:
            merged = copy.deepcopy(defs[ref[len(_COMMON_PREFIX):]])
            merged.update({k: _inline_refs(v, defs) for k, v in node.items() if k != "$ref"})
            return merged
        return {k: _inline_refs(v, defs) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline_refs(item, defs) for item in node]
    return node


def palette_item(kind: FieldType, defs: dict) -> dict:
    """What the designer needs to know about one field type."""
    return {
        "type": kind.type,
        "label": {"zh-CN": kind.label.zh, "en": kind.label.en},
        "group": kind.group,
        "options_schema": _inline_refs(kind.options_schema, defs),
        "required_options": list(kind.required_options),
        "supports": sorted(kind.supports),
        "is_subtable": bool(kind.is_subtable),
        "is_computed": bool(kind.is_computed),
        "icon": ICONS.get(kind.type, DEFAULT_ICON),
    }


def palette() -> dict:
    """The whole palette: every registered field type (registry order) and the groups in use."""
    defs = load_schema("common.schema.json").get("$defs", {})
    items = [palette_item(FIELD_TYPES.get(key), defs) for key in FIELD_TYPES.keys()]
    used = {item["group"] for item in items}
    known = [g for g, _, _ in GROUPS]
    groups = [{"key": g, "label": {"zh-CN": zh, "en": en}} for g, zh, en in GROUPS if g in used]
    groups += [{"key": g, "label": {"zh-CN": g, "en": g}} for g in sorted(used) if g not in known]
    return {"items": items, "groups": groups, "max_subtable_depth": MAX_SUBTABLE_DEPTH,
            "key_pattern": IDENTIFIER_PATTERN, "reserved_keys": sorted(SYSTEM_COLUMNS | EXPRESSION_KEYWORDS)}


@bp.get("/api/field-types")
@login_required
def field_types():
    """The palette of the form designer (see module docstring)."""
    return jsonify(palette())
