"""The portal's answer form for one flow task: the step's editable fields as inputs (sub-table rows
and files included, which the internal task page does not offer), and the submitted form turned
back into field values.

Nothing here decides who may change what: the values go to ``flow_actions.act`` which accepts
only the step's editable fields, for the task's assignee.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any, Mapping

from engine.definitions.model import FieldDef

#: field type → the input the page draws (types not listed are shown read-only)
INPUTS = {"text": "text", "textarea": "textarea", "number": "number", "select": "select", "radio": "select",
          "date": "date", "datetime": "datetime", "boolean": "boolean", "email": "text", "phone": "text",
          "url": "text"}
FILE_TYPES = ("attachment", "image")
BLANK_ROWS = 2                  # empty rows offered under a sub-table's existing ones
MAX_ROWS = 50


def input_kind(f: FieldDef) -> str | None:
    """How the page edits the field: an INPUTS kind, "subtable", "files", or None (read-only)."""
    if f.type == "subtable":
        return "subtable" if all(input_kind(c) in INPUTS.values() for c in f.fields) else None
    if f.type in FILE_TYPES:
        return "files"
    return INPUTS.get(f.type)


def step_fields(form_fields, node, record_data: Mapping[str, Any]) -> tuple[list[dict], list[dict]]:
    """(editable, context): the step's editable fields with their input kind and value, and the
    other visible fields that have a value (read-only context for the supplier)."""
    editable, context = [], []
    for f in form_fields:
        mode = node.permission(f.key)
        if mode == "hidden":
            continue
        value = record_data.get(f.key)
        kind = input_kind(f) if mode == "editable" else None
        if kind is not None:
            rows = list(value or []) if kind == "subtable" else None
            editable.append({"field": f, "kind": kind, "value": value, "rows": rows,
                             "blank_rows": range(len(rows or []), len(rows or []) + BLANK_ROWS)})
        elif f.type != "formula" and value not in (None, "", []):
            context.append({"field": f, "value": value})
    return editable, context


def browser_zone(offset: str | None) -> tzinfo:
    """The zone of the browser (minutes east of UTC, sent by the page), else UTC."""
    try:
        minutes = int(offset or "")
    except ValueError:
        return timezone.utc
    return timezone(timedelta(minutes=minutes)) if -16 * 60 <= minutes <= 16 * 60 else timezone.utc


def _parsed(kind: str, raw: str | None, tz: tzinfo) -> Any:
    """One submitted value: None when blank, an aware datetime for a datetime input (in the
    browser's zone unless it carries its own offset), else the text for the engine to check."""
    raw = (raw or "").strip()
    if raw == "":
        return None
    if kind == "boolean":
        return {"true": True, "false": False}.get(raw, raw)
    if kind == "datetime":
        try:
            local = datetime.fromisoformat(raw)
        except ValueError:
            return raw              # the engine names the bad value
        return local if local.tzinfo else local.replace(tzinfo=tz)
    return raw


def _scalar(kind: str, raw: str | None, tz: tzinfo) -> Any:
    value = _parsed(kind, raw, tz)
    return value.isoformat() if isinstance(value, datetime) else value


def _rows(item: dict, form: Mapping[str, str], tz: tzinfo) -> list[dict]:
    """The sub-table as submitted: kept rows (with their id) and filled new rows; blank rows dropped."""
    f, out = item["field"], []
    for i in range(MAX_ROWS + BLANK_ROWS):
        prefix = f"sub_{f.key}_{i}_"
        if not any(name.startswith(prefix) for name in form):
            continue
        row = {c.key: _scalar(INPUTS[c.type], form.get(prefix + c.key), tz) for c in f.fields}
        if all(v is None for v in row.values()):
            continue
        row_id = (form.get(prefix + "id") or "").strip()
        if row_id.isdigit():
            row["id"] = int(row_id)
        out.append(row)
    return out


def submitted(editable: list[dict], form: Mapping[str, str], tz: tzinfo) -> dict:
    """The changed values of the step's fields (files are added by the caller)."""
    data: dict = {}
    for item in editable:
        f, kind = item["field"], item["kind"]
        if kind == "files":
            continue
        if kind == "subtable":
            # the full list of rows (kept ones by id): the engine writes only what really changed
            if any(name.startswith(f"sub_{f.key}_") for name in form):
                data[f.key] = _rows(item, form, tz)
            continue
        if "field_" + f.key not in form:
            continue
        value = _parsed(kind, form.get("field_" + f.key), tz)
        if value != _parsed(kind, form.get("was_" + f.key), tz):      # untouched inputs are not sent
            data[f.key] = value.isoformat() if isinstance(value, datetime) else value
    return data


def input_value(kind: str, value: Any) -> str:
    """A stored value as an input's ``value`` attribute."""
    if value is None:
        return ""
    if kind == "datetime":      # in UTC; the page's script shows it in the browser's zone
        try:
            parsed = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        except ValueError:
            return str(value)
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(timezone.utc)
        return parsed.strftime("%Y-%m-%dT%H:%M")
    if kind == "boolean":
        return "true" if value is True else "false" if value is False else str(value)
    if kind == "number" and isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
