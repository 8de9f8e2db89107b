"""Import pages: upload .xlsx/.csv, check only (dry run) or import as a background job.

The uploaded file is kept under the data directory (``imports/t<tenant>/u<user>/<token>/``)
so the error workbook can be rebuilt on request and the job — which may run in another thread
or, later, on an rq worker — reads it from there. :func:`run_import_job` is that job: a plain
function of primitives that opens its own sessions. The import itself runs in ONE transaction
committed only at the end (all or nothing); progress is reported in short transactions of
their own (PostgreSQL) or, on SQLite where the import holds the only write lock, in memory.
"""
from __future__ import annotations

import io
import logging
import secrets
import time
from pathlib import Path

from flask import current_app, jsonify, redirect, render_template, request, send_file, url_for
from sqlalchemy.orm import Session
from werkzeug.utils import secure_filename

from engine.access import form_access
from engine.errors import NotFound, PermissionDenied, QMSError
from engine.i18n import msg
from engine.services import accounts, imports
from engine.services import forms as form_service
from engine.services import jobs as job_service
from engine.storage.db import session_scope
from engine.tabular import FileError
from runtime import jobs as runner
from runtime.auth import current_actor, login_required
from runtime.db import commit, db
from runtime.i18n import current_lang, t
from runtime.records.views import bp, error_page

MAX_UPLOAD = 50 * 1024 * 1024
MAX_SHOWN = 200
SUFFIXES = (".xlsx", ".csv")
JOB_KIND = "import"
log = logging.getLogger(__name__)


def _data_dir() -> Path:
    return Path(current_app.config["QMS_SETTINGS"].data_dir)


def _upload_dir(data_dir: Path, tenant_id: int, user_id: int | None, token: str) -> Path:
    return data_dir / "imports" / f"t{tenant_id}" / f"u{user_id}" / token


def _importable_form(form_key: str):
    """(form, access) when the actor may create or update records of the form; else NotFound/PermissionDenied."""
    actor = current_actor()
    form = form_service.get_form(db(), actor.tenant_id, form_key)
    access = form_access(db(), actor, form_key)
    if not (access.read.allows_any or access.can_create):
        raise NotFound(msg("找不到表单", "No such form"))
    if not (access.can_create or access.update.allows_any):
        raise PermissionDenied(msg("你没有导入该表单记录的权限", "You may not import records of this form"))
    return form, access


def _key_fields(form) -> list:
    return [f for f in form.fields if f.type in imports.KEY_TYPES]


def _render(form, status: int = 200, **extra):
    values = {"mode": request.form.get("mode", "insert"), "key_field": request.form.get("key_field", "")}
    context = {"report": None, "token": None, "error": None, "problems": [], **extra}
    return render_template("records/import.html", form=form, key_fields=_key_fields(form), values=values,
                           **context), status


@bp.get("/f/<form_key>/import")
@login_required
def import_page(form_key: str):
    try:
        form, _ = _importable_form(form_key)
    except NotFound:
        return error_page(404)
    except PermissionDenied as exc:
        return error_page(403, exc.message.get(current_lang()))
    return _render(form)


@bp.post("/f/<form_key>/import")
@login_required
def import_upload(form_key: str):
    actor = current_actor()
    try:
        form, _ = _importable_form(form_key)
    except NotFound:
        return error_page(404)
    except PermissionDenied as exc:
        return error_page(403, exc.message.get(current_lang()))
    upload = request.files.get("file")
    name = secure_filename(upload.filename or "") if upload else ""
    suffix = Path(upload.filename or "").suffix.lower() if upload else ""
    if not upload or suffix not in SUFFIXES:
        return _render(form, 422, error=t("请选择 .xlsx 或 .csv 文件", "Choose an .xlsx or .csv file"))
    data = upload.stream.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        return _render(form, 413, error=t("文件超过 50 MB", "The file is larger than 50 MB"))
    mode = request.form.get("mode") if request.form.get("mode") in imports.MODES else "insert"
    key_field = request.form.get("key_field") or None
    token = secrets.token_hex(16)
    folder = _upload_dir(_data_dir(), actor.tenant_id, actor.user_id, token)
    folder.mkdir(parents=True, exist_ok=True)
    filename = (name if name.lower().endswith(suffix) else f"upload{suffix}")
    (folder / filename).write_bytes(data)
    if request.form.get("action") == "run":
        return _start_job(form_key, mode, key_field, folder / filename, filename)
    try:
        report = imports.import_records(db(), actor, form_key, data, filename, mode, key_field, dry_run=True)
    except (FileError, imports.ImportSetupError, PermissionDenied) as exc:
        return _render(form, 422, error=exc.message.get(current_lang()))
    return _render(form, report=report, problems=report.problems[:MAX_SHOWN], token=token, filename=filename)


def _start_job(form_key: str, mode: str, key_field: str | None, path: Path, filename: str):
    actor = current_actor()
    params = {"form_key": form_key, "mode": mode, "key_field": key_field, "filename": filename,
              "path": str(path.relative_to(_data_dir())), "lang": current_lang()}
    job_id = job_service.create_job(db(), actor, JOB_KIND, params)
    commit()
    runner.submit("runtime.records.importing:run_import_job", current_app.config["DATABASE_URL"],
                  str(_data_dir()), job_id)
    return redirect(url_for("records.import_progress", form_key=form_key, job_id=job_id))


@bp.get("/f/<form_key>/import/<token>/errors.xlsx")
@login_required
def error_workbook(form_key: str, token: str):
    """The checked file with an error column (the check is re-run on the kept upload)."""
    actor = current_actor()
    folder = _upload_dir(_data_dir(), actor.tenant_id, actor.user_id, token)
    files = sorted(folder.glob("*")) if len(token) == 32 and token.isalnum() and folder.is_dir() else []
    if not files:
        return error_page(404)
    try:
        _importable_form(form_key)
        report = imports.import_records(db(), actor, form_key, files[0].read_bytes(), files[0].name,
                                        request.args.get("mode", "insert") if request.args.get("mode") in imports.MODES
                                        else "insert", request.args.get("key_field") or None, dry_run=True)
    except NotFound:
        return error_page(404)
    except QMSError as exc:
        return error_page(403, exc.message.get(current_lang()))
    body = imports.error_workbook(report, current_lang())
    return send_file(io.BytesIO(body), as_attachment=True, download_name=f"{form_key}-errors.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@bp.get("/f/<form_key>/import/jobs/<int:job_id>")
@login_required
def import_progress(form_key: str, job_id: int):
    try:
        form = form_service.get_form(db(), current_actor().tenant_id, form_key)
        job = job_service.get_job(db(), current_actor(), job_id)
    except NotFound:
        return error_page(404)
    return render_template("records/job.html", form=form, job=_with_live(job_service.job_json(job)))


@bp.get("/jobs/<int:job_id>")
@login_required
def job_status(job_id: int):
    """JSON: status, done, total, result, error (the progress page polls this)."""
    try:
        job = job_service.get_job(db(), current_actor(), job_id)
    except NotFound:
        return jsonify({"error": {"code": "not_found", "message": t("任务不存在", "No such job")}}), 404
    return jsonify(_with_live(job_service.job_json(job)))


def _with_live(body: dict) -> dict:
    live = runner.live_progress(body["id"])
    if live is not None and body["status"] in (job_service.QUEUED, job_service.RUNNING) and live[0] >= body["done"]:
        body["done"], body["total"] = live
    return body


# ---------------------------------------------------------------------------- the job


class _Reporter:
    """Progress of one job: in memory at once, in the jobs row at most twice a second when the
    database allows a second writer (not SQLite, whose write lock the import itself holds)."""

    def __init__(self, engine, job_id: int):
        self.engine, self.job_id, self.last = engine, job_id, 0.0
        self.to_db = engine.dialect.name != "sqlite"
        self.seen: tuple[int, int] | None = None

    def __call__(self, done: int, total: int) -> None:
        self.seen = (done, total)
        runner.report_live(self.job_id, done, total)
        now = time.monotonic()
        if self.to_db and (now - self.last >= 0.5 or done >= total):
            self.last = now
            with session_scope(self.engine) as s:
                job_service.set_progress(s, self.job_id, done, total)


def run_import_job(database_url: str, data_dir: str, job_id: int) -> None:
    """Run import job ``job_id``: read its params and file, import in one transaction, record the outcome."""
    engine = runner.engine_for(database_url)
    with session_scope(engine) as s:
        job = job_service.load_job(s, job_id)
        job_service.start_job(s, job_id)
        actor = accounts.actor_for_user(s, job["created_by"])
    params, lang = job["params"], job["params"].get("lang") or "zh-CN"
    reporter = None
    try:
        if actor.tenant_id != job["tenant_id"]:
            raise NotFound(msg("任务 {i} 不存在", "Job {i} does not exist", i=job_id))
        path = (Path(data_dir) / params["path"]).resolve()
        if Path(data_dir).resolve() not in path.parents:
            raise FileError(msg("导入文件路径无效", "Invalid import file path"))
        reporter = _Reporter(engine, job_id)
        outcome = _import(engine, actor, reporter, params, path.read_bytes(), lang)
    except QMSError as exc:
        outcome = ("failed", exc.message.get(lang), None)
    except Exception as exc:   # noqa: BLE001 — the job row must say it failed, whatever happened
        log.exception("import job %s failed", job_id)
        outcome = ("failed", f"{type(exc).__name__}: {exc}", None)
    finally:
        runner.forget_live(job_id)
    with session_scope(engine) as s:
        status, error, result = outcome
        if reporter is not None and reporter.seen is not None:
            job_service.set_progress(s, job_id, *reporter.seen)
        if status == "done":
            job_service.finish_job(s, job_id, result)
        else:
            job_service.fail_job(s, job_id, error, result)


def _import(engine, actor, reporter: _Reporter, params: dict, data: bytes, lang: str) -> tuple:
    """The import in one session: committed only when every row was written."""
    session = Session(engine, expire_on_commit=False)
    try:
        report = imports.import_records(session, actor, params["form_key"], data, params["filename"],
                                        params["mode"], params.get("key_field"), dry_run=False, progress=reporter)
        result = report.to_dict(lang)
        result["problems"] = result["problems"][:MAX_SHOWN]
        if not report.ok:
            session.rollback()
            return ("failed", t_lang(lang, f"{report.problem_count} 处问题，未导入任何记录",
                                     f"{report.problem_count} problem(s); nothing was imported"), result)
        session.commit()
        return ("done", None, result)
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def t_lang(lang: str, zh: str, en: str) -> str:
    return en if lang == "en" else zh
