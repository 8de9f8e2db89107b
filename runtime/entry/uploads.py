"""File upload and download: ``POST /files`` (multipart) and ``GET /files/<id>``.

Uploads are limited in size (``QMS_MAX_UPLOAD_MB``, default 20) and type (the field's
``accept`` option, else a safe default list; image, photo and signature fields take only real
images), stored outside the web root by :mod:`engine.services.files`, and served only to users
allowed to read them — as a download, or inline for images, never sniffed by the browser.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

from flask import abort, current_app, jsonify, request, send_file, url_for

from engine import errors as E
from engine.access import form_access
from engine.i18n import msg
from engine.services import files as file_service
from engine.services import forms as form_service
from runtime.auth import current_actor, login_required
from runtime.db import commit, db
from runtime.entry import bp
from runtime.i18n import current_lang

DEFAULT_MAX_MB = 20
_ROW_INDEX = re.compile(r"\[\d+\]")


def max_upload_bytes() -> int:
    """The upload limit: app config or environment ``QMS_MAX_UPLOAD_MB`` (default 20 MB)."""
    raw = current_app.config.get("QMS_MAX_UPLOAD_MB") or os.environ.get("QMS_MAX_UPLOAD_MB") or DEFAULT_MAX_MB
    try:
        mb = float(raw)
    except (TypeError, ValueError):
        mb = DEFAULT_MAX_MB
    return int(max(mb, 0.001) * 1024 * 1024)


def uploads_dir() -> Path:
    return current_app.config["QMS_SETTINGS"].uploads_dir


def _fail(exc: E.QMSError, status: int):
    return jsonify({"error": {"code": exc.code, "message": exc.message.get(current_lang())}}), status


def _field(form, dotted: str):
    """The FieldDef at ``characteristics.photo`` or ``characteristics[0].photo``, else None."""
    fields, found = form.fields, None
    for key in _ROW_INDEX.sub("", dotted or "").split("."):
        found = next((f for f in fields if f.key == key), None)
        if found is None:
            return None
        fields = found.fields
    return found


def _limits(actor, form_key: str | None, field_path: str | None):
    """(accept, images_only, max bytes) for an upload into that form field; 403/404 when not allowed."""
    limit = max_upload_bytes()
    if not form_key:
        return None, False, limit
    session = db()
    form = form_service.get_form(session, actor.tenant_id, form_key)
    access = form_access(session, actor, form_key)
    if not (access.can_create or access.update.allows_any):
        raise E.PermissionDenied(msg("你不能向表单“{k}”上传文件", "You may not upload files to form '{k}'", k=form_key))
    field = _field(form, field_path) if field_path else None
    if field_path and (field is None or field.type not in file_service.FILE_TYPES):
        raise E.NotFound(msg("表单“{k}”中没有文件字段“{f}”", "Form '{k}' has no file field '{f}'",
                             k=form_key, f=field_path[:100]))
    if field is None:
        return None, False, limit
    max_mb = field.option("max_size_mb")
    if isinstance(max_mb, (int, float)) and max_mb > 0:
        limit = min(limit, int(max_mb * 1024 * 1024))
    return list(field.option("accept") or ()) or None, field.type != "attachment", limit


@bp.post("/files")
@login_required
def upload_file():
    actor = current_actor()
    try:
        accept, images_only, limit = _limits(actor, request.form.get("form"), request.form.get("field"))
    except E.NotFound as exc:
        return _fail(exc, 404)
    except E.PermissionDenied as exc:
        return _fail(exc, 403)
    upload = request.files.get("file")
    if upload is None:
        return _fail(file_service.UploadError(msg("请选择要上传的文件", "Choose a file to upload")), 400)
    data = upload.stream.read(limit + 1)
    if len(data) > limit:
        return _fail(file_service.UploadError(msg(
            "文件“{n}”超过 {m} MB 的上限", "The file '{n}' is larger than the {m} MB limit",
            n=file_service.sanitize_name(upload.filename), m=round(limit / 1024 / 1024, 1))), 413)
    try:
        stored = file_service.save_file(db(), actor, uploads_dir(), data, upload.filename, accept=accept,
                                        images_only=images_only, max_bytes=limit)
    except file_service.UploadError as exc:
        return _fail(exc, 422)
    commit()
    return jsonify({**stored.descriptor(), "url": url_for("entry.download_file", file_id=stored.id)}), 201


@bp.get("/files/<int:file_id>")
@login_required
def download_file(file_id: int):
    try:
        stored = file_service.get_file(db(), current_actor(), file_id, uploads_dir())
    except E.NotFound:
        abort(404)
    if not stored.path.is_file():
        abort(404)
    inline = stored.is_image
    response = send_file(stored.path, mimetype=stored.content_type, as_attachment=not inline,
                         download_name=stored.name, conditional=True, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    response.headers["Cache-Control"] = "private, max-age=0, must-revalidate"
    return response
