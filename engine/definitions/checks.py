"""Layer 2, part 1: structural semantic checks (keys, labels, duplicates, constants, types).

Each ``check_*`` takes a :class:`~engine.definitions.sites.Checking` and yields Problems. They
skip what the JSON Schema already reports (a value of the wrong JSON type, a key that does not
match the identifier pattern) so every mistake is reported exactly once.
"""
from __future__ import annotations

import re
from typing import Any, Iterable, Iterator

from engine.definitions.identifiers import IDENTIFIER, identifier_problem
from engine.definitions.paths import join
from engine.definitions.sites import Checking, Site
from engine.errors import Problem
from engine.fields import FIELD_TYPES
from engine.fields.base import FieldContext, InvalidValue
from engine.i18n import Msg, msg

MAX_SUBTABLE_DEPTH = 3
LABEL_KEYS = ("label", "description", "help", "message")
_NAMES = {"min": Msg("最小值", "min"), "max": Msg("最大值", "max"), "default": Msg("默认值", "default"),
          "min_length": Msg("最小长度", "min_length"), "max_length": Msg("最大长度", "max_length"),
          "pattern": Msg("格式（正则表达式）", "pattern")}
CONSTRAINT_SUPPORT = {"min": "range", "max": "range", "min_length": "length", "max_length": "length", "pattern": "pattern"}


def _is_expr(value: Any) -> bool:
    return isinstance(value, dict) and "expr" in value


def check_identifiers(checking: Checking) -> Iterator[Problem]:
    """1. App, form and field keys: not reserved, no ``__`` (the pattern itself is the schema's)."""
    keyed = [("$", checking.data)] if checking.kind == "app" and isinstance(checking.data, dict) else []
    keyed += [(f.path, f.raw) for f in checking.forms]
    keyed += [(s.path, s.raw) for f in checking.forms for s in f.sites]
    for path, raw in keyed:
        key = raw.get("key")
        if isinstance(key, str) and IDENTIFIER.match(key):
            problem = identifier_problem(key)
            if problem is not None:
                yield Problem(f"{path}.key", problem)


def check_labels(checking: Checking) -> Iterator[Problem]:
    """2. Every label/description/help/message has non-blank zh-CN and en text."""
    yield from blank_labels(checking.data, LABEL_KEYS)


def blank_labels(data: Any, keys: Iterable[str], skip: Iterable[str] = ()) -> Iterator[Problem]:
    """A problem for every bilingual text under one of ``keys`` (anywhere in ``data``, not below a
    key in ``skip``) whose zh-CN or en text is blank."""
    keys, skip = frozenset(keys), frozenset(skip)
    stack: list[tuple[str, Any]] = [("$", data)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, list):
            stack.extend((f"{path}[{i}]", item) for i, item in enumerate(node))
        elif isinstance(node, dict):
            for name, value in node.items():
                if name in keys and isinstance(value, dict):
                    yield from _blank_languages(join(path, name), value)
                elif isinstance(value, (dict, list)) and isinstance(name, str) and name not in skip:
                    stack.append((join(path, name), value))


def _blank_languages(path: str, label: dict) -> Iterator[Problem]:
    for lang, name in (("zh-CN", Msg("中文", "Chinese")), ("en", Msg("英文", "English"))):
        text = label.get(lang)
        if isinstance(text, str) and not text.strip():
            yield Problem(join(path, lang), msg("{l}文本不能为空", "The {e} text must not be empty", l=name.zh, e=name.en))


def check_duplicate_forms(checking: Checking) -> Iterator[Problem]:
    """3. Form keys are unique within an app."""
    seen: dict[str, str] = {}
    for form in checking.forms:
        key = form.raw.get("key")
        if isinstance(key, str):
            if key in seen:
                yield Problem(f"{form.path}.key", msg("表单键“{k}”重复（与 {p} 相同）",
                                                      "The form key '{k}' is used twice (also at {p})", k=key, p=seen[key]))
            seen.setdefault(key, form.path)


def check_duplicate_fields(checking: Checking) -> Iterator[Problem]:
    """4. Field keys are unique within a form and within each sub-table."""
    for form in checking.forms:
        seen: dict[tuple, str] = {}
        for site in form.sites:
            key = site.raw.get("key")
            if not isinstance(key, str):
                continue
            level = (site.keys[:-1], key)
            if level in seen:
                yield Problem(f"{site.path}.key", msg("字段键“{k}”重复（与 {p} 相同）",
                                                      "The field key '{k}' is used twice (also at {p})",
                                                      k=key, p=seen[level]))
            seen.setdefault(level, site.path)


def check_nesting_depth(checking: Checking) -> Iterator[Problem]:
    """5. Sub-tables nest at most three levels deep."""
    for form in checking.forms:
        for site in form.sites:
            if site.raw.get("type") == "subtable" and site.depth > MAX_SUBTABLE_DEPTH:
                yield Problem(site.path, msg("子表最多嵌套 {n} 层，这里是第 {d} 层",
                                             "Sub-tables nest at most {n} levels; this is level {d}",
                                             n=MAX_SUBTABLE_DEPTH, d=site.depth))


def check_field_types(checking: Checking) -> Iterator[Problem]:
    """6. Each field type's own checks (option codes, serial pattern, reference, lookup, rows)."""
    for form in checking.forms:
        for site in form.sites:
            if site.field is not None:
                ctx = FieldContext(path=site.path, forms=checking.known, fields=site.visible, depth=site.depth)
                yield from FIELD_TYPES.get(site.field.type).check(site.field, ctx)


def check_constants(checking: Checking) -> Iterator[Problem]:
    """7. Constant default/min/max fit the type; min ≤ max; lengths ordered; regex compiles."""
    for form in checking.forms:
        for site in form.sites:
            if site.field is not None:
                yield from _site_constants(site)


def _site_constants(site: Site) -> Iterator[Problem]:
    kind = FIELD_TYPES.get(site.field.type)
    values: dict[str, Any] = {}
    for name, need in CONSTRAINT_SUPPORT.items():
        if name == "pattern" and "pattern" in kind.options_schema:
            continue        # a serial's pattern is its numbering rule, checked by the type
        if site.raw.get(name) is not None and need not in kind.supports:
            yield Problem(f"{site.path}.{name}", Msg(f"“{kind.label.zh}”类型的字段不能设置{_NAMES[name].zh}",
                                                     f"A {kind.label.en} field cannot have {_NAMES[name].en}"))
        elif not _is_expr(site.raw.get(name)) and site.raw.get(name) is not None:
            try:
                values[name] = _constant(kind, site, name, site.raw[name])
            except InvalidValue as exc:
                yield Problem(f"{site.path}.{name}", _prefixed(name, exc.message))
    yield from _ordered(site, values, "min", "max")
    yield from _ordered(site, values, "min_length", "max_length")
    yield from _default(site, kind)


def _constant(kind, site: Site, name: str, value: Any) -> Any:
    if name in ("min", "max"):
        return kind.coerce(site.field, value)
    if name == "pattern":
        try:
            re.compile(value)
        except (re.error, TypeError, ValueError, OverflowError, RecursionError) as exc:
            raise InvalidValue(msg("正则表达式无效：{e}", "Invalid regular expression: {e}", e=str(exc))) from None
    return value


def _prefixed(name: str, text: Msg) -> Msg:
    return Msg(f"{_NAMES[name].zh}无效：{text.zh}", f"Invalid {_NAMES[name].en}: {text.en}")


def _ordered(site: Site, values: dict, low: str, high: str) -> Iterator[Problem]:
    a, b = values.get(low), values.get(high)
    try:
        wrong = a is not None and b is not None and a > b
    except TypeError:
        wrong = False
    if wrong:
        yield Problem(f"{site.path}.{low}", msg("{ln}（{a}）大于{hn}（{b}）", "{le} ({a}) is greater than {he} ({b})",
                                                ln=_NAMES[low].zh, hn=_NAMES[high].zh, le=_NAMES[low].en,
                                                he=_NAMES[high].en, a=site.raw[low], b=site.raw[high]))


def _default(site: Site, kind) -> Iterator[Problem]:
    value = site.raw.get("default")
    if value is None:
        return
    if kind.is_computed or kind.is_subtable:
        yield Problem(f"{site.path}.default", Msg(f"“{kind.label.zh}”类型的字段不能设置默认值",
                                                  f"A {kind.label.en} field cannot have a default"))
        return
    if _is_expr(value):
        return
    try:
        kind.coerce(site.field, value)
    except InvalidValue as exc:
        yield Problem(f"{site.path}.default", _prefixed("default", exc.message))


def check_layout(checking: Checking) -> Iterator[Problem]:
    """12. Layout sections: unique keys; each names existing top-level fields, each field in one section."""
    for form in checking.forms:
        layout = form.raw.get("layout")
        sections = layout.get("sections") if isinstance(layout, dict) else None
        if not isinstance(sections, list):
            continue
        top = {f.get("key") for f in form.raw.get("fields") or () if isinstance(f, dict)}
        keys: dict[str, int] = {}
        placed: dict[str, int] = {}
        for i, section in enumerate(sections):
            if not isinstance(section, dict):
                continue
            path = f"{form.path}.layout.sections[{i}]"
            key = section.get("key")
            if isinstance(key, str):
                if key in keys:
                    yield Problem(f"{path}.key", msg("分组键“{k}”重复（与第 {n} 个分组相同）",
                                                     "The section key '{k}' is used twice (also section {n})",
                                                     k=key, n=keys[key] + 1))
                keys.setdefault(key, i)
            yield from _section_fields(section.get("fields"), path, i, top, placed)


def _section_fields(fields: Any, path: str, index: int, top: set, placed: dict[str, int]) -> Iterator[Problem]:
    if not isinstance(fields, list):
        return
    for j, key in enumerate(fields):
        if not isinstance(key, str):
            continue
        where = f"{path}.fields[{j}]"
        if key not in top:
            yield Problem(where, msg("分组中的字段“{k}”不是表单的顶层字段", "Field '{k}' in the section is not a "
                                     "top-level field of the form", k=key))
        elif key in placed:
            yield Problem(where, msg("字段“{k}”已在第 {n} 个分组中，一个字段只能放在一个分组里",
                                     "Field '{k}' is already in section {n}; a field belongs to one section only",
                                     k=key, n=placed[key] + 1))
        else:
            placed[key] = index
