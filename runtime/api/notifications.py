"""The caller's notifications over the API: list them (``?unread=1``) and mark them read.

``GET /api/v1/notifications`` → ``{"items", "total", "unread", "page", "per_page"}``;
``POST /api/v1/notifications/read`` with ``{"ids": [..]}`` or ``{"all": true}`` → ``{"updated", "unread"}``.
Only ever the caller's own notifications (ids of anyone else's are ignored).
"""
from __future__ import annotations

from flask import jsonify, request

from engine.i18n import msg
from engine.services import notifications as notes
from runtime.api.blueprint import bp
from runtime.api.replies import BadInput, int_arg, json_object, json_ready, member
from runtime.auth import current_actor
from runtime.db import commit, db


@bp.get("/notifications")
def list_notifications():
    unread = request.args.get("unread", "").lower() in ("1", "true", "yes")
    found = notes.list_notifications(db(), current_actor(), unread_only=unread, page=int_arg("page", 1),
                                     per_page=int_arg("per_page", 50))
    return jsonify(json_ready(found))


@bp.post("/notifications/read")
def mark_notifications_read():
    body = json_object()
    everything = body.get("all", False)
    if not isinstance(everything, bool):
        raise BadInput(msg("“all”必须是 true 或 false", "'all' must be true or false"), "all")
    if everything:
        ids = None
    else:
        ids = member(body, "ids", list)
        if not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
            raise BadInput(msg("“ids”必须是整数列表", "'ids' must be a list of integers"), "ids")
    actor = current_actor()
    updated = notes.mark_read(db(), actor, ids)
    commit()
    return jsonify({"updated": updated, "unread": notes.unread_count(db(), actor)})
