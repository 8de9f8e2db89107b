"""The supplier's pages: ``/portal`` (their 8D tasks, 8D reports, NCRs, scorecards, certificates) and
``/portal/tasks/<id>`` (answer one 8D discipline: its fields, sub-table rows and files).

Records are read by :mod:`engine.services.portal` with the supplier user's own Actor (read scopes
in SQL); the answer goes through ``flow_actions`` (only the task's assignee, only the step's
editable fields). Anyone who is not a supplier portal user gets the 404 page here.
"""
from __future__ import annotations

from functools import wraps

from flask import current_app, flash, redirect, render_template, request, url_for

from engine.errors import Conflict, NotFound, PermissionDenied, QMSError, RecordValidationError, TooManyAttempts
from engine.services import files as file_service
from engine.services import flow_actions, flow_queries
from engine.services import forms as form_service
from engine.services import portal as portal_service
from engine.services.flow_actions import TaskAction
from engine.services.names import names_for
from runtime.auth import current_actor, login_required
from runtime.db import commit, db
from runtime.entry.uploads import max_upload_bytes
from runtime.i18n import current_lang, label, t
from runtime.portal import answer, bp
from runtime.records import display
from runtime.records.views import error_page


@bp.context_processor
def _helpers() -> dict:
    return {"shown": display.shown, "when": display.when, "files_of": display.files, "link": display.link,
            "choice_label": display.choice_label, "input_value": answer.input_value, "label": label}


def portal_only(view):
    """Signed in (else the login page) as a supplier portal user (else the 404 page)."""
    @wraps(view)
    @login_required
    def wrapper(*args, **kwargs):
        if not portal_service.is_portal_user(current_actor()):
            return error_page(404)
        return view(*args, **kwargs)
    return wrapper


@bp.get("/portal")
@portal_only
def index():
    actor = current_actor()
    data = portal_service.overview(db(), actor)
    fields = {key: _fields(key) for key in ("ncr", "supplier", "supplier_scorecard")}
    certs = fields["supplier"].get("certificates")
    ncr_part = fields["ncr"].get("part")
    names = names_for(db(), actor, [ncr_part] if ncr_part else [], [{"part": n["part"]} for n in data["ncrs"]])
    return render_template("portal/index.html", fields=fields, names=names,
                           cert_fields={c.key: c for c in certs.fields} if certs else {}, **data)


def _fields(form_key: str) -> dict:
    """{field key: FieldDef} of a published form, {} when it is not installed (labels of codes)."""
    try:
        form = form_service.get_form(db(), current_actor().tenant_id, form_key)
    except NotFound:
        return {}
    return {f.key: f for f in form.fields}


# ---------------------------------------------------------------------------- one task

def _task_page(task_id: int, status: int = 200, errors: dict | None = None, problem: str | None = None):
    actor, session = current_actor(), db()
    view = flow_queries.task_view(session, actor, task_id)       # NotFound unless it is the actor's task
    instance, node, record = view["instance"], view["node"], view["record"]
    form = form_service.get_form(session, actor.tenant_id, instance["form_key"], record.def_version)
    editable, context = answer.step_fields(form.fields, node, record.data)
    if not view["can_act"]:
        editable = []
    fields = [i["field"] for i in editable + context]
    return render_template(
        "portal/task.html", task=view["task"], flow_def=view["flow"], node=node, record=record, form=form,
        editable=editable, context=context, can_act=view["can_act"], overdue=view["overdue"],
        names=names_for(session, actor, fields, [record.data]), errors=errors or {}, problem=problem,
        signature=label(node.signature.label) if node.signature else None,
        history=flow_queries.history(session, actor, instance["form_key"], instance["record_id"]),
        entered=request.form if request.method == "POST" else {}), status


@bp.get("/portal/tasks/<int:task_id>")
@portal_only
def task(task_id: int):
    try:
        return _task_page(task_id)
    except NotFound:
        return error_page(404)


def _save_uploads(field_key: str, accept, images_only: bool) -> list[dict]:
    """The files chosen in one file input, kept by the upload service; their descriptors."""
    out = []
    limit = max_upload_bytes()
    for upload in request.files.getlist(field_key):
        if not upload or not upload.filename:
            continue
        data = upload.stream.read(limit + 1)
        stored = file_service.save_file(db(), current_actor(), current_app.config["QMS_SETTINGS"].uploads_dir, data,
                                        upload.filename, accept=accept, images_only=images_only, max_bytes=limit)
        out.append({"id": stored.id, "name": stored.name, "size": stored.size, "content_type": stored.content_type})
    return out


def _answer(task_id: int) -> None:
    """Evidence files as a comment, then the step's fields with approval (one transaction)."""
    actor, session = current_actor(), db()
    view = flow_queries.task_view(session, actor, task_id)
    instance, node, record = view["instance"], view["node"], view["record"]
    form = form_service.get_form(session, actor.tenant_id, instance["form_key"], record.def_version)
    editable, _context = answer.step_fields(form.fields, node, record.data)
    data = answer.submitted(editable, request.form, answer.browser_zone(request.form.get("tz_offset")))
    for item in (i for i in editable if i["kind"] == "files"):
        f = item["field"]
        new = _save_uploads("file_" + f.key, list(f.option("accept") or ()) or None, f.type == "image")
        if new:
            data[f.key] = list(item["value"] or []) + new
    comment = (request.form.get("comment") or "").strip() or None
    evidence = _save_uploads("evidence", None, False)
    if evidence:
        flow_actions.act(session, actor, task_id, "comment", TaskAction(
            comment=comment or t("附件", "Attachments"), attachments=[e["id"] for e in evidence]))
        portal_service.attach_evidence(session, actor, instance["form_key"], instance["record_id"],
                                       [e["id"] for e in evidence])
    flow_actions.act_counting_failures(session, actor, task_id, "approve", TaskAction(
        comment=comment, data=data or None, password=request.form.get("password") or None), commit=commit)
    file_service.bind_files(session, actor, instance["form_key"], instance["record_id"], form.fields, data)


@bp.post("/portal/tasks/<int:task_id>")
@portal_only
def submit(task_id: int):
    lang = current_lang()
    try:
        _answer(task_id)
        commit()
    except NotFound:
        db().rollback()
        return error_page(404)
    except RecordValidationError as exc:
        db().rollback()
        errors = {p.field: p.message.get(lang) for p in exc.errors}
        return _safe_page(task_id, 422, errors, t("请检查标出的字段。", "Check the fields marked below."))
    except QMSError as exc:
        db().rollback()
        status = 429 if isinstance(exc, TooManyAttempts) else 403 if isinstance(exc, PermissionDenied) else \
            409 if isinstance(exc, Conflict) else 422
        return _safe_page(task_id, status, {}, exc.message.get(lang))
    flash(t("已提交，流程已转到下一步。", "Submitted; the request has moved on to its next step."), "ok")
    return redirect(url_for("portal.index"))


def _safe_page(task_id: int, status: int, errors: dict, problem: str | None):
    try:
        return _task_page(task_id, status, errors, problem)
    except NotFound:
        return error_page(404)
