"""Record list (filters, search, sort, paging), detail with timeline, delete, bulk edit and bulk
delete of the records selected on the list, and export.

Every read and write goes through the engine's services, which apply the read scope in SQL and
drop hidden fields; a form the user cannot read answers a 404 page, a missing export right 403.
"""
from __future__ import annotations

import tempfile
from datetime import date

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for

from engine.access import form_access
from engine.errors import Conflict, ExpressionError, NotFound, PermissionDenied, QMSError, RecordValidationError
from engine.forms import layout as form_layout
from engine.i18n import msg
from engine.services import accounts, exports, flow_defs, flow_queries, flows
from engine.services import bulk as bulk_service
from engine.services import forms as form_service
from engine.services import records as record_service
from engine.services.names import names_for
from engine.storage import form_store
from runtime.auth import current_actor, login_required
from runtime.db import commit, db
from runtime.i18n import current_lang, label, t
from runtime.records import bulk_form, display, listing

bp = Blueprint("records", __name__)
CHUNK = 64 * 1024
DEFAULT_COLUMNS = 6


@bp.context_processor
def _helpers() -> dict:
    return {"link": display.link, "shown": display.shown, "files_of": display.files, "when": display.when,
            "approval": display.approval}


def error_page(status: int, message: str | None = None):
    """A 404/403 page in the site's layout (engine errors on pages are not JSON)."""
    default = {404: t("找不到该页面或记录，或者你没有查看权限。", "This page or record does not exist, or you may not see it."),
               403: t("你没有执行此操作的权限。", "You do not have permission to do this.")}[status]
    return render_template("records/error.html", status=status, message=message or default), status


def readable_form(form_key: str):
    """(form, access) for a form the actor may read; NotFound otherwise (never reveals existence)."""
    actor = current_actor()
    form = form_service.get_form(db(), actor.tenant_id, form_key)
    access = form_access(db(), actor, form_key)
    if not access.read.allows_any:
        raise NotFound(msg("找不到表单", "No such form"))
    return form, access


def _columns(form, hidden, with_flow: bool = False) -> list[dict]:
    """Columns the chooser offers: the reader's fields, then system columns (and the approval
    state when a flow runs on the form)."""
    cols = [{"key": f.key, "label": label(f.label), "field": f, "sortable": f.key in listing.sortable(form, hidden)}
            for f in form.fields if f.key not in hidden]
    for i, col in enumerate(cols):
        col["default"] = i < DEFAULT_COLUMNS
    system = [("serial_no", t("编号", "No.")), ("created_at", t("创建时间", "Created")),
              ("updated_at", t("修改时间", "Updated"))]
    flow = [{"key": "flow_state", "label": t("审批状态", "Approval"), "field": None, "sortable": False,
             "default": True}] if with_flow else []
    return [{"key": k, "label": text, "field": None, "sortable": True, "default": k != "updated_at"}
            for k, text in system[:1]] + cols + flow + [
            {"key": k, "label": text, "field": None, "sortable": True, "default": k != "updated_at"}
            for k, text in system[1:]]


# How long a list page may spend counting matches before it says "more than N" (the page itself
# needs only its rows; an exact count is one click away)
LIST_COUNT_BUDGET_MS = 60


@bp.get("/f/<form_key>")
@login_required
def list_records(form_key: str):
    actor = current_actor()
    try:
        form, access = readable_form(form_key)
    except NotFound:
        return error_page(404)
    query = listing.parse_query(request.args, form, access.hidden_fields)
    expression = listing.build_filter(query, form, access.hidden_fields)
    error = None
    try:
        exact = request.args.get("count") == "exact"
        page = record_service.query_records(db(), actor, form_key, filter=expression, sort=query.sort,
                                            page=query.page, per_page=query.per_page,
                                            count_budget_ms=None if exact else LIST_COUNT_BUDGET_MS)
    except (ExpressionError, record_service.QueryError) as exc:     # not expected: filters are built safely
        error = exc.message.get(current_lang())
        page = record_service.Page([], 0, 1, query.per_page)
    pages = None if page.total is None else max(1, -(-page.total // page.per_page))
    names = names_for(db(), actor, form.fields, [r.data for r in page.items])
    return render_template(
        "records/list.html", form=form, access=access, query=query, page=page, pages=pages, error=error,
        at_least=(page.page - 1) * page.per_page + len(page.items), names=names,
        columns=_columns(form, access.hidden_fields, form_store.has_flows(db(), actor.tenant_id, form_key)), filters=listing.filterable(form, access.hidden_fields),
        per_page_choices=listing.PER_PAGE_CHOICES, filtered=bool(expression),
        storage_key=f"qms.columns.{actor.tenant_id}.{actor.user_id}.{form_key}",
        bulk_edit=access.update.allows_any and bool(bulk_form.offered_fields(form, access)),
        bulk_delete=access.delete.allows_any)


@bp.get("/f/<form_key>/<int:record_id>")
@login_required
def detail(form_key: str, record_id: int):
    actor = current_actor()
    try:
        form, access = readable_form(form_key)
        record = record_service.get_record(db(), actor, form_key, record_id)
        history = record_service.record_history(db(), actor, form_key, record_id)
    except NotFound:
        return error_page(404)
    shown_form = form if record.def_version == form.version else \
        form_service.get_form(db(), actor.tenant_id, form_key, record.def_version)
    fields = [f for f in shown_form.fields if f.key not in access.hidden_fields]
    labels = {f.key: label(f.label) for f in shown_form.fields}
    flow = flow_queries.history(db(), actor, form_key, record_id)
    return render_template("records/detail.html", form=form, record=record, fields=fields, history=history,
                           sections=form_layout.sections(shown_form, fields),
                           labels=labels, access=access, names=names_for(db(), actor, fields, [record.data]),
                           flow=flow, startable=_startable(actor, form_key, record_id, flow))


def _startable(actor, form_key: str, record_id: int, flow: dict | None) -> list[tuple[str, str]]:
    """(key, name) of the flows the reader may send this record through now (none while one runs)."""
    if flow is not None and flow["instance"]["state"] in ("running", "returned", "withdrawn"):
        return []
    if not record_service.may_update(db(), actor, form_key, record_id):
        return []
    keys = [f["key"] for f in flow_defs.list_flows(db(), actor.tenant_id) if f["form_key"] == form_key]
    return [(k, label(flow_defs.load_flow_version(db(), actor.tenant_id, k).label)) for k in keys]


@bp.post("/f/<form_key>/<int:record_id>/delete")
@login_required
def delete(form_key: str, record_id: int):
    actor = current_actor()
    try:
        version = int(request.form.get("version", ""))
    except ValueError:
        version = None
    try:
        readable_form(form_key)
        record_service.delete_record(db(), actor, form_key, record_id, expected_version=version,
                                     reason=(request.form.get("reason") or "").strip()[:500] or None)
        commit()
    except NotFound:
        return error_page(404)
    except PermissionDenied as exc:
        return error_page(403, exc.message.get(current_lang()))
    except Conflict as exc:
        flash(exc.message.get(current_lang()), "error")
        return redirect(url_for("records.detail", form_key=form_key, record_id=record_id))
    flash(t(f"记录 {record_id} 已删除", f"Record {record_id} deleted"), "ok")
    return redirect(url_for("records.list_records", form_key=form_key))


@bp.get("/f/<form_key>/export.<fmt>")
@login_required
def export(form_key: str, fmt: str):
    """The current list (same filters, search and sort) as .xlsx or .csv, streamed from a spool file."""
    actor = current_actor()
    if fmt not in exports.FORMATS:
        return error_page(404)
    try:
        form, access = readable_form(form_key)
        exports.require(db(), actor, form_key, "export")
    except NotFound:
        return error_page(404)
    except PermissionDenied as exc:
        return error_page(403, exc.message.get(current_lang()))
    query = listing.parse_query(request.args, form, access.hidden_fields)
    wanted = [c for c in (request.args.get("cols") or "").split(",") if c]
    columns = [f.key for f in form.fields if f.key in wanted and f.key not in access.hidden_fields] or None
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    try:
        exports.write_export(spool, db(), actor, form_key, fmt, listing.build_filter(query, form, access.hidden_fields),
                             query.sort, columns, current_lang())
    except QMSError as exc:
        spool.close()
        return error_page(404 if isinstance(exc, NotFound) else 403, exc.message.get(current_lang()))
    size = spool.tell()
    spool.seek(0)

    def chunks():
        with spool:
            while block := spool.read(CHUNK):
                yield block
    mime = {"csv": "text/csv; charset=utf-8",
            "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}[fmt]
    name = f"{form_key}-{date.today().isoformat()}.{fmt}"
    return Response(chunks(), mimetype=mime, headers={"Content-Disposition": f'attachment; filename="{name}"',
                                                      "Content-Length": str(size), "Cache-Control": "no-store"})


# ---------------------------------------------------------------------------- bulk edit and delete

def _selection(form_key: str) -> tuple[list[int], dict[int, int], str]:
    """(ids, versions seen, back URL) carried from the list page through each step."""
    source = request.form if request.method == "POST" else request.args
    ids, versions = bulk_form.parse_selection(source.getlist("ids"))
    return ids, versions, bulk_form.safe_back(source.get("back"), url_for("records.list_records", form_key=form_key))


def _bulk_form(form_key: str, action: str):
    """(form, access) when the user may do ``action`` (update/delete) on some records, else an error page."""
    try:
        form, access = readable_form(form_key)
    except NotFound:
        return None, error_page(404)
    if not getattr(access, action).allows_any:
        return None, error_page(403)
    return (form, access), None


def _reason() -> str | None:
    return (request.form.get("reason") or "").strip()[:500] or None


@bp.route("/f/<form_key>/bulk/edit", methods=["GET", "POST"])
@login_required
def bulk_edit(form_key: str):
    """Choose a field (GET), then its new value and a reason (POST): the result lists each problem."""
    actor = current_actor()
    found, refused = _bulk_form(form_key, "update")
    if refused:
        return refused
    form, access = found
    ids, versions, back = _selection(form_key)
    if not ids:
        flash(t("请先勾选要修改的记录。", "Select the records to edit first."), "error")
        return redirect(back)
    fields = bulk_form.offered_fields(form, access)
    chosen = next((f for f in fields if f.key == (request.values.get("field") or "")), None)
    page = dict(form=form, fields=fields, chosen=chosen, ids=bulk_form.selection_values(ids, versions), count=len(ids),
                back=back, errors=[], error=None, reason=_reason() or "")
    if chosen is not None:
        page["input"] = bulk_form.field_input(chosen, current_lang(), _people(actor, chosen, "user"),
                                              _people(actor, chosen, "department"))
    if request.method == "GET" or chosen is None:
        return render_template("records/bulk_edit.html", **page)
    return _apply_edit(actor, form_key, chosen, ids, versions, page)


def _apply_edit(actor, form_key: str, chosen, ids: list[int], versions: dict[int, int], page: dict):
    """Run the bulk update of the posted value: the result page, or the edit page with the problem."""
    zone = bulk_form.user_zone(request.form.get("tz_offset"), flows.calendar_of(db(), actor.tenant_id).timezone)
    data = {chosen.key: bulk_form.value_from(chosen, request.form, zone)}
    try:
        report = bulk_service.bulk_update(db(), actor, form_key, ids, None, data, _reason(), versions=versions,
                                          max_records=bulk_form.MAX_SELECTED, tz=zone)
        commit()
    except RecordValidationError as exc:
        page["errors"] = [e.message.get(current_lang()) for e in exc.errors]
        return render_template("records/bulk_edit.html", **page), 422
    except PermissionDenied as exc:
        return error_page(403, exc.message.get(current_lang()))
    except QMSError as exc:
        page["error"] = exc.message.get(current_lang())
        return render_template("records/bulk_edit.html", **page), 400
    return render_template("records/bulk_result.html", form=page["form"], report=report, back=page["back"],
                           field=chosen)


def _people(actor, f, kind: str) -> list[dict]:
    """Users or departments for the picker, only when the chosen field needs them."""
    if f.type != kind:
        return []
    if kind == "user":
        return accounts.list_users(db(), actor.tenant_id)
    return accounts.list_departments(db(), actor.tenant_id)


@bp.route("/f/<form_key>/bulk/delete", methods=["GET", "POST"])
@login_required
def bulk_delete(form_key: str):
    """Confirm with the count and a reason (GET), delete (POST): the result lists each problem."""
    found, refused = _bulk_form(form_key, "delete")
    if refused:
        return refused
    form, _access = found
    ids, versions, back = _selection(form_key)
    if not ids:
        flash(t("请先勾选要删除的记录。", "Select the records to delete first."), "error")
        return redirect(back)
    page = dict(form=form, ids=bulk_form.selection_values(ids, versions), count=len(ids), back=back, error=None)
    if request.method == "GET":
        return render_template("records/bulk_delete.html", **page)
    try:
        report = bulk_service.bulk_delete(db(), current_actor(), form_key, ids, None, _reason(), versions=versions,
                                          max_records=bulk_form.MAX_SELECTED)
        commit()
    except PermissionDenied as exc:
        return error_page(403, exc.message.get(current_lang()))
    except QMSError as exc:
        page["error"] = exc.message.get(current_lang())
        return render_template("records/bulk_delete.html", **page), 400
    return render_template("records/bulk_result.html", form=form, report=report, back=back, field=None)
