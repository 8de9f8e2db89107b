"""The entry points: check a definition (all problems), load it into frozen dataclasses.

``check_definition`` = format upgrades → layer 1 (JSON Schema, every error) → layer 2 (the
numbered checklist below, every problem). It never raises for any input: a bug in one check
becomes a problem naming that check instead of hiding the others' results.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping

from engine.definitions.builder import build_form, freeze, msg_of
from engine.definitions.checks import (
    check_constants, check_duplicate_fields, check_duplicate_forms, check_field_types, check_identifiers,
    check_labels, check_layout, check_nesting_depth,
)
from engine.definitions.expression_checks import check_expressions, check_formula_cycles, check_templates
from engine.definitions.model import AppPackage, FormDef
from engine.definitions.paths import join, sort_key
from engine.definitions.schema import schema_problems
from engine.definitions.scopes import annotate
from engine.definitions.sites import build_checking, normalise_known
from engine.definitions.upgrades import upgrade
from engine.errors import DefinitionError, Problem
from engine.printing.checks import check_prints
from engine.i18n import Msg, msg

KnownForms = Mapping[str, Any] | Iterable[str] | None
CHECKLIST: tuple[Callable, ...] = (
    check_identifiers, check_labels, check_duplicate_forms, check_duplicate_fields, check_nesting_depth,
    check_field_types, check_constants, check_expressions, check_formula_cycles, check_templates, check_prints,
    check_layout,
)
SLOTS = ("flows", "rules", "reports", "dashboards", "roles")
MAX_NESTING = 64    # real definitions nest about 20 levels; deeper input is refused before recursive checks
MAX_LIST = 1000     # no list of a definition allows more than 500 items; longer ones are refused before the schema


def _too_deep(data: Any) -> Problem | None:
    """A problem at the first place nested deeper than MAX_NESTING (or a list longer than MAX_LIST),
    found without recursion and before the JSON Schema walks every item."""
    stack: list[tuple[Any, str, int]] = [(data, "$", 0)]
    while stack:
        node, path, depth = stack.pop()
        if depth > MAX_NESTING:
            return Problem(path, msg("定义嵌套层数过多（超过 {n} 层）", "The definition is nested too deeply (more than {n} levels)",
                                     n=MAX_NESTING))
        if isinstance(node, dict):
            stack.extend((v, join(path, str(k)), depth + 1) for k, v in node.items())
        elif isinstance(node, list):
            if len(node) > MAX_LIST:
                return Problem(path, msg("最多 {n} 项（实际 {m} 项）", "At most {n} items (got {m})", n=MAX_LIST, m=len(node)))
            stack.extend((v, f"{path}[{i}]", depth + 1) for i, v in enumerate(node))
    return None


def _checked(data: Any, kind: str, known_forms: KnownForms) -> tuple[Any, list[Problem]]:
    """The upgraded definition and all its problems (sorted by path, without duplicates)."""
    if kind not in ("form", "app"):
        raise ValueError(f"kind must be 'form' or 'app', not {kind!r}")
    deep = _too_deep(data)
    if deep is not None:
        return data, [deep]
    data, problems = upgrade(data, kind)
    if problems:
        return data, problems
    problems = schema_problems(data, kind)
    checking = build_checking(data, kind, known_forms)
    for check in CHECKLIST:
        try:
            problems.extend(check(checking))
        except Exception as exc:  # noqa: BLE001 - one broken check must not hide the other results
            problems.append(Problem("$", msg("内部检查 {n} 出错（{e}），请联系管理员",
                                             "Internal check {n} failed ({e}); please report this",
                                             n=check.__name__, e=type(exc).__name__)))
    unique = list(dict.fromkeys(problems))
    return data, sorted(unique, key=lambda p: (sort_key(p.path), p.path, p.message.en))


def check_definition(data: Any, kind: str = "form", known_forms: KnownForms = None) -> list[Problem]:
    """Every problem of a form (``kind="form"``) or app package (``"app"``) definition, sorted by path.

    ``known_forms``: other forms a reference may name, as {key: FormDef or dict} or just keys;
    None means "unknown": references to other forms are then not checked.
    """
    try:
        return _checked(data, kind, known_forms)[1]
    except ValueError:
        raise
    except Exception as exc:  # noqa: BLE001 - never a traceback for a user's definition
        name = type(exc).__name__
        return [Problem("$", Msg(f"无法检查此定义（{name}）", f"Cannot check this definition ({name})"))]


def _known_with(known_forms: KnownForms, forms: Iterable[FormDef]) -> dict[str, Any]:
    known = dict(normalise_known(known_forms) or {})
    known.update({f.key: f for f in forms})
    return known


def load_form(data: Any, known_forms: KnownForms = None) -> FormDef:
    """A checked, frozen FormDef; raises DefinitionError listing every problem."""
    upgraded, problems = _checked(data, "form", known_forms)
    if problems:
        raise DefinitionError(problems)
    form = build_form(upgraded, strict=True)
    return annotate(form, _known_with(known_forms, [form]))


def load_app(data: Any, known_forms: KnownForms = None) -> AppPackage:
    """A checked, frozen AppPackage with its forms loaded; raises DefinitionError listing every problem."""
    upgraded, problems = _checked(data, "app", known_forms)
    if problems:
        raise DefinitionError(problems)
    forms = [build_form(f, strict=True) for f in upgraded["forms"]]
    known = _known_with(known_forms, forms)
    slots = {name: tuple(freeze(item) for item in upgraded.get(name) or ()) for name in SLOTS}
    return AppPackage(key=upgraded["key"], label=msg_of(upgraded["label"]), version=upgraded["version"],
                      forms=tuple(annotate(f, known) for f in forms), description=msg_of(upgraded.get("description")),
                      format=upgraded.get("format", 1), raw=freeze_raw(upgraded), **slots)


def freeze_raw(data: dict) -> Mapping[str, Any]:
    """A private read-only copy of the top level of ``data`` (nested values are copies)."""
    import copy
    from types import MappingProxyType
    return MappingProxyType(copy.deepcopy(data))
