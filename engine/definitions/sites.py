"""What the semantic checks walk: every form and field of a (possibly broken) definition.

A :class:`Site` pairs a raw field dict and its JSON path with a leniently built FieldDef, so
each ``check_*`` function can report a precise path without re-walking the JSON itself.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Mapping

from engine.definitions.builder import build_field, build_form, is_field_type
from engine.definitions.model import FieldDef, FormDef
from engine.fields import FIELD_TYPES


@dataclass
class Site:
    """One field dict of a form, at any sub-table level."""

    path: str                              # "$.forms[0].fields[3]"
    raw: dict
    field: FieldDef | None                 # None when the key or type is unusable
    keys: tuple[str, ...]                  # key path: ("characteristics", "readings", "value")
    depth: int                             # 1 = a top-level field
    visible: Mapping[str, FieldDef]        # fields visible from here (own level first)


@dataclass
class FormSite:
    """One form dict: its path ("$" or "$.forms[2]"), a lenient FormDef and its field sites."""

    path: str
    raw: dict
    form: FormDef
    sites: list[Site] = field(default_factory=list)


@dataclass
class Checking:
    """Everything the checklist needs; ``known`` is None when other forms are unknown."""

    kind: str
    data: Any
    forms: list[FormSite]
    known: Mapping[str, FormDef | None] | None


def field_sites(items: Any, path: str, prefix: tuple[str, ...] = (), depth: int = 1,
                outer: Mapping[str, FieldDef] | None = None) -> Iterator[Site]:
    """Sites of a list of field dicts and, recursively, of their sub-tables."""
    if not isinstance(items, list):
        return
    built = [(i, item, build_field(item)) for i, item in enumerate(items) if isinstance(item, dict)]
    level: dict[str, FieldDef] = {}
    for _, _, f in built:
        if f is not None:
            level.setdefault(f.key, f)
    visible = {**(outer or {}), **level}
    for index, item, f in built:
        site_path = f"{path}.fields[{index}]"
        key = item.get("key") if isinstance(item.get("key"), str) else f"#{index}"
        yield Site(site_path, item, f, prefix + (key,), depth, visible)
        if is_field_type(item.get("type")) and FIELD_TYPES.get(item["type"]).is_subtable:
            yield from field_sites(item.get("fields"), site_path, prefix + (key,), depth + 1, visible)


def form_site(data: dict, path: str) -> FormSite:
    """A FormSite for one form dict."""
    return FormSite(path, data, build_form(data), list(field_sites(data.get("fields"), path)))


def normalise_known(known_forms: Any) -> dict[str, FormDef | None] | None:
    """``known_forms`` as {key: FormDef or None}: accepts a mapping (FormDef or dict values) or keys."""
    if known_forms is None:
        return None
    if isinstance(known_forms, Mapping):
        result: dict[str, FormDef | None] = {}
        for key, value in known_forms.items():
            if isinstance(value, dict):
                value = build_form(value)
            result[str(key)] = value if isinstance(value, FormDef) else None
        return result
    return {str(key): None for key in known_forms}


def first_by_key(sites: Iterable[FormSite]) -> dict[str, FormDef]:
    """Forms by key, the first of each key (duplicates are reported by a check)."""
    forms: dict[str, FormDef] = {}
    for site in sites:
        if isinstance(site.raw.get("key"), str):
            forms.setdefault(site.form.key, site.form)
    return forms


def build_checking(data: Any, kind: str, known_forms: Any) -> Checking:
    """Walk a definition (already upgraded) into a :class:`Checking`."""
    known = normalise_known(known_forms)
    if not isinstance(data, dict):
        return Checking(kind, data, [], known)
    if kind == "app":
        raw_forms = data.get("forms") if isinstance(data.get("forms"), list) else []
        sites = [form_site(f, f"$.forms[{i}]") for i, f in enumerate(raw_forms) if isinstance(f, dict)]
        known = {**(known or {}), **first_by_key(sites)}
    else:
        sites = [form_site(data, "$")]
        if known is not None:
            known = {**known, **first_by_key(sites)}
    return Checking(kind, data, sites, known)
