"""Installed apps: list, import a package (all or nothing), export a package.

Importing is an administrator's job (checked by the engine). Exporting hands out every form
definition of the app, so it needs an administrator or the design permission on each of them.
"""
from __future__ import annotations

from flask import jsonify

from engine import access
from engine.errors import PermissionDenied
from engine.i18n import msg
from engine.services import apps as app_service
from runtime.api.blueprint import bp
from runtime.api.replies import json_object, json_ready
from runtime.auth import current_actor
from runtime.db import commit, db


@bp.get("/apps")
def list_apps():
    return jsonify({"items": json_ready(app_service.list_apps(db(), current_actor().tenant_id))})


@bp.post("/apps/import")
def import_app():
    package = json_object()
    result = app_service.import_app(db(), current_actor(), package)
    commit()
    return jsonify(result.to_dict()), 201


@bp.get("/apps/<app_key>/export")
def export_app(app_key: str):
    actor = current_actor()
    summary = app_service.get_app(db(), actor.tenant_id, app_key)     # NotFound for other tenants' apps
    if not actor.unrestricted and not all(access.form_access(db(), actor, key).can_design
                                          for key in summary["forms"]):
        raise PermissionDenied(msg("导出应用“{k}”需要管理员或其全部表单的设计权限",
                                   "Exporting the app '{k}' needs an administrator or design permission on all "
                                   "of its forms", k=app_key))
    return jsonify(app_service.export_app(db(), actor.tenant_id, app_key))


from runtime.apps_admin import api as upgrade_api  # noqa: E402  (POST /apps/preview, POST /apps/upgrade)
upgrade_api.attach(bp)
