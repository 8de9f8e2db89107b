"""``GET /api/v1/forms/<form_key>``: a published definition, for users who may use the form.

:func:`usable_form` is the gate of every form-scoped route: a form that does not exist in the
caller's tenant and a form the caller has no access to at all answer the same 404, so the
API never reveals what another tenant (or another department) has.
"""
from __future__ import annotations

from flask import jsonify

from engine import access
from engine.access import FormAccess
from engine.definitions.model import FormDef
from engine.errors import NotFound
from engine.i18n import msg
from engine.services import forms as form_service
from runtime.api.blueprint import bp
from runtime.auth import current_actor
from runtime.db import db


def _missing(form_key: str) -> NotFound:
    return NotFound(msg("表单“{k}”不存在", "The form '{k}' does not exist", k=str(form_key)[:60]))


def usable_form(form_key: str) -> tuple[FormDef, FormAccess]:
    """The published form and the caller's access; NotFound when absent or of no use to the caller."""
    actor = current_actor()
    try:
        form = form_service.get_form(db(), actor.tenant_id, form_key)
    except NotFound:
        raise _missing(form_key) from None
    allowed = access.form_access(db(), actor, form_key)
    if not (allowed.read.allows_any or allowed.can_create or allowed.can_design):
        raise _missing(form_key)
    return form, allowed


@bp.get("/forms/<form_key>")
def get_form(form_key: str):
    form, allowed = usable_form(form_key)
    data = form.to_dict()
    if not allowed.can_design and allowed.hidden_fields:       # a hidden field's very name is not theirs to see
        data["fields"] = [f for f in data.get("fields", []) if f.get("key") not in allowed.hidden_fields]
    return jsonify({**data, "version": form.version})
