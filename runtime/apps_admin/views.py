"""The apps admin pages (blueprint ``apps_admin``, administrators only): installed apps with their
version, forms and a JSON export; the template catalog with Install / Upgrade; uploading a package;
the preview of an install or upgrade (changes, conflicts with a choice each); the result.

A package travels from the preview to the apply inside the page (the template key, or the
uploaded JSON in a hidden field): nothing is stored between the two requests, and the apply
merges again, refusing answers to conflicts that no longer exist.
"""
from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, render_template, request

from engine.errors import Conflict, DefinitionError, Problem
from engine.i18n import msg
from engine.services import app_upgrade, apps
from runtime.apps_admin import catalog as templates
from runtime.auth import current_actor
from runtime.db import commit, db
from runtime.guards import page_guard
from runtime.i18n import current_lang, t

bp = Blueprint("apps_admin", __name__)
MAX_UPLOAD = 5_000_000
PREFIX = "resolution:"          # form field name of the answer to one conflict: PREFIX + conflict id

admin_page = page_guard(lambda: current_actor().unrestricted)


def _problems(exc: DefinitionError) -> list[dict]:
    lang = current_lang()
    return [{"path": p.path, "message": p.message.get(lang)} for p in exc.problems]


def _catalog_rows(installed: dict[str, dict]) -> list[dict]:
    """Each template with what the page offers: install, upgrade, or nothing (up to date)."""
    rows = []
    for item in templates.catalog():
        have = installed.get(item["key"])
        if have is None:
            action = "install"
        elif app_upgrade.version_key(item.get("version")) > app_upgrade.version_key(have["version"]):
            action = "upgrade"
        else:
            action = None
        rows.append({**item, "installed_version": have["version"] if have else None, "action": action,
                     "missing": [k for k in item.get("requires") or () if k not in installed]})
    return rows


def _render_index(status: int = 200, problems: list[dict] | None = None):
    installed = {a["key"]: a for a in apps.list_apps(db(), current_actor().tenant_id)}
    return render_template("apps_admin/index.html", installed=list(installed.values()),
                           catalog=_catalog_rows(installed), problems=problems or []), status


@bp.get("/admin/apps")
@admin_page
def index():
    return _render_index()


@bp.get("/admin/apps/<app_key>/export")
@admin_page
def export(app_key: str):
    package = apps.export_app(db(), current_actor().tenant_id, app_key)       # NotFound → 404 page
    body = json.dumps(package, ensure_ascii=False, indent=2, default=str) + "\n"
    name = f"{app_key}-{package.get('version', '')}.json"
    return Response(body, mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _submitted() -> tuple[Any, str, str]:
    """(package, its JSON text for the next step, template key) from the request; DefinitionError
    with a problem when the upload or the text is unreadable."""
    key = (request.form.get("template") or "").strip()
    if key:
        return templates.load_package(key), "", key
    upload = request.files.get("file")
    if upload is not None and upload.filename:
        raw = upload.read(MAX_UPLOAD + 1)
        if len(raw) > MAX_UPLOAD:
            raise _bad("file", "文件超过 5 MB", "The file is larger than 5 MB")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise _bad("file", "文件不是 UTF-8 编码的文本", "The file is not UTF-8 text") from None
    else:
        text = request.form.get("package") or ""
    if not text.strip():
        raise _bad("file", "请选择一个应用包 JSON 文件", "Choose an app package JSON file")
    try:
        return json.loads(text), text, ""
    except ValueError:
        raise _bad("file", "文件不是有效的 JSON", "The file is not valid JSON") from None


def _bad(path: str, zh: str, en: str) -> DefinitionError:
    return DefinitionError([Problem(path, msg(zh, en))])


@bp.post("/admin/apps/preview")
@admin_page
def preview():
    try:
        package, text, key = _submitted()
        plan = app_upgrade.preview(db(), current_actor(), package)
    except DefinitionError as exc:
        db().rollback()
        return _render_index(422, _problems(exc))
    db().rollback()                         # a preview writes nothing
    return render_template("apps_admin/preview.html", plan=plan, package_text=text, template_key=key,
                           prefix=PREFIX)


def _resolutions() -> dict[str, str]:
    return {name[len(PREFIX):]: value for name, value in request.form.items() if name.startswith(PREFIX)}


@bp.post("/admin/apps/apply")
@admin_page
def apply():
    try:
        package, text, key = _submitted()
        done = app_upgrade.apply(db(), current_actor(), package, _resolutions())
    except DefinitionError as exc:
        db().rollback()
        return _render_index(422, _problems(exc))
    except Conflict as exc:
        db().rollback()
        return _render_index(409, [{"path": "", "message": exc.message.get(current_lang())}])
    commit()
    return render_template("apps_admin/result.html", done=done)


def heading(plan: dict) -> str:
    """The preview page's title for this plan."""
    if plan["new_app"]:
        return t(f"安装应用 {plan['app']} {plan['to_version']}", f"Install {plan['app']} {plan['to_version']}")
    return t(f"升级应用 {plan['app']}：{plan['from_version']} → {plan['to_version']}",
             f"Upgrade {plan['app']}: {plan['from_version']} → {plan['to_version']}")


@bp.context_processor
def _helpers() -> dict:
    return {"heading": heading, "pretty": lambda v: json.dumps(v, ensure_ascii=False, indent=1, default=str)}
