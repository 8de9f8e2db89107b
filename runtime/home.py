"""The home page: the tenant's apps and the forms the user may open."""
from __future__ import annotations

from flask import Blueprint, render_template

from engine.access import form_access
from engine.services import apps as app_service
from engine.services import forms as form_service
from runtime.auth import current_actor, login_required
from runtime.db import db

bp = Blueprint("home", __name__, template_folder="templates")


def visible_forms(actor) -> list[dict]:
    """Published forms the actor can create in or read from, with their labels."""
    session = db()
    result = []
    for row in form_service.list_forms(session, actor.tenant_id):
        access = form_access(session, actor, row["key"])
        if access.can_create or access.read.allows_any:
            form = form_service.get_form(session, actor.tenant_id, row["key"])
            result.append({**row, "label": form.label, "can_create": access.can_create})
    return result


@bp.get("/")
@login_required
def index():
    actor = current_actor()
    forms = visible_forms(actor)
    apps = app_service.list_apps(db(), actor.tenant_id)
    owned = {key for app in apps for key in app.get("forms", ())}
    groups = [{"app": app, "forms": [f for f in forms if f["key"] in set(app.get("forms", ()))]} for app in apps]
    groups = [g for g in groups if g["forms"]]
    loose = [f for f in forms if f["key"] not in owned]
    return render_template("home.html", groups=groups, loose=loose)
