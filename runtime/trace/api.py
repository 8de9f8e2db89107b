"""``GET /api/v1/trace/<form_key>/<record_id>?direction=&depth=&max_nodes=&expand=``: the trace graph as JSON.

Attached to the API blueprint by ``runtime/api`` (``bp.add_url_rule``), so its sign-in gate and
JSON error envelope apply; the view also refuses anonymous callers itself. Body: the engine's
graph (``start``, ``direction``, ``depth``, ``max_nodes``, ``truncated``, ``nodes``, ``edges``)
with each node's page addresses added (``url``: the record, ``trace_url``: its own trace).
"""
from __future__ import annotations

from flask import jsonify, request

from engine.services import trace as trace_service
from runtime.auth import current_actor, login_required
from runtime.db import db
from runtime.trace.params import read_params
from runtime.trace.present import with_urls


@login_required
def trace_json(form_key: str, record_id: int):
    """The trace graph around one record, as the viewer may see it (404 when they may not read it)."""
    graph = trace_service.trace_record(db(), current_actor(), form_key, record_id, **read_params(request.args))
    return jsonify(with_urls(graph.to_json()))
