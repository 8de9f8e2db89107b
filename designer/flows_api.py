"""The flow designer's server side: ``GET /designer/api/flow-choices``.

Answers the tenant's roles ``[{key, label}]``, users ``[{id, name, department_id}]``,
departments ``[{id, key, name, parent_id}]`` and the flow vocabulary built from the engine
(:func:`engine.services.flow_choices.vocabulary`: node types with bilingual labels and the
properties each may carry, assignee kinds, multi-approver modes, overdue actions, field
permissions, signature meanings, automatic-node action types). The editor hard-codes none of
these lists. Only people who may design something get an answer (403 otherwise).
"""
from __future__ import annotations


from flask import jsonify

from engine.services.flow_choices import flow_choices as build_choices
from runtime.auth import current_actor, login_required
from runtime.db import db

from designer.blueprint import bp




@bp.get("/api/flow-choices")
@login_required
def flow_choices():
    return jsonify(build_choices(db(), current_actor()))
