"""Stored event data (JSON) back to the typed values expressions work with.

An event keeps the record as JSON (it lives in the outbox until a job runs it); expressions need
dates as dates and numbers as numbers again. A value that no longer parses (the form changed
since) becomes blank rather than failing the whole run.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from engine.definitions.model import FieldDef, FormDef
from engine.fields import FIELD_TYPES
from engine.fields.dates import parse_date, parse_datetime

SYSTEM_DATETIMES = ("created_at", "updated_at")
SYSTEM_PLAIN = ("id", "serial_no", "title", "status", "flow_state", "created_by", "updated_by")


def _field_value(f: FieldDef, value: Any) -> Any:
    ftype = FIELD_TYPES.get(f.type) if f.type in FIELD_TYPES else None
    if ftype is None or value is None:
        return value
    if ftype.is_subtable:
        rows = value if isinstance(value, list) else []
        return [_row(f.fields, r) for r in rows if isinstance(r, dict)]
    try:
        return ftype.coerce(f, value)
    except Exception:  # noqa: BLE001 - a value the current definition no longer accepts is blank here
        return None


def _row(fields: Iterable[FieldDef], data: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"id": data["id"]} if "id" in data else {}
    for f in fields:
        if f.key in data:
            out[f.key] = _field_value(f, data[f.key])
    return out


def record_values(form: FormDef, data: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A record's JSON (its ``data`` merged with system values) → typed values by key."""
    if not isinstance(data, Mapping):
        return None
    fields = data.get("data") if isinstance(data.get("data"), Mapping) else data
    values = _row(form.fields, fields)
    for key in SYSTEM_PLAIN:
        if key in data and key not in values:
            values[key] = data[key]
    for key in SYSTEM_DATETIMES:
        if isinstance(data.get(key), str):
            try:
                values[key] = parse_datetime(data[key])
            except Exception:  # noqa: BLE001
                values[key] = None
    return values


def _at_path(payload: Any, path: str) -> Any:
    """``receipt.lines.0.qty`` → the value at that path of a JSON document (None when absent)."""
    current = payload
    for part in path.split("."):
        if isinstance(current, Mapping):
            current = current.get(part)
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return None
    return current


def _typed(kind: str, value: Any) -> Any:
    if value is None or value == "":
        return None
    try:
        if kind == "number":
            return value if isinstance(value, (int, float)) and not isinstance(value, bool) else float(str(value))
        if kind == "boolean":
            return value if isinstance(value, bool) else str(value).strip().lower() in ("1", "true", "yes", "y")
        if kind == "date":
            return parse_date(value)
        if kind == "datetime":
            return parse_datetime(value)
        if kind == "list":
            return [None if v is None else str(v) for v in value] if isinstance(value, list) else [str(value)]
        return value if isinstance(value, str) else str(value)
    except Exception:  # noqa: BLE001 - a malformed payload value is blank (the run log shows the payload)
        return None


def payload_values(fields: Iterable[Mapping[str, Any]], payload: Any) -> dict[str, Any]:
    """An inbound webhook body → the declared fields' typed values (``path`` defaults to the key)."""
    return {spec["key"]: _typed(spec["type"], _at_path(payload, spec.get("path") or spec["key"])) for spec in fields}


def missing_required(fields: Iterable[Mapping[str, Any]], payload: Any) -> list[str]:
    """Keys of declared ``required`` payload fields that are blank in ``payload``."""
    values = payload_values(fields, payload)
    return [spec["key"] for spec in fields if spec.get("required") and values.get(spec["key"]) in (None, "", [])]
