"""Admin pages for a supplier's portal logins: ``/admin/suppliers/<id>/portal-users`` lists them,
creates one (password generated and shown once when left blank) and deactivates one."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from engine.auth.passwords import generate_password
from engine.errors import QMSError
from engine.services import portal as portal_service
from engine.services import records as record_service
from runtime.auth import current_actor
from runtime.db import commit, db
from runtime.guards import page_guard
from runtime.i18n import current_lang, t
from runtime.portal import bp


def _is_admin() -> bool:
    return bool(current_actor().is_admin)


def _page(supplier_id: int, status: int = 200, problem: str | None = None, created: dict | None = None):
    actor = current_actor()
    supplier = record_service.get_record(db(), actor, portal_service.SUPPLIER_FORM, supplier_id)
    people = portal_service.list_supplier_users(db(), actor, supplier_id)
    return render_template("portal/admin_users.html", supplier=supplier, people=people, problem=problem,
                           created=created, entered=request.form if problem else {}), status


@bp.get("/admin/suppliers/<int:supplier_id>/portal-users")
@page_guard(_is_admin)
def portal_users(supplier_id: int):
    return _page(supplier_id)


@bp.post("/admin/suppliers/<int:supplier_id>/portal-users")
@page_guard(_is_admin)
def create_portal_user(supplier_id: int):
    email = (request.form.get("email") or "").strip()
    name = (request.form.get("name") or "").strip()
    password = request.form.get("password") or None
    generated = None if password else generate_password()
    try:
        portal_service.create_supplier_user(db(), current_actor(), supplier_id, email, name, password or generated)
        commit()
    except QMSError as exc:
        db().rollback()
        return _page(supplier_id, 422, exc.message.get(current_lang()))
    return _page(supplier_id, 201, created={"email": email, "password": generated})


@bp.post("/admin/suppliers/<int:supplier_id>/portal-users/<int:user_id>/deactivate")
@page_guard(_is_admin)
def deactivate_portal_user(supplier_id: int, user_id: int):
    portal_service.deactivate_supplier_user(db(), current_actor(), supplier_id, user_id)
    commit()
    flash(t("门户账号已停用", "The portal user is deactivated"), "ok")
    return redirect(url_for("portal.portal_users", supplier_id=supplier_id))
