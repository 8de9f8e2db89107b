"""What changed between a published definition and a draft, as a readable list (pure, no database).

:func:`diff` compares two definition dicts of one kind and returns changes
``{kind: added|removed|changed, what, path, label, detail}`` with labels and details in the
user's language. Forms are compared here: fields by key path at any sub-table depth
(``items.qty``; a field moved between the form and a sub-table is removed + added), each
property of a field, options by code, field order, layout sections and form properties.
Flows, rules, reports and dashboards are compared in :mod:`engine.services.design_diff_defs`.
The draft need not be valid: anything malformed is compared as far as it can be.
"""
from __future__ import annotations

from typing import Any, Mapping

from engine.fields import FIELD_TYPES
from engine.i18n import Msg, label_text
from engine.services.design_diff_defs import definition_changes
from engine.services.design_text import arrow, change, name, show

FORM_PROPS = ("label", "description", "numbering", "title_template", "prints")
SECTION_PROPS = ("label", "columns", "collapsed")
FIELD_DEFAULTS = {"required": False, "readonly": False, "visible": True, "indexed": False}


def diff(kind: str, old: Mapping | None, new: Mapping, lang: str = "zh-CN") -> list[dict]:
    """Changes from ``old`` (None: nothing published, everything is added) to ``new``."""
    old = old if isinstance(old, Mapping) else {}
    new = new if isinstance(new, Mapping) else {}
    if kind == "form":
        return form_changes(old, new, lang)
    return definition_changes(kind, old, new, lang)


# ---------------------------------------------------------------------------- forms

def field_index(fields: Any, prefix: str = "") -> dict[str, dict]:
    """Every field dict by key path (``items.qty``), parents before their columns."""
    out: dict[str, dict] = {}
    for raw in fields if isinstance(fields, list) else ():
        if isinstance(raw, dict) and isinstance(raw.get("key"), str):
            path = prefix + raw["key"]
            out.setdefault(path, raw)
            if isinstance(raw.get("fields"), list):
                out.update({k: v for k, v in field_index(raw["fields"], path + ".").items() if k not in out})
    return out


def type_name(kind: Any, lang: str) -> str:
    if isinstance(kind, str) and kind in FIELD_TYPES.keys():
        return FIELD_TYPES.get(kind).label.get(lang)
    return str(kind)


def form_changes(old: Mapping, new: Mapping, lang: str) -> list[dict]:
    olds, news = field_index(old.get("fields")), field_index(new.get("fields"))
    out: list[dict] = []
    for path, raw in news.items():
        if path not in olds:
            out.append(change("added", "field", path, _label(raw, path, lang),
                              f"{name('type', lang)}: {type_name(raw.get('type'), lang)}"))
    for path, raw in olds.items():
        if path not in news:
            out.append(change("removed", "field", path, _label(raw, path, lang),
                              f"{name('type', lang)}: {type_name(raw.get('type'), lang)}"))
    for path, raw in news.items():
        if path in olds:
            out.extend(_field_changes(path, olds[path], raw, lang))
    if old:
        out.extend(_order_changes(old, new, olds, news, lang))
    out.extend(_form_props(old, new, lang))
    out.extend(_section_changes(old.get("layout"), new.get("layout"), news, lang))
    return out


def _label(raw: Mapping, fallback: str, lang: str) -> str:
    return label_text(raw.get("label"), lang) if isinstance(raw.get("label"), Mapping) else fallback


def _field_changes(path: str, old: Mapping, new: Mapping, lang: str) -> list[dict]:
    label = _label(new, path, lang)
    out = []
    for prop in _props(old, new, skip=("key", "fields")):
        a, b = old.get(prop, FIELD_DEFAULTS.get(prop)), new.get(prop, FIELD_DEFAULTS.get(prop))
        if a == b:
            continue
        if prop == "choices":
            out.extend(_option_changes(path, label, a, b, lang))
        elif prop == "type":
            out.append(change("changed", "property", path, label,
                              f"{name('type', lang)}: {type_name(a, lang)} → {type_name(b, lang)}"))
        else:
            out.append(change("changed", "property", path, label, arrow(prop, a, b, lang)))
    return out


def _props(old: Mapping, new: Mapping, skip: tuple = ()) -> list[str]:
    names = [k for k in new if k not in skip]
    return names + [k for k in old if k not in new and k not in skip]


def _option_changes(path: str, label: str, old: Any, new: Any, lang: str) -> list[dict]:
    def by_code(items):
        return {c["code"]: c for c in items if isinstance(c, Mapping) and isinstance(c.get("code"), str)} \
            if isinstance(items, list) else {}
    a, b = by_code(old), by_code(new)
    out = []
    for code, opt in b.items():
        if code not in a:
            out.append(change("added", "option", f"{path}:{code}", label,
                              Msg("新增选项：", "option added: ").get(lang) + show(opt, lang)))
    for code, opt in a.items():
        if code not in b:
            out.append(change("removed", "option", f"{path}:{code}", label,
                              Msg("删除选项：", "option removed: ").get(lang) + show(opt, lang)))
    for code, opt in b.items():
        if code in a and a[code] != opt:
            out.append(change("changed", "option", f"{path}:{code}", label,
                              Msg("选项 {c}：", "option {c}: ").format(c=code).get(lang) + show(a[code], lang)
                              + " → " + show(opt, lang)))
    if not out and list(a) != list(b):
        out.append(change("changed", "option", path, label, Msg("选项顺序已调整", "option order changed").get(lang)))
    return out


def _order_changes(old: Mapping, new: Mapping, olds: dict, news: dict, lang: str) -> list[dict]:
    """One change per field list (the form, each sub-table) whose kept fields changed order."""
    out = []
    parents = [("", old.get("fields"), new.get("fields"))]
    parents += [(p, olds[p].get("fields"), raw.get("fields")) for p, raw in news.items()
                if p in olds and isinstance(raw.get("fields"), list)]
    for path, a, b in parents:
        keys_a = [f.get("key") for f in a or () if isinstance(f, Mapping)]
        keys_b = [f.get("key") for f in b or () if isinstance(f, Mapping)]
        kept = set(keys_a) & set(keys_b)
        if [k for k in keys_a if k in kept] != [k for k in keys_b if k in kept]:
            label = _label(news[path], path, lang) if path else label_text(new.get("label"), lang)
            out.append(change("changed", "property", path or "fields", label,
                              Msg("字段顺序已调整", "field order changed").get(lang)))
    return out


def _form_props(old: Mapping, new: Mapping, lang: str) -> list[dict]:
    if not old:
        return []               # a new form: its fields are the news
    label = label_text(new.get("label"), lang) if isinstance(new.get("label"), Mapping) else ""
    out = []
    for prop in FORM_PROPS:
        a, b = old.get(prop), new.get(prop)
        if a == b:
            continue
        kind = "added" if a is None else "removed" if b is None else "changed"
        out.append(change(kind, "property", prop, label,
                          arrow(prop, a, b, lang) if prop != "prints" else name(prop, lang)))
    return out


def _sections(layout: Any) -> dict[str, Mapping]:
    items = layout.get("sections") if isinstance(layout, Mapping) else None
    return {s["key"]: s for s in items or () if isinstance(s, Mapping) and isinstance(s.get("key"), str)} \
        if isinstance(items, list) else {}


def _section_changes(old: Any, new: Any, news: dict, lang: str) -> list[dict]:
    a, b = _sections(old), _sections(new)
    out = []

    def label(s: Mapping, key: str) -> str:
        return label_text(s.get("label"), lang) if isinstance(s.get("label"), Mapping) else key

    def field_names(keys) -> str:
        return ", ".join(_label(news.get(k, {}), k, lang) for k in keys)

    for key, s in b.items():
        if key not in a:
            out.append(change("added", "section", f"layout.{key}", label(s, key),
                              f"{name('fields', lang)}: {field_names(s.get('fields') or ())}"))
    for key, s in a.items():
        if key not in b:
            out.append(change("removed", "section", f"layout.{key}", label(s, key),
                              Msg("分组中的字段移到表单末尾", "its fields move to the end of the form").get(lang)))
    for key, s in b.items():
        if key not in a:
            continue
        parts = [arrow(p, a[key].get(p), s.get(p), lang) for p in SECTION_PROPS if a[key].get(p) != s.get(p)]
        was, now = list(a[key].get("fields") or ()), list(s.get("fields") or ())
        if set(now) - set(was):
            parts.append(Msg("移入：", "moved in: ").get(lang) + field_names([k for k in now if k not in was]))
        if set(was) - set(now):
            parts.append(Msg("移出：", "moved out: ").get(lang) + field_names([k for k in was if k not in now]))
        if not (set(now) ^ set(was)) and was != now:
            parts.append(Msg("字段顺序已调整", "field order changed").get(lang))
        if parts:
            out.append(change("changed", "section", f"layout.{key}", label(s, key), "; ".join(parts)))
    if list(a) != list(b) and set(a) == set(b):
        out.append(change("changed", "section", "layout", "", Msg("分组顺序已调整", "section order changed").get(lang)))
    return out
