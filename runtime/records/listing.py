"""The list page's query: request arguments → a filter EXPRESSION, a sort key and a page.

Filters are written in the expression language and handed to ``records.query_records``, so
the list obeys the same checking, read scope and hidden-field rules as the API. Field keys
come only from the published definition (never from the request); every user-typed value
becomes a quoted string literal (escaped with the language's own rules) or a number/date
rebuilt from parsed values — user text is never pasted into the expression as code.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Mapping

from engine.definitions.model import FieldDef, FormDef

TEXT_TYPES = frozenset({"text", "textarea", "barcode", "serial"})
CHOICE_TYPES = frozenset({"select", "radio"})
RANGE_TYPES = frozenset({"number", "date", "datetime"})
SHOWN_SYSTEM = ("serial_no", "title", "created_at", "updated_at")
SORT_SYSTEM = ("id", "serial_no", "title", "created_at", "updated_at")
PER_PAGE_CHOICES = (20, 50, 100, 200)
MAX_TEXT = 200


def quote(text: str) -> str:
    """A string literal of the expression language holding exactly ``text``.

    Backslashes and double quotes are escaped (``\\\\`` and ``\\"``), so no input can end the
    literal early: ``") OR TRUE OR ("`` stays a piece of text to look for.
    """
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def number_literal(text: str) -> str | None:
    """A finite number typed by the user, rebuilt as a literal (None when it is not one)."""
    try:
        value = float(text.strip().replace(",", ""))
    except (ValueError, AttributeError):
        return None
    if not math.isfinite(value):
        return None
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


def date_value(text: str) -> date | None:
    try:
        day = date.fromisoformat(text.strip()[:10])
    except (ValueError, AttributeError):
        return None
    return day if 1 < day.year < 9999 else None


def date_literal(day: date) -> str:
    return f"DATE({day.year}, {day.month}, {day.day})"


def filter_kind(f: FieldDef) -> str | None:
    """How the list filters a field: contains / equals / boolean / number / date / datetime."""
    if f.type in TEXT_TYPES:
        return "contains"
    if f.type in CHOICE_TYPES:
        return "equals"
    if f.type == "boolean":
        return "boolean"
    if f.type in RANGE_TYPES:
        return f.type
    return None


@dataclass
class ListQuery:
    """What the list shows: filter values by field, search text, sort, page."""

    filters: dict[str, str] = field(default_factory=dict)   # arg name → value (only known fields)
    search: str = ""
    sort: str = "-id"
    page: int = 1
    per_page: int = 50

    def args(self, **override) -> dict[str, str | int]:
        """URL arguments reproducing this query (with ``override``), for links and exports."""
        out: dict[str, str | int] = dict(self.filters)
        if self.search:
            out["q"] = self.search
        out.update(sort=self.sort, page=self.page, per_page=self.per_page)
        out.update(override)
        return {k: v for k, v in out.items() if v not in ("", None)}


def filterable(form: FormDef, hidden: frozenset[str]) -> list[tuple[FieldDef, str]]:
    """(field, kind) of every top-level field the reader may filter on."""
    return [(f, kind) for f in form.fields if f.key not in hidden and (kind := filter_kind(f)) is not None]


def sortable(form: FormDef, hidden: frozenset[str]) -> set[str]:
    """Keys the list may sort on: scalar stored fields and system columns."""
    keys = {f.key for f in form.fields if f.key not in hidden and _scalar(f)}
    return keys | set(SORT_SYSTEM)


def _scalar(f: FieldDef) -> bool:
    return f.type in TEXT_TYPES | CHOICE_TYPES | RANGE_TYPES | {"boolean", "reference", "user", "department"}


def parse_query(args: Mapping[str, str], form: FormDef, hidden: frozenset[str]) -> ListQuery:
    """The ListQuery from request arguments; unknown names and bad values are dropped."""
    query = ListQuery(search=(args.get("q") or "").strip()[:MAX_TEXT])
    for f, kind in filterable(form, hidden):
        names = (f"f_{f.key}_from", f"f_{f.key}_to") if kind in RANGE_TYPES else (f"f_{f.key}",)
        for name in names:
            value = (args.get(name) or "").strip()[:MAX_TEXT]
            if value:
                query.filters[name] = value
    for name in ("created_at_from", "created_at_to"):
        if date_value(args.get(name) or "") is not None:
            query.filters[name] = str(date_value(args[name]))
    sort = args.get("sort") or "-id"
    query.sort = sort if sort.lstrip("-") in sortable(form, hidden) else "-id"
    query.page = _int(args.get("page"), 1, 1, 10**9)
    per_page = _int(args.get("per_page"), 50, 1, 500)
    query.per_page = per_page if per_page in PER_PAGE_CHOICES else 50
    return query


def _int(text, default: int, low: int, high: int) -> int:
    try:
        return min(max(int(text), low), high)
    except (TypeError, ValueError):
        return default


def build_filter(query: ListQuery, form: FormDef, hidden: frozenset[str]) -> str | None:
    """The filter expression of the query (AND of every condition), or None for no filter."""
    terms: list[str] = []
    for f, kind in filterable(form, hidden):
        terms += _field_terms(f.key, kind, query.filters, {c["code"] for c in f.option("choices", ()) or ()})
    terms += _range_terms("created_at", "datetime", query.filters.get("created_at_from"),
                          query.filters.get("created_at_to"))
    if query.search:
        keys = [f.key for f in form.fields if f.type in TEXT_TYPES and f.key not in hidden]
        needle = quote(query.search)
        terms.append("OR(" + ", ".join(f"CONTAINS({k}, {needle})" for k in keys + ["serial_no", "title"]) + ")")
    return " AND ".join(f"({t})" for t in terms) or None


def _field_terms(key: str, kind: str, values: Mapping[str, str], codes: set) -> list[str]:
    if kind == "contains" and values.get(f"f_{key}"):
        return [f"CONTAINS({key}, {quote(values[f'f_{key}'])})"]
    if kind == "equals" and values.get(f"f_{key}"):
        value = values[f"f_{key}"]
        return [f"{key} = {quote(value)}"] if value in codes else ["FALSE"]
    if kind == "boolean" and values.get(f"f_{key}") in ("true", "false"):
        return [f"{key} = {values[f'f_{key}'].upper()}"]
    if kind in RANGE_TYPES:
        return _range_terms(key, kind, values.get(f"f_{key}_from"), values.get(f"f_{key}_to"))
    return []


def _range_terms(key: str, kind: str, low: str | None, high: str | None) -> list[str]:
    """``from``/``to`` bounds (both inclusive; a datetime's ``to`` day is included whole).

    A blank value never matches a range (the language would treat it as 0 / earliest date).
    """
    terms = []
    if kind == "number":
        low, high = number_literal(low or ""), number_literal(high or "")
        terms += [f"{key} >= {low}"] if low else []
        terms += [f"{key} <= {high}"] if high else []
    else:
        start, end = date_value(low or ""), date_value(high or "")
        terms += [f"{key} >= {date_literal(start)}"] if start else []
        if end and kind == "datetime":
            terms.append(f"{key} < {date_literal(end + timedelta(days=1))}")
        elif end:
            terms.append(f"{key} <= {date_literal(end)}")
    return [f"NOT(ISBLANK({key}))"] + terms if terms else []
