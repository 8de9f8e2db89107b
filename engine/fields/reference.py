"""Links between forms: a reference (a record of another form) and a lookup through it.

A lookup shows a field of the referenced record (the supplier's name on an IQC lot). Its value
is *stored denormalised*: copied from the target record when the reference is set, in a column
of the target field's type, so reports group and filter on it in SQL without a join, and the
record keeps the value it was inspected with. Its type and storage therefore come from the
target field; they are unknown (ANY / no column) while the target form is unknown.
"""
from __future__ import annotations

from typing import Any, Iterator

from engine.errors import Problem
from engine.expressions.types import ANY, id_of
from engine.fields.base import IDENTIFIER_REF, Column, FieldContext, FieldType, StorageKind
from engine.fields.people import ID_SCHEMA, parse_id
from engine.i18n import Msg, msg


def _form_field(forms, form_key: str, field_key: str) -> Any:
    """The FieldDef ``field_key`` of form ``form_key`` in ``forms``, or None."""
    form = forms.get(form_key) if forms is not None and isinstance(form_key, str) else None
    getter = getattr(form, "field", None)
    return getter(field_key) if callable(getter) and isinstance(field_key, str) else None


class ReferenceType(FieldType):
    """A link to one record of another form (``form``; optional ``display`` field for the link text)."""

    type = "reference"
    label = Msg("关联记录", "Reference")
    group = "advanced"
    options_schema = {"form": IDENTIFIER_REF, "display": IDENTIFIER_REF}
    required_options = ("form",)

    def expr_type(self, field, ctx=None):
        return id_of(f"record:{field.option('form')}")

    def storage(self, field, ctx=None):
        return Column(StorageKind.INTEGER)

    def coerce(self, field, value):
        if value is None or value == "":
            return None
        return parse_id(value)

    def value_schema(self, field):
        target = field.option("form")
        return {**ID_SCHEMA, "x-reference-form": target} if isinstance(target, str) else dict(ID_SCHEMA)

    def check(self, field, ctx: FieldContext) -> Iterator[Problem]:
        target = field.option("form")
        if ctx.forms is None or not isinstance(target, str):
            return
        if target not in ctx.forms:
            known = ", ".join(sorted(ctx.forms)) or "-"
            yield Problem(f"{ctx.path}.form", msg("关联的表单“{f}”不存在；已有表单：{k}",
                                                  "The referenced form '{f}' does not exist; known forms: {k}",
                                                  f=target, k=known))
            return
        display = field.option("display")
        target_known = ctx.forms[target] is not None
        if isinstance(display, str) and target_known and _form_field(ctx.forms, target, display) is None:
            yield Problem(f"{ctx.path}.display", msg("表单“{f}”中没有字段“{d}”", "The form '{f}' has no field '{d}'",
                                                     f=target, d=display))


class LookupType(FieldType):
    """A value pulled through a reference: ``reference`` (a reference field here), ``field`` (in the target).

    After loading, ``options["target"]`` holds the target FieldDef when the target form was known.
    """

    type = "lookup"
    label = Msg("查找引用值", "Lookup")
    group = "advanced"
    is_computed = True
    options_schema = {"reference": IDENTIFIER_REF, "field": IDENTIFIER_REF}
    required_options = ("reference", "field")

    def target(self, field, ctx: FieldContext | None) -> Any:
        """The target FieldDef, from the load-time annotation or through ``ctx``; None if unknown."""
        if field.option("target") is not None:
            return field.option("target")
        ref = self.reference(field, ctx)
        return _form_field(ctx.forms, ref.option("form"), field.option("field")) if ref is not None else None

    def reference(self, field, ctx: FieldContext | None) -> Any:
        """The reference field this lookup goes through (visible from it), or None."""
        key = field.option("reference")
        ref = ctx.fields.get(key) if ctx is not None and isinstance(key, str) else None
        return ref if getattr(ref, "type", None) == "reference" else None

    def expr_type(self, field, ctx=None):
        if field.option("result_type") is not None:
            return field.option("result_type")
        ref = self.reference(field, ctx)
        if ref is not None and ctx.resolve is not None:
            return ctx.resolve(ref.option("form"), field.option("field")) or ANY
        target = self.target(field, ctx)
        return _delegate(target).expr_type(target) if target is not None else ANY

    def storage(self, field, ctx=None) -> Column | None:
        target = self.target(field, ctx)
        return _delegate(target).storage(target) if target is not None else None

    def coerce(self, field, value):
        target = field.option("target")
        return _delegate(target).coerce(target, value) if target is not None else value

    def to_json(self, field, value):
        target = field.option("target")
        return _delegate(target).to_json(target, value) if target is not None else value

    def value_schema(self, field):
        """The target field's schema (any value while the target is unknown)."""
        target = field.option("target")
        return _delegate(target).value_schema(target) if target is not None else {}

    def check(self, field, ctx: FieldContext) -> Iterator[Problem]:
        ref_key, ref = field.option("reference"), self.reference(field, ctx)
        if isinstance(ref_key, str) and ref is None:
            yield Problem(f"{ctx.path}.reference", msg(
                "“{r}”不是本表单中的关联记录字段", "'{r}' is not a reference field of this form", r=ref_key))
            return
        target_form = ref.option("form") if ref is not None else None
        wanted = field.option("field")
        if ctx.forms is None or not isinstance(target_form, str) or ctx.forms.get(target_form) is None \
                or not isinstance(wanted, str):
            return
        target = _form_field(ctx.forms, target_form, wanted)
        if target is None:
            yield Problem(f"{ctx.path}.field", msg("表单“{f}”中没有字段“{d}”", "The form '{f}' has no field '{d}'",
                                                   f=target_form, d=wanted))
        elif getattr(target, "type", None) == "subtable":
            yield Problem(f"{ctx.path}.field", msg("不能查找子表“{d}”，请选择普通字段",
                                                   "A lookup cannot show the sub-table '{d}'; pick a plain field",
                                                   d=wanted))


def _delegate(target) -> FieldType:
    """The field type of a lookup's target."""
    from engine.fields import field_type  # late: the registry imports this module
    return field_type(target.type)
