"""Expression scopes of a form: every field typed, formulas inferred, lookups resolved.

:func:`form_scope` gives the names a form-level expression sees (the form's fields, sub-tables
as nested scopes, and the system columns such as ``created_at``); :func:`row_scope` the names
inside a (nested) sub-table row, whose parent chain leads back to the form. Formula types are
inferred to a fixed point because formulas may use each other across levels. The result is
computed once per FormDef (and set of other forms) and cached; FormDefs are not hashable
(their options are read-only mappings), so the cache is keyed by identity and dropped when
the FormDef is garbage-collected.
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, Iterator, Mapping

from engine.definitions.model import FieldDef, FormDef
from engine.expressions.types import ANY, DATETIME, TEXT, ExprType, Scope, id_of
from engine.fields import FIELD_TYPES
from engine.fields.base import FieldContext

KeyPath = tuple[str, ...]
SYSTEM_NAMES = (
    ("serial_no", TEXT, "编号", "Number"), ("title", TEXT, "标题", "Title"), ("status", TEXT, "状态", "Status"),
    ("flow_state", TEXT, "流程状态", "Flow state"), ("created_by", id_of("user"), "创建人", "Created by"),
    ("created_at", DATETIME, "创建时间", "Created at"), ("updated_by", id_of("user"), "修改人", "Updated by"),
    ("updated_at", DATETIME, "修改时间", "Updated at"),
)
MAX_INFERENCE_ROUNDS = 50


def unique_fields(fields: tuple[FieldDef, ...]) -> Iterator[FieldDef]:
    """Fields with a known type, first of each key (duplicates are reported elsewhere)."""
    seen: set[str] = set()
    for f in fields:
        if f.key not in seen and f.type in FIELD_TYPES:
            seen.add(f.key)
            yield f


def walk(fields: tuple[FieldDef, ...], prefix: KeyPath = (), outer: Mapping[str, FieldDef] | None = None
         ) -> Iterator[tuple[KeyPath, FieldDef, Mapping[str, FieldDef]]]:
    """(key path, field, fields visible from it) for every field at every level."""
    visible = dict(outer or {})
    level = list(unique_fields(fields))
    visible.update({f.key: f for f in level})
    for f in level:
        yield prefix + (f.key,), f, visible
        if FIELD_TYPES.get(f.type).is_subtable:
            yield from walk(f.fields, prefix + (f.key,), visible)


@dataclass
class FormTypes:
    """Types of every field (by key path) and the scope of every level (by row path)."""

    types: dict[KeyPath, ExprType] = field(default_factory=dict)
    scopes: dict[KeyPath, Scope] = field(default_factory=dict)
    targets: dict[KeyPath, FieldDef] = field(default_factory=dict)   # lookup → target field


class _Typer:
    """Computes FormTypes for one form; ``active`` guards against lookup cycles between forms."""

    def __init__(self, form: FormDef, forms: Mapping[str, Any] | None, active: frozenset[str]):
        self.form, self.forms, self.active = form, forms, active | {form.key}
        self.result = FormTypes()

    def run(self) -> FormTypes:
        formulas = []
        for path, f, visible in walk(self.form.fields):
            if f.type == "formula" and f.option("result_type") is None:
                formulas.append((path, f))
                self.result.types[path] = ANY
            elif not FIELD_TYPES.get(f.type).is_subtable:
                self.result.types[path] = self._plain_type(path, f, visible)
        for _ in range(min(len(formulas) + 1, MAX_INFERENCE_ROUNDS)):
            self._build_scopes()
            if not self._infer(formulas):
                break
        self._build_scopes()
        return self.result

    def _plain_type(self, path: KeyPath, f: FieldDef, visible: Mapping[str, FieldDef]) -> ExprType:
        kind = FIELD_TYPES.get(f.type)
        if f.type != "lookup" or f.option("result_type") is not None:
            return kind.expr_type(f)
        ctx = FieldContext(forms=self.forms, fields=visible, resolve=self._resolve)
        target = kind.target(f, ctx)
        if target is not None:
            self.result.targets[path] = target
        return kind.expr_type(f, ctx)

    def _resolve(self, form_key: Any, field_key: Any) -> ExprType | None:
        target_form = self.forms.get(form_key) if self.forms is not None and isinstance(form_key, str) else None
        usable = isinstance(target_form, FormDef) and isinstance(field_key, str)
        target = target_form.field(field_key) if usable else None
        if target is None or target.type not in FIELD_TYPES or FIELD_TYPES.get(target.type).is_subtable:
            return None
        if target.option("result_type") is not None or target.type not in ("formula", "lookup"):
            return FIELD_TYPES.get(target.type).expr_type(target)
        if target_form.key in self.active:
            return ANY
        return form_types(target_form, self.forms, self.active).types.get((field_key,), ANY)

    def _infer(self, formulas: list[tuple[KeyPath, FieldDef]]) -> bool:
        from engine.expressions import check
        changed = False
        for path, f in formulas:
            source = f.option("formula")
            result = check(source, self.result.scopes[path[:-1]]) if isinstance(source, str) else None
            new = result.type if result is not None and result.type is not None and not result.errors else ANY
            if new != self.result.types[path]:
                self.result.types[path], changed = new, True
        return changed

    def _members(self, fields: tuple[FieldDef, ...], prefix: KeyPath) -> tuple[tuple, tuple]:
        members, labels = [], []
        for f in unique_fields(fields):
            if FIELD_TYPES.get(f.type).is_subtable:
                inner, inner_labels = self._members(f.fields, prefix + (f.key,))
                members.append((f.key, Scope(inner, None, inner_labels)))
            else:
                members.append((f.key, self.result.types.get(prefix + (f.key,), ANY)))
            labels.append((f.key, f.label.zh, f.label.en))
        return tuple(members), tuple(labels)

    def _build_scopes(self) -> None:
        members, labels = self._members(self.form.fields, ())
        system = ((("id", id_of(f"record:{self.form.key}")),) +
                  tuple((key, t) for key, t, _, _ in SYSTEM_NAMES))
        system_labels = (("id", "记录 ID", "Record id"),) + tuple((k, zh, en) for k, _, zh, en in SYSTEM_NAMES)
        known = {k for k, _ in members}
        root = Scope(members + tuple(m for m in system if m[0] not in known), None,
                     labels + tuple(lb for lb in system_labels if lb[0] not in known))
        self.result.scopes = {(): root}
        self._row_scopes(self.form.fields, (), root)

    def _row_scopes(self, fields: tuple[FieldDef, ...], prefix: KeyPath, parent: Scope) -> None:
        for f in unique_fields(fields):
            if FIELD_TYPES.get(f.type).is_subtable:
                inner, labels = self._members(f.fields, prefix + (f.key,))
                scope = Scope(inner, parent, labels)
                self.result.scopes[prefix + (f.key,)] = scope
                self._row_scopes(f.fields, prefix + (f.key,), scope)


_CACHE: dict[int, tuple[weakref.ref, dict]] = {}
MAX_VARIANTS = 8    # distinct ``forms`` mappings remembered per FormDef


def _forms_key(forms: Mapping[str, Any] | None) -> tuple:
    """Identity of a forms mapping, plus checks that its FormDefs are the same live objects."""
    if forms is None:
        return (None, ())
    items = sorted(((str(k), v) for k, v in forms.items()), key=lambda kv: kv[0])
    key = tuple((k, id(v)) for k, v in items)
    refs = tuple((weakref.ref(v) if v is not None else None) for _, v in items)
    return key, refs


def _alive(refs: tuple, forms: Mapping[str, Any] | None) -> bool:
    values = [v for _, v in sorted(((str(k), v) for k, v in (forms or {}).items()), key=lambda kv: kv[0])]
    return all((r is None and v is None) or (r is not None and r() is v) for r, v in zip(refs, values))


def form_types(form: FormDef, forms: Mapping[str, Any] | None = None,
               active: frozenset[str] = frozenset()) -> FormTypes:
    """All field types and scopes of ``form`` (cached per FormDef and ``forms``)."""
    if active:
        return _Typer(form, forms, active).run()
    entry = _CACHE.get(id(form))
    if entry is None or entry[0]() is not form:
        entry = (weakref.ref(form), {})
        _CACHE[id(form)] = entry
        weakref.finalize(form, _CACHE.pop, id(form), None)
    key, refs = _forms_key(forms)
    hit = entry[1].get(key)
    if hit is not None and _alive(hit[0], forms):
        return hit[1]
    if len(entry[1]) >= MAX_VARIANTS:
        entry[1].pop(next(iter(entry[1])))
    types = _Typer(form, forms, active).run()
    entry[1][key] = (refs, types)
    return types


def form_scope(form: FormDef, forms: Mapping[str, Any] | None = None) -> Scope:
    """The scope of form-level expressions (``forms``: other forms by key, for lookups)."""
    return form_types(form, forms).scopes[()]


def row_scope(form: FormDef, path: KeyPath | str, forms: Mapping[str, Any] | None = None) -> Scope:
    """The scope inside a row of the sub-table at ``path`` (``("lots", "readings")`` or ``"lots.readings"``)."""
    key = tuple(path.split(".")) if isinstance(path, str) else tuple(path)
    scopes = form_types(form, forms).scopes
    if key not in scopes:
        known = ", ".join(".".join(p) for p in scopes if p) or "-"
        raise KeyError(f"form '{form.key}' has no sub-table '{'.'.join(key)}'; sub-tables: {known}")
    return scopes[key]


def _annotated(fields: tuple[FieldDef, ...], prefix: KeyPath, types: FormTypes) -> tuple[FieldDef, ...]:
    out = []
    for f in fields:
        path = prefix + (f.key,)
        extra: dict[str, Any] = {}
        if f.type == "formula" and path in types.types:
            extra["result_type"] = types.types[path]
        elif f.type == "lookup" and path in types.targets:
            extra = {"result_type": types.types.get(path, ANY), "target": types.targets[path]}
        if f.fields:
            f = replace(f, fields=_annotated(f.fields, path, types))
        out.append(replace(f, options=MappingProxyType({**f.options, **extra})) if extra else f)
    return tuple(out)


def annotate(form: FormDef, forms: Mapping[str, Any] | None = None) -> FormDef:
    """``form`` with derived options: formula ``result_type``; lookup ``result_type`` and ``target``."""
    return replace(form, fields=_annotated(form.fields, (), form_types(form, forms)))
