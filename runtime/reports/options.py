"""What a filter bar offers for one field: the date fields a date range can apply to, and the
choices of a field filter (a choice field's options, the titles of the records a reference field
may point to that the viewer can read, else free text).

Everything here is computed from the viewer's view of the form (hidden fields are never offered)
and handed to the page as JSON; the page's script builds the inputs from it.
"""
from __future__ import annotations

from typing import Mapping

from engine.definitions.model import FormDef
from engine.errors import NotFound
from engine.reports.paths import SYSTEM_COLUMNS, FieldRef, PathError, resolve
from engine.services import records as record_service
from runtime.i18n import label

CHOICE_TYPES = ("select", "radio")
TEXT_TYPES = ("text", "barcode", "serial")
DATE_TYPES = ("date", "datetime")
MAX_REFERENCE_OPTIONS = 300        # a select longer than this is no help; the list says it was cut


def date_fields(form: FormDef) -> list[dict]:
    """``[{"path", "label"}]``: the form's date and date-time fields, then created/updated at."""
    out = [{"path": f.key, "label": label(f.label)} for f in form.fields if f.type in DATE_TYPES]
    for key in ("created_at", "updated_at"):
        out.append({"path": key, "label": label(SYSTEM_COLUMNS[key][1])})
    return out


def field_filters(session, actor, form: FormDef, forms: Mapping[str, FormDef]) -> list[dict]:
    """The fields a report page's field filter offers, each with its operator and options."""
    out = []
    for f in form.fields:
        if f.type in CHOICE_TYPES or f.type == "reference":
            found = options_for(session, actor, f.key, form, forms)
            if found is not None:
                out.append({"path": f.key, "label": label(f.label), "op": "=", **found})
        elif f.type in TEXT_TYPES:
            out.append({"path": f.key, "label": label(f.label), "op": "contains", "options": None})
    return out


def options_for(session, actor, path: str, form: FormDef, forms: Mapping[str, FormDef]) -> dict | None:
    """``{"options": [{"value", "label"}] | None, "truncated"}`` for the field at ``path`` (None
    when the path does not resolve in ``form``; options None: type a value)."""
    try:
        ref = resolve(path, form, forms)
    except PathError:
        return None
    if ref.choices:
        return {"options": [{"value": code, "label": label(text)} for code, text in ref.choices.items()],
                "truncated": False}
    if ref.field is not None and ref.field.type == "reference" and ref.via is None:
        return _reference_options(session, actor, ref)
    return {"options": None, "truncated": False}


def _reference_options(session, actor, ref: FieldRef) -> dict:
    target = ref.field.option("form")
    try:
        page = record_service.query_records(session, actor, target, per_page=MAX_REFERENCE_OPTIONS)
    except NotFound:
        return {"options": None, "truncated": False}
    options = [{"value": r.id, "label": r.title or r.serial_no or f"#{r.id}"} for r in page.items]
    options.sort(key=lambda o: str(o["label"]).lower())
    return {"options": options, "truncated": page.total is None or page.total > len(options)}
