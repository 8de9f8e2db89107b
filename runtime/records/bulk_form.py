"""What the bulk edit / bulk delete pages need besides the engine: the selection carried from the
list (``id:version`` values, so a record changed since it was shown is reported stale), the
fields offered with the input each needs, and the submitted input turned into the JSON value the
record services take. The pages work without JavaScript: each step is a plain form.

Which fields may be set at all is decided by :func:`engine.services.bulk.editable_fields`
(not computed, not a sub-table or file, not read-only or hidden for this user); this module only
leaves out fields that are never shown (``visible: false``).
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any, Iterable, Mapping
from zoneinfo import ZoneInfo

from engine.access import FormAccess
from engine.definitions.model import FieldDef, FormDef
from engine.fields.number import precision_of
from engine.i18n import label_text
from engine.services import bulk as bulk_service

MAX_SELECTED = 500          # a list page shows at most 200 rows; more is not a selection from it
INPUTS = {"text": "text", "barcode": "text", "textarea": "textarea", "number": "number", "date": "date",
          "datetime": "datetime", "select": "select", "radio": "select", "multiselect": "checkboxes",
          "boolean": "boolean", "user": "people", "department": "people", "reference": "reference"}


def parse_selection(values: Iterable[str]) -> tuple[list[int], dict[int, int]]:
    """(ids in order, versions seen) from ``id:version`` (or ``id``) values; malformed ones are dropped."""
    ids: list[int] = []
    versions: dict[int, int] = {}
    seen: set[int] = set()
    for raw in values:
        head, _, tail = str(raw).strip().partition(":")
        if not head.isdigit() or int(head) < 1 or (tail and not tail.isdigit()) or len(ids) >= MAX_SELECTED:
            continue
        record_id = int(head)
        if record_id in seen:
            continue
        seen.add(record_id)
        ids.append(record_id)
        if tail:
            versions[record_id] = int(tail)
    return ids, versions


def selection_values(ids: list[int], versions: Mapping[int, int]) -> list[str]:
    """The selection as the hidden ``ids`` inputs of the next step."""
    return [f"{i}:{versions[i]}" if i in versions else str(i) for i in ids]


def safe_back(text: str | None, list_url: str) -> str:
    """Where "back" goes: the list page the selection came from (its filters kept), never elsewhere."""
    if text and (text == list_url or text.startswith(list_url + "?")) and "//" not in text and "\\" not in text:
        return text
    return list_url


def offered_fields(form: FormDef, granted: FormAccess) -> list[FieldDef]:
    """Fields the bulk edit page offers this user."""
    return [f for f in bulk_service.editable_fields(form, granted) if f.type in INPUTS and f.visible is not False]


def field_input(f: FieldDef, lang: str, users: list[dict], departments: list[dict]) -> dict[str, Any]:
    """What the template needs to draw the value input of ``f``."""
    view: dict[str, Any] = {"key": f.key, "label": label_text(f.label, lang), "kind": INPUTS[f.type],
                            "multiple": bool(f.option("multiple", False)) or f.type == "multiselect", "choices": []}
    if f.type in ("select", "radio", "multiselect"):
        view["choices"] = [(str(c.get("code")), label_text(c.get("label"), lang) or str(c.get("code")))
                           for c in f.option("choices", ()) or () if isinstance(c, Mapping)]
    elif f.type == "user":
        view["choices"] = [(str(u["id"]), u["name"] or u["email"]) for u in users]
    elif f.type == "department":
        view["choices"] = [(str(d["id"]), label_text(d["name"], lang) or d["key"]) for d in departments]
    elif f.type == "number":
        precision = precision_of(f)
        view["step"] = "1" if precision == 0 else "any"
        view["unit"] = f.option("unit") or ""
    if isinstance(f.max_length, int) and not isinstance(f.max_length, bool):
        view["maxlength"] = f.max_length
    return view


def value_from(f: FieldDef, form: Any, tz: tzinfo) -> Any:
    """The submitted ``value`` (a request form: ``get``/``getlist``) as the JSON value of ``f``;
    blank means "clear the field". Bad input is passed on for the engine to name."""
    kind = INPUTS[f.type]
    if kind == "checkboxes" or (kind == "people" and f.option("multiple", False)):
        return [v for v in form.getlist("value") if v.strip()]
    raw = (form.get("value") or "").strip()
    if raw == "":
        return None
    if kind == "boolean":
        return {"true": True, "false": False}.get(raw, raw)
    if kind == "datetime":
        return _aware(raw, tz)
    return raw


def _aware(raw: str, tz: tzinfo) -> str:
    """A ``datetime-local`` value (no zone) in the user's zone, as ISO 8601 with offset."""
    try:
        local = datetime.fromisoformat(raw)
    except ValueError:
        return raw
    return (local if local.tzinfo else local.replace(tzinfo=tz)).isoformat()


def user_zone(offset: str | None, fallback: str | None) -> tzinfo:
    """The browser's zone (minutes east of UTC, sent by the page's script), else the tenant's."""
    try:
        minutes = int(offset or "")
        if -16 * 60 <= minutes <= 16 * 60:
            return timezone(timedelta(minutes=minutes))
    except ValueError:
        pass
    try:
        return ZoneInfo(fallback) if fallback else timezone.utc
    except (ValueError, KeyError, OSError):
        return timezone.utc
