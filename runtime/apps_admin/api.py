"""REST functions for upgrading apps in place, attached to the ``/api/v1`` blueprint by
runtime/api (sign-in, the JSON error envelope and CSRF for cookie sessions come from there):

* ``POST /api/v1/apps/preview`` — body: an app package → 200 ``{app, from_version, to_version,
  new_app, direction, notice, changes, conflicts, problems}`` | 422 (invalid package).
* ``POST /api/v1/apps/upgrade`` — body: ``{"package": {…}, "resolutions": {conflict id: "mine" |
  "theirs"}}`` → 200 (same version, nothing to do) | 201 (installed or upgraded, with ``result``)
  | 409 (a downgrade, or resolutions of conflicts that no longer exist) | 422.

``POST /api/v1/apps/import`` keeps its contract (the package as sent, no merge).
Administrators only (the engine checks: 403 otherwise).
"""
from __future__ import annotations

from flask import jsonify

from engine.errors import DefinitionError, Problem
from engine.i18n import msg
from engine.services import app_upgrade
from runtime.api.replies import json_object, json_ready
from runtime.auth import current_actor
from runtime.db import commit, db


def preview_app():
    """``POST /api/v1/apps/preview``: what importing the package would change (nothing written)."""
    plan = app_upgrade.preview(db(), current_actor(), json_object())
    db().rollback()
    return jsonify(json_ready(plan))


def upgrade_app():
    """``POST /api/v1/apps/upgrade``: merge the package onto the installed app and import the result."""
    body = json_object()
    package, resolutions = body.get("package"), body.get("resolutions") or {}
    if not isinstance(package, dict):
        raise DefinitionError([Problem("$.package", msg("需要 package：应用包 JSON 对象",
                                                        "package is required: the app package as a JSON object"))])
    if not isinstance(resolutions, dict):
        raise DefinitionError([Problem("$.resolutions", msg("resolutions 必须是对象 {冲突 id: \"mine\" | \"theirs\"}",
                                                            "resolutions must be an object {conflict id: \"mine\" | "
                                                            "\"theirs\"}"))])
    done = app_upgrade.apply(db(), current_actor(), package, resolutions)
    commit()
    return jsonify(json_ready(done)), 201 if done["applied"] else 200


def attach(bp) -> None:
    """Add the routes to the API blueprint (call once, before the blueprint is registered)."""
    bp.add_url_rule("/apps/preview", "preview_app", preview_app, methods=["POST"])
    bp.add_url_rule("/apps/upgrade", "upgrade_app", upgrade_app, methods=["POST"])
