"""What the form page needs to draw each field: a plain dict per field (labels in the current
language, constant flags, choices, pickers' options), built from the published FieldDefs.

The dicts are what the macros in ``templates/entry/fields.html`` receive; one macro per field
type draws the control. Expression-valued flags (``{"expr": …}``) are marked ``*_expr`` here and
evaluated live through the compute endpoint. :func:`section_views` groups them by the form's
layout sections (:mod:`engine.forms.layout`). No Flask here: the runtime's form page and the
designer's preview both use it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

from engine.definitions.model import Expr, FieldDef
from engine.definitions.model import FormDef
from engine.fields.number import precision_of
from engine.forms.layout import sections
from engine.i18n import label_text

__all__ = ["COMPUTED", "FILE_TYPES", "Pickers", "field_view", "field_views", "section_views"]

COMPUTED = {"serial", "formula", "lookup"}
FILE_TYPES = {"attachment", "image", "signature"}


@dataclass
class Pickers:
    """Options for user, department and reference fields, loaded once per page."""

    users: list[dict] = field(default_factory=list)
    departments: list[dict] = field(default_factory=list)
    references: Callable[[str, str | None], list[dict]] = lambda form_key, display: []
    reference_limit: int = 200          # records offered in a picker; beyond it the picker searches


def _flag(value: Any) -> tuple[bool, bool]:
    """(constant value, is an expression) of a yes/no property."""
    if isinstance(value, Expr):
        return False, True
    return bool(value), False


def _step(f: FieldDef) -> str:
    precision = precision_of(f) if f.type == "number" else 0
    return "1" if precision == 0 else "0." + "0" * (precision - 1) + "1"


def field_view(f: FieldDef, lang: str, pickers: Pickers, readonly_keys: frozenset[str] = frozenset(),
               hidden_keys: frozenset[str] = frozenset(), top: bool = True) -> dict[str, Any]:
    """The view dict of one field (sub-table columns nested in ``children``)."""
    required, required_expr = _flag(f.required)
    readonly, readonly_expr = _flag(f.readonly)
    visible, visible_expr = (True, True) if isinstance(f.visible, Expr) else (f.visible is not False, False)
    view: dict[str, Any] = {
        "key": f.key, "type": f.type, "label": label_text(f.label, lang),
        "help": label_text(f.help, lang) if f.help else "",
        "required": required, "required_expr": required_expr,
        "readonly": readonly or f.type in COMPUTED or (top and f.key in readonly_keys),
        "readonly_expr": readonly_expr, "visible": visible, "visible_expr": visible_expr,
        "computed": f.type in COMPUTED, "multiple": bool(f.option("multiple", f.type == "multiselect")),
        "options": dict(f.options), "children": [],
        "maxlength": f.max_length if isinstance(f.max_length, int) and not isinstance(f.max_length, bool) else None,
    }
    _type_details(view, f, lang, pickers)
    if f.fields:
        view["children"] = [field_view(c, lang, pickers, top=False) for c in f.fields]
        view["columns"] = [c for c in view["children"] if c["type"] != "subtable"]
        view["nested"] = [c for c in view["children"] if c["type"] == "subtable"]
    return view


def _type_details(view: dict, f: FieldDef, lang: str, pickers: Pickers) -> None:
    t = f.type
    if t in ("select", "radio", "multiselect"):
        view["choices"] = [{"code": c.get("code"), "label": label_text(c.get("label"), lang) or c.get("code")}
                           for c in f.option("choices", ()) if isinstance(c, Mapping)]
    elif t == "number":
        view["step"], view["unit"] = _step(f), f.option("unit") or ""
        view["precision"] = precision_of(f)
    elif t == "user":
        view["people"] = [{"id": u["id"], "label": u["name"] or u["email"]} for u in pickers.users]
    elif t == "department":
        view["people"] = [{"id": d["id"], "label": label_text(d["name"], lang) or d["key"]}
                          for d in pickers.departments]
    elif t == "reference":
        view["target"] = f.option("form")
        view["display"] = f.option("display") or ""
        view["records"] = pickers.references(f.option("form"), f.option("display"))
        view["searchable"] = len(view["records"]) >= pickers.reference_limit   # more than the list holds
    elif t in FILE_TYPES:
        accept = list(f.option("accept") or (["image/*"] if t != "attachment" else []))
        view["accept"] = ",".join(accept)
        view["max_files"] = 1 if t == "signature" or not f.option("multiple", True) else f.option("max_files") or 100
    elif t == "textarea":
        view["rows"] = f.option("rows") or 4
    elif t == "formula":
        view["precision"] = f.option("precision")
        view["labels"] = {c["code"]: label_text(c.get("label"), lang) for c in f.option("choices") or ()}


def field_views(fields: Iterable[FieldDef], lang: str, pickers: Pickers, readonly_keys: frozenset[str],
                hidden_keys: frozenset[str]) -> list[dict[str, Any]]:
    """View dicts of the form's top-level fields, without the ones the user's role hides."""
    return [field_view(f, lang, pickers, readonly_keys, hidden_keys) for f in fields if f.key not in hidden_keys]


def section_views(form: FormDef, lang: str, pickers: Pickers, readonly_keys: frozenset[str] = frozenset(),
                  hidden_keys: frozenset[str] = frozenset()) -> list[dict[str, Any]]:
    """The form page's sections: ``{key, label, columns, collapsed, fields: [view dicts]}`` in order.

    Fields the user's role hides are left out (a section keeps its heading); the trailing
    unnamed section (``key``/``label`` None) holds the fields no section names.
    """
    shown = [f for f in form.fields if f.key not in hidden_keys]
    return [{"key": s.key, "label": label_text(s.label, lang) if s.label else None, "columns": s.columns,
             "collapsed": s.collapsed,
             "fields": [field_view(f, lang, pickers, readonly_keys, hidden_keys) for f in s.fields]}
            for s in sections(form, shown)]
