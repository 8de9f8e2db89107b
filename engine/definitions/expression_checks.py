"""Layer 2, part 2: expressions type-check in their scope, formulas have no cycles, templates.

Expressions are checked against the scope where they run: a form-level field's expressions
against :func:`form_scope`, a sub-table column's against the row scope of its sub-table.
"""
from __future__ import annotations

import re
from typing import Iterator

from engine.definitions.checks import CONSTRAINT_SUPPORT
from engine.definitions.identifiers import SYSTEM_COLUMNS
from engine.definitions.scopes import FormTypes, form_types
from engine.definitions.sites import Checking, FormSite, Site
from engine.errors import ExpressionError, Problem
from engine.expressions.types import ANY, BOOLEAN, NUMBER, TEXT, ExprType
from engine.fields import FIELD_TYPES
from engine.fields.serial import validate_pattern
from engine.i18n import Msg, msg

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_EXPECTED = {"required": BOOLEAN, "readonly": BOOLEAN, "visible": BOOLEAN, "min_length": NUMBER,
             "max_length": NUMBER, "pattern": TEXT, "default": None, "min": None, "max": None}


def expression_problem(path: str, error: ExpressionError) -> Problem:
    """An expression error as a Problem whose message names the line and column."""
    return Problem(path, Msg(f"表达式第 {error.line} 行第 {error.column} 列：{error.message.zh}",
                             f"Expression line {error.line}, column {error.column}: {error.message.en}"))


def _expressions(site: Site) -> Iterator[tuple[str, str, ExprType | None]]:
    """(path, source, expected type or None = the field's own type / anything) of a field."""
    kind = FIELD_TYPES.get(site.field.type)
    for name in _EXPECTED:
        value = site.raw.get(name)
        if not _applies(kind, name):
            continue            # reported once, by check_constants
        if isinstance(value, dict) and isinstance(value.get("expr"), str):
            yield f"{site.path}.{name}.expr", value["expr"], _EXPECTED[name]
    validations = site.raw.get("validations")
    for i, rule in enumerate(validations if isinstance(validations, list) else ()):
        if isinstance(rule, dict) and isinstance(rule.get("expr"), str):
            yield f"{site.path}.validations[{i}].expr", rule["expr"], BOOLEAN
    if site.raw.get("type") == "formula" and isinstance(site.raw.get("formula"), str):
        yield f"{site.path}.formula", site.raw["formula"], ANY


def _applies(kind, name: str) -> bool:
    """Whether property ``name`` makes sense for field type ``kind``."""
    if name == "default":
        return not (kind.is_computed or kind.is_subtable)
    need = CONSTRAINT_SUPPORT.get(name)
    return need is None or need in kind.supports


def _fits(actual: ExprType, expected: ExprType) -> bool:
    from engine.expressions.typerules import fits
    return fits(actual, expected)


def _type_name(t: ExprType) -> Msg:
    from engine.expressions.typerules import type_name
    return type_name(t)


def check_expressions(checking: Checking) -> Iterator[Problem]:
    """8. Every expression parses and type-checks against its scope, with the right result type."""
    from engine.expressions import check
    for form in checking.forms:
        types = form_types(form.form, checking.known)
        for site in form.sites:
            scope = types.scopes.get(site.keys[:-1])
            if site.field is None or scope is None:
                continue
            own = types.types.get(site.keys, ANY)
            for path, source, expected in _expressions(site):
                result = check(source, scope)
                if result.errors:
                    yield from (expression_problem(path, e) for e in result.errors)
                    continue
                wanted = own if expected is None else expected
                if result.type is not None and not _fits(result.type, wanted):
                    yield Problem(path, msg("表达式的结果应为{w}，实际是{g}", "The expression should give {we}, it gives {ge}",
                                            w=_type_name(wanted).zh, g=_type_name(result.type).zh,
                                            we=_type_name(wanted).en, ge=_type_name(result.type).en))


def _resolve(types: FormTypes, row: tuple[str, ...], parts: tuple[str, ...]) -> tuple[str, ...] | None:
    """The key path a name (``parts`` = ("mean",) or ("readings", "value")) refers to from ``row``."""
    level = row
    while True:
        candidate = level + parts
        if candidate in types.types or (candidate in types.scopes and len(parts) > 0):
            return candidate
        if not level:
            return None
        level = level[:-1]


def _dependencies(source: str, row: tuple[str, ...], types: FormTypes) -> set[tuple[str, ...]]:
    from engine.expressions import parse
    from engine.expressions.ast import Name, Path, walk
    try:
        tree = parse(source)
    except ExpressionError:
        return set()
    found = set()
    for node in walk(tree):
        parts = (node.key,) if isinstance(node, Name) else node.parts if isinstance(node, Path) else None
        target = _resolve(types, row, tuple(parts)) if parts else None
        if target is not None:
            found.add(target)
    return found


def check_formula_cycles(checking: Checking) -> Iterator[Problem]:
    """9. Formulas do not depend on themselves (a → b → a), at any sub-table level."""
    for form in checking.forms:
        yield from _form_cycles(form, form_types(form.form, checking.known))


def _form_cycles(form: FormSite, types: FormTypes) -> Iterator[Problem]:
    formulas = {s.keys: s for s in form.sites
                if s.raw.get("type") == "formula" and isinstance(s.raw.get("formula"), str) and s.keys in types.types}
    graph = {k: sorted(d for d in _dependencies(s.raw["formula"], k[:-1], types) if d in formulas)
             for k, s in formulas.items()}
    reported: set[frozenset] = set()
    for start in formulas:
        for cycle in _cycles_from(start, graph):
            if frozenset(cycle) not in reported:
                reported.add(frozenset(cycle))
                names = " → ".join(".".join(k) for k in cycle + [cycle[0]])
                yield Problem(f"{formulas[cycle[0]].path}.formula",
                              msg("公式循环引用：{c}", "Formulas depend on each other in a cycle: {c}", c=names))


def _cycles_from(start: tuple, graph: dict) -> Iterator[list]:
    """Cycles through ``start`` found by an iterative depth-first search."""
    stack: list[tuple[tuple, list]] = [(start, [start])]
    seen: set = set()
    while stack:
        node, trail = stack.pop()
        for nxt in graph.get(node, ()):
            if nxt == start:
                yield trail
            elif nxt not in trail and nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, trail + [nxt]))


def check_templates(checking: Checking) -> Iterator[Problem]:
    """10. Title-template placeholders are fields of the form; the numbering pattern is valid."""
    for form in checking.forms:
        template, numbering = form.raw.get("title_template"), form.raw.get("numbering")
        if isinstance(numbering, str):
            problem = validate_pattern(numbering)
            if problem is not None:
                yield Problem(f"{form.path}.numbering", problem)
        if isinstance(template, str):
            yield from _template(form, template)


def _template(form: FormSite, template: str) -> Iterator[Problem]:
    path = f"{form.path}.title_template"
    if "{" in _PLACEHOLDER.sub("", template) or "}" in _PLACEHOLDER.sub("", template):
        yield Problem(path, msg("标题模板的花括号不成对", "The title template has unbalanced braces"))
    known = {f.key for f in form.form.fields if not FIELD_TYPES.get(f.type).is_subtable} | SYSTEM_COLUMNS
    for name in _PLACEHOLDER.findall(template):
        if name.strip() not in known:
            yield Problem(path, msg("标题模板中的 {{{n}}} 不是本表单的字段",
                                    "{{{n}}} in the title template is not a field of this form", n=name))
