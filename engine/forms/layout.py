"""Form page sections: the ``layout.sections`` of a form as lists of its top-level FieldDefs.

A section names top-level fields in display order and a column count (1–3 on wide screens; the
page shows one column on phones). Fields in no section follow in one trailing unnamed section,
in field order. Loaded definitions are checked (``check_layout``); for anything else (a draft in
the designer's preview) unknown keys and repeated fields are skipped here, so this never fails.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from engine.definitions.model import FieldDef, FormDef
from engine.i18n import Msg

DEFAULT_COLUMNS = 2


@dataclass(frozen=True)
class Section:
    """One section of the form page; ``key``/``label`` are None for the trailing unnamed section."""

    key: str | None
    label: Msg | None
    columns: int
    fields: list[FieldDef]
    collapsed: bool = False


def sections(form: FormDef, fields: Iterable[FieldDef] | None = None) -> list[Section]:
    """The form's sections in order, then one unnamed section of the fields no section names.

    ``fields`` (default: the form's top-level fields) limits what is placed — e.g. without the
    fields a user's role hides; empty sections are kept (their heading still shows). The
    unnamed section is left out when it is empty and there are named sections.
    """
    available = list(form.fields if fields is None else fields)
    by_key = {f.key: f for f in available}
    placed: set[str] = set()
    out: list[Section] = []
    for raw in _raw_sections(form.layout):
        members = []
        for key in raw.get("fields") or ():
            if isinstance(key, str) and key in by_key and key not in placed:
                placed.add(key)
                members.append(by_key[key])
        out.append(Section(key=str(raw.get("key") or f"section_{len(out) + 1}"), label=_label(raw.get("label")),
                           columns=_columns(raw.get("columns")), fields=members,
                           collapsed=raw.get("collapsed") is True))
    rest = [f for f in available if f.key not in placed]
    if rest or not out:
        out.append(Section(key=None, label=None, columns=DEFAULT_COLUMNS, fields=rest))
    return out


def _raw_sections(layout: Any) -> list[Mapping]:
    items = layout.get("sections") if isinstance(layout, Mapping) else None
    if not isinstance(items, (list, tuple)):
        return []
    return [s for s in items if isinstance(s, Mapping)]


def _columns(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 3 else DEFAULT_COLUMNS


def _label(value: Any) -> Msg | None:
    if not isinstance(value, Mapping):
        return None
    zh, en = value.get("zh-CN"), value.get("en")
    zh, en = zh if isinstance(zh, str) else "", en if isinstance(en, str) else ""
    return Msg(zh or en, en or zh)
