"""The designer's expression endpoints: type-check against a form, evaluate with sample values.

``form`` (optional) is a published form of the caller's tenant; ``table`` (optional, e.g.
``"items"`` or ``"items.readings"``) checks the expression inside a row of that sub-table.
Without a form, ``check`` knows no field names and ``evaluate`` types names from the sample.
The checking and evaluating itself lives in :mod:`engine.services.expression_trial` (the
designer's expression editor uses it too); this module reads the request and answers.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Mapping

from flask import jsonify

from engine.expressions import EvalContext
from engine.i18n import msg
from engine.services import expression_trial as trial
from engine.services import forms as form_service
from runtime.api.blueprint import bp
from runtime.api.forms import usable_form
from runtime.api.replies import BadInput, json_object, json_ready, member
from runtime.i18n import current_lang
from runtime.auth import current_actor
from runtime.db import db


def _target(body: Mapping) -> trial.Target:
    """The requested form (404 if not usable) and the scope to check in."""
    key = member(body, "form", str, required=False)
    table = member(body, "table", str, required=False)
    if not key:
        if table:
            raise BadInput(msg("指定“table”时必须同时指定“form”", "'table' needs 'form' as well"), "table")
        return trial.target(None, None)
    form, _allowed = usable_form(key)
    forms = form_service.published_forms(db(), current_actor().tenant_id)
    try:
        return trial.target(form, table, forms)
    except trial.TrialInputError as exc:
        raise BadInput(exc.message, exc.field) from None


@bp.post("/expressions/check")
def check_expression():
    body = json_object()
    source = member(body, "expression", str)
    where = _target(body)
    return jsonify(trial.check_source(source, where, lang=current_lang()))


@bp.post("/expressions/evaluate")
def evaluate_expression():
    body = json_object()
    source = member(body, "expression", str)
    data = member(body, "data", dict, required=False, default={})
    where = _target(body)
    actor = current_actor()
    ctx = EvalContext(user_id=actor.user_id, now=datetime.now(timezone.utc), lang=current_lang())
    value, type_name = trial.evaluate_source(source, where, data, ctx)
    return jsonify({"value": json_ready(value), "type": type_name})
