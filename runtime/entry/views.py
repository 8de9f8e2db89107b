"""The generated form pages: new record, edit record, the live compute endpoint, and save.

Pages are drawn from the published definition (an edit uses the version the record was
written under). Saving goes through ``engine.services.records`` — the same validation,
formulas and permissions as the API and imports; every field error comes back together, with
its path, in the user's language.
"""
from __future__ import annotations

from datetime import timedelta, timezone, tzinfo
from functools import wraps
from typing import Any, Mapping

from flask import abort, jsonify, render_template, request, url_for
from werkzeug.routing import BuildError

from engine import errors as E
from engine.access import form_access
from engine.errors import FieldProblem
from engine.expressions import EvalContext
from engine.fields import field_type
from engine.forms import blank_record
from engine.forms.fieldviews import section_views
from engine.forms.live import form_state
from engine.i18n import label_text, msg
from engine.services.facts import SqlFacts
from engine.services import files as file_service
from engine.services import forms as form_service
from engine.services import records as record_service
from engine.services.pickers import form_pickers, record_label
from runtime.auth import current_actor, login_required
from runtime.db import commit, db
from runtime.entry import bp
from runtime.i18n import current_lang, t

SEARCH_OPTIONS = 50


# ---------------------------------------------------------------------------- helpers

def _tz(body: Mapping | None) -> tzinfo | None:
    """The browser's UTC offset (minutes east of UTC, as the page sends it), else None."""
    value = body.get("tz_offset") if isinstance(body, Mapping) else None
    if isinstance(value, int) and not isinstance(value, bool) and -16 * 60 <= value <= 16 * 60:
        return timezone(timedelta(minutes=value))
    return None


def _error(exc: E.QMSError, status: int | None = None, **extra):
    lang = current_lang()
    body = {"error": {"code": exc.code, "message": exc.message.get(lang)}, **extra}
    if isinstance(exc, E.RecordValidationError):
        body["errors"] = [p.to_dict(lang) for p in exc.errors]
    if status is None:
        status = 400
        for cls, code in ((E.NotFound, 404), (E.PermissionDenied, 403), (E.Conflict, 409),
                          (E.RecordValidationError, 422)):
            if isinstance(exc, cls):
                status = code
    return jsonify(body), status


def _detail_url(form_key: str, record_id: int) -> str:
    try:
        return url_for("records.detail", form_key=form_key, record_id=record_id)
    except BuildError:      # the records pages are registered by the app; the path is the contract
        return f"/f/{form_key}/{record_id}"


def _list_url(form_key: str) -> str:
    try:
        return url_for("records.list_records", form_key=form_key)
    except BuildError:
        return f"/f/{form_key}"


@bp.get("/f/<form_key>/options")
@login_required
def reference_options(form_key: str):
    """Records of ``form_key`` whose text fields, number or title contain ``q`` (the reader's scope
    applies): what a reference picker offers once the form has more records than it lists."""
    from runtime.records.listing import ListQuery, build_filter
    actor, session = current_actor(), db()
    needle = (request.args.get("q") or "").strip()[:100]
    display = request.args.get("display") or None
    try:
        form = form_service.get_form(session, actor.tenant_id, form_key)
        hidden = form_access(session, actor, form_key).hidden_fields
        expression = build_filter(ListQuery(search=needle), form, hidden) if needle else None
        page = record_service.query_records(session, actor, form_key, expression, sort="-id", per_page=SEARCH_OPTIONS)
    except E.QMSError as exc:
        return _error(exc)
    return jsonify({"items": [{"id": r.id, "label": record_label(r, display)} for r in page.items]})


def json_values(fields, values: Mapping) -> dict:
    """Clean Python values (dates, nested rows) as the JSON the page works with."""
    out = {}
    for f in fields:
        value = values.get(f.key)
        if f.fields:
            out[f.key] = [json_values(f.fields, row) for row in value or ()]
        else:
            out[f.key] = field_type(f.type).to_json(f, value) if value is not None else None
    return out


def _with_file_urls(fields, data: Any) -> Any:
    """Record data with a download URL on each file descriptor (for thumbnails and links)."""
    if not isinstance(data, Mapping):
        return data
    out = dict(data)
    for f in fields:
        value = out.get(f.key)
        if f.fields and isinstance(value, list):
            out[f.key] = [_with_file_urls(f.fields, row) for row in value]
        elif f.type in file_service.FILE_TYPES and isinstance(value, list):
            out[f.key] = [{**d, "url": url_for("entry.download_file", file_id=d["id"])}
                          if isinstance(d, Mapping) and str(d.get("id", "")).isdigit() else d for d in value]
    return out


def _page(form, access, values: Mapping, record=None):
    actor, session, lang = current_actor(), db(), current_lang()
    sections = section_views(form, lang, form_pickers(session, actor), access.readonly_fields, access.hidden_fields)
    shown = {k: v for k, v in values.items() if k not in access.hidden_fields}
    config = {
        "form": form.key, "record_id": record.id if record else None, "version": record.version if record else None,
        "compute_url": url_for("entry.compute", form_key=form.key),
        "save_url": request.path, "upload_url": url_for("entry.upload_file"),
        "list_url": _list_url(form.key), "lang": lang,
        "values": _with_file_urls(form.fields, shown),
    }
    return render_template("entry/form.html", form=form, form_label=label_text(form.label, lang),
                           description=label_text(form.description, lang) if form.description else "",
                           sections=sections, record=record, config=config, list_url=config["list_url"])


def _json_body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(400)
    return body


def _file_problems(session, actor, form, data: Any, record_id: int | None) -> list[FieldProblem]:
    """Files the user may not put in this record (another user's upload, another record's file)."""
    refs = list(file_service.file_refs(form.fields, data if isinstance(data, Mapping) else {}))
    bad = file_service.unusable_files(session, actor, [r[2] for r in refs], form.key, record_id) if refs else set()
    return [FieldProblem(path, msg("文件 {i} 不存在或不是你上传的", "File {i} does not exist or was not uploaded by you",
                                   i=file_id)) for path, _k, file_id in refs if file_id in bad]


# ---------------------------------------------------------------------------- pages

def _html_errors(view):
    """Page requests (GET) get the app's HTML 404/403 pages instead of the JSON error body."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except E.NotFound:
            if request.method != "GET":
                raise
            abort(404)
        except E.PermissionDenied:
            if request.method != "GET":
                raise
            abort(403)
    return wrapper


@bp.route("/f/<form_key>/new", methods=["GET", "POST"])
@login_required
@_html_errors
def new_record(form_key: str):
    actor, session = current_actor(), db()
    form = form_service.get_form(session, actor.tenant_id, form_key)
    access = form_access(session, actor, form_key)
    if request.method == "GET":
        if not access.can_create:
            abort(403)
        ctx = EvalContext(user_id=actor.user_id, lang=actor.lang, facts=SqlFacts(session, actor.tenant_id))
        values = blank_record(form, ctx)
        return _page(form, access, json_values(form.fields, values))
    body = _json_body()
    data = body.get("data")
    problems = _file_problems(session, actor, form, data, None)
    try:
        record = record_service.create_record(session, actor, form_key, data if isinstance(data, dict) else {},
                                              tz=_tz(body))
    except E.RecordValidationError as exc:
        return _error(E.RecordValidationError(list(exc.errors) + problems))
    except E.QMSError as exc:
        return _error(exc)
    if problems:
        return _error(E.RecordValidationError(problems))
    file_service.bind_files(session, actor, form_key, record.id, form.fields, record.data)
    commit()
    return jsonify({"id": record.id, "version": record.version, "redirect": _detail_url(form_key, record.id),
                    "message": t("已保存", "Saved")}), 201


@bp.route("/f/<form_key>/<int:record_id>/edit", methods=["GET", "POST"])
@login_required
@_html_errors
def edit_record(form_key: str, record_id: int):
    actor, session = current_actor(), db()
    record = record_service.get_record(session, actor, form_key, record_id)
    form = form_service.get_form(session, actor.tenant_id, form_key, record.def_version)
    access = form_access(session, actor, form_key)
    if request.method == "GET":
        if not access.update.allows_any:
            abort(403)
        return _page(form, access, record.data, record)
    body = _json_body()
    data, version = body.get("data"), body.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        return _error(E.RecordValidationError([FieldProblem("version", msg(
            "缺少记录版本号", "The record version is missing"))]))
    problems = _file_problems(session, actor, form, data, record_id)
    try:
        updated = record_service.update_record(session, actor, form_key, record_id, version,
                                               data if isinstance(data, dict) else {}, tz=_tz(body))
    except E.RecordValidationError as exc:
        return _error(E.RecordValidationError(list(exc.errors) + problems))
    except E.QMSError as exc:
        return _error(exc)
    if problems:
        return _error(E.RecordValidationError(problems))
    file_service.bind_files(session, actor, form_key, record_id, form.fields, updated.data)
    commit()
    return jsonify({"id": updated.id, "version": updated.version, "redirect": _detail_url(form_key, record_id),
                    "message": t("已保存", "Saved")}), 200


@bp.post("/f/<form_key>/compute")
@login_required
def compute(form_key: str):
    """Live formulas and conditions for the values typed so far (nothing is stored)."""
    actor, session = current_actor(), db()
    body = _json_body()
    record_id = body.get("record_id")
    try:
        if isinstance(record_id, int) and not isinstance(record_id, bool):
            record = record_service.get_record(session, actor, form_key, record_id)
            form = form_service.get_form(session, actor.tenant_id, form_key, record.def_version)
        else:
            form = form_service.get_form(session, actor.tenant_id, form_key)
        access = form_access(session, actor, form_key)
        if not (access.can_create or access.update.allows_any):
            raise E.PermissionDenied(msg("你不能填写表单“{k}”", "You may not fill in form '{k}'", k=form_key))
    except E.QMSError as exc:
        return _error(exc)
    ctx = EvalContext(user_id=actor.user_id, tz=_tz(body), lang=current_lang(), facts=SqlFacts(session, actor.tenant_id))
    state = form_state(form, body.get("data"), ctx, _lookup_fetcher(session, actor, form),
                       access.hidden_fields, access.readonly_fields)
    return jsonify(state)


def _lookup_fetcher(session, actor, form):
    """fetch(reference plan, id) → the referenced record's data (as the user may read it), cached."""
    cache: dict[tuple[str, Any], Any] = {}

    def fetch(ref, record_id):
        target = ref.field.option("form")
        if not isinstance(target, str) or not isinstance(record_id, int):
            return None
        if (target, record_id) not in cache:
            try:
                cache[(target, record_id)] = record_service.get_record(session, actor, target, record_id).data
            except E.QMSError:
                cache[(target, record_id)] = None
        return cache[(target, record_id)]
    return fetch

