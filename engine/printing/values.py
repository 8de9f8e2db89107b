"""Stored record values → the text a printed report shows (option labels, names, local times).

``names`` is anything with ``users`` ({id: name}), ``departments`` ({id: {"zh-CN", "en"}}) and
``titles`` ({(form_key, id): title}) — :class:`engine.services.names.Names` in practice (passed in,
not imported: services sit above this package).
"""
from __future__ import annotations

from datetime import date, datetime, timezone, tzinfo
from decimal import Decimal
from typing import Any, Mapping

from engine.definitions.model import FieldDef
from engine.i18n import label_text

FILE_TYPES = frozenset({"attachment", "image", "signature"})
PEOPLE_TYPES = frozenset({"user", "department", "reference"})


def choice_label(f: FieldDef, code: Any, lang: str) -> str:
    """The label of one option code (the code itself when the option is unknown)."""
    for choice in f.option("choices", ()) or ():
        if choice.get("code") == code:
            return label_text(choice.get("label"), lang) or str(code)
    return str(code)


def named(f: FieldDef, value: Any, names: Any, lang: str) -> str:
    """The name of a user/department id or the title of a referenced record (``#id`` if unknown)."""
    if f.type == "user":
        found = (getattr(names, "users", None) or {}).get(value)
    elif f.type == "department":
        found = label_text((getattr(names, "departments", None) or {}).get(value), lang) or None
    else:
        found = (getattr(names, "titles", None) or {}).get((f.option("form"), value))
    return found or f"#{value}"


def local_time(value: Any, tz: tzinfo | None) -> str:
    """A datetime (or ISO text) as ``YYYY-MM-DD HH:MM`` in ``tz`` (UTC when naive or no tz given)."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if not isinstance(value, datetime):
        return "" if value is None else str(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(tz or timezone.utc).strftime("%Y-%m-%d %H:%M")


def number(f: FieldDef, value: Any) -> str:
    """A number with the field's precision and unit."""
    precision = f.option("precision")
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool) and isinstance(precision, int):
        text = f"{value:.{precision}f}"
    else:
        text = str(value)
    unit = f.option("unit")
    return f"{text} {unit}" if unit else text


def display(f: FieldDef, value: Any, names: Any, lang: str, tz: tzinfo | None = None) -> str:
    """One stored value (JSON form) as print text; sub-tables are shown by :func:`rows_of`."""
    if value is None or value == "" or value == []:
        return ""
    f = f.shown_as()
    if f.type in PEOPLE_TYPES:
        return ", ".join(named(f, v, names, lang) for v in (value if isinstance(value, list) else [value]))
    if f.type in ("select", "radio") or (f.type == "formula" and f.option("choices")):
        return choice_label(f, value, lang)
    if f.type == "multiselect" and isinstance(value, list):
        return ", ".join(choice_label(f, v, lang) for v in value)
    if f.type == "boolean" or isinstance(value, bool):
        return ("Yes" if value else "No") if lang == "en" else ("是" if value else "否")
    if f.type in FILE_TYPES and isinstance(value, list):
        return ", ".join(str(v.get("name") or f"#{v.get('id')}") for v in value if isinstance(v, Mapping))
    if f.type in ("number", "formula") and isinstance(value, (int, float, Decimal)):
        return number(f, value)
    if f.type == "datetime" or isinstance(value, datetime):
        return local_time(value, tz)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)


def rows_of(f: FieldDef, value: Any, names: Any, lang: str, tz: tzinfo | None = None) -> list[dict]:
    """A sub-table's rows as display dicts (nested sub-tables become lists of dicts again)."""
    out = []
    for row in value if isinstance(value, list) else []:
        if not isinstance(row, Mapping):
            continue
        shown: dict[str, Any] = {}
        for column in f.fields:
            cell = row.get(column.key)
            shown[column.key] = rows_of(column, cell, names, lang, tz) if column.type == "subtable" \
                else display(column, cell, names, lang, tz)
        out.append(shown)
    return out
