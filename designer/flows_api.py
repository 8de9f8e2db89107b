"""The flow designer's server side: ``GET /designer/api/flow-choices``.

Answers the tenant's roles ``[{key, label}]``, users ``[{id, name, department_id}]``,
departments ``[{id, key, name, parent_id}]`` and the flow vocabulary built from the engine
(:func:`engine.services.flow_choices.vocabulary`: node types with bilingual labels and the
properties each may carry, assignee kinds, multi-approver modes, overdue actions, field
permissions, signature meanings, automatic-node action types). The editor hard-codes none of
these lists. Only people who may design something get an answer (403 otherwise).
"""
from __future__ import annotations

from functools import wraps

from flask import jsonify

from engine.errors import QMSError
from engine.services.flow_choices import flow_choices as build_choices
from runtime.auth import current_actor, login_required
from runtime.db import db
from runtime.errors import engine_error_response
from runtime.i18n import t

from designer.blueprint import bp


def _api_login(view):
    """``login_required`` for JSON: nobody signed in is a 401 JSON reply; engine errors are JSON."""
    guarded = login_required(view)

    @wraps(view)
    def wrapper(*args, **kwargs):
        if current_actor() is None:
            return jsonify({"error": {"code": "unauthorized", "message": t("需要登录", "Sign in first")}}), 401
        try:
            return guarded(*args, **kwargs)
        except QMSError as exc:
            return engine_error_response(exc)
    return wrapper


@bp.get("/api/flow-choices")
@_api_login
def flow_choices():
    return jsonify(build_choices(db(), current_actor()))
