"""The designer's pages: the apps a user may design, one app's overview, and the editor page.

The pages are a thin shell: data comes from the draft services (:mod:`engine.services.designs`),
everything else (autosave, conflicts, publish, versions) is done in the browser by
``designer/js/core.js`` against the JSON API of :mod:`designer.api`. Engine errors on pages become
the designer's 403/404 page in the site's layout (not JSON: these are pages, not the API).
"""
from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from flask import g, render_template, request, url_for
from markupsafe import Markup
from sqlalchemy import select

from designer.blueprint import bp
from engine.access import form_access
from engine.errors import NotFound
from engine.i18n import Msg
from engine.services import apps as app_service
from engine.services import forms as form_service
from engine.storage.platform import permissions, roles
from runtime.auth import current_actor
from runtime.db import db
from runtime.guards import page_guard
from runtime.i18n import current_lang, t

KINDS = {"forms": "form", "flows": "flow", "rules": "rule", "reports": "report", "dashboards": "dashboard"}
PLURAL = {kind: plural for plural, kind in KINDS.items()}
ON_FORM = ("flow", "rule", "report")        # kinds that belong to one form (the "new" dialog asks which)

# Each kind's scripts in load order (the editor file last); files that do not exist are skipped.
EDITOR_SCRIPTS = {
    "form": ["designer/vendor/sortablejs/Sortable.min.js", "designer/js/form_model.js", "designer/js/form_widgets.js",
             "designer/js/form_canvas.js", "designer/js/form_keys.js", "designer/js/form_options.js",
             "designer/js/form_props.js", "designer/js/form_preview.js", "designer/js/form_designer.js"],
    "flow": ["designer/js/flow_model.js", "designer/js/flow_panel.js", "designer/js/flow_actions.js",
             "designer/js/flow_designer.js"],
    "rule": ["designer/js/rule_kit.js", "designer/js/rule_trigger.js", "designer/js/rule_actions.js",
             "designer/js/rule_notify.js", "designer/js/rule_trial.js", "designer/js/rule_designer.js"],
    "report": ["designer/js/report_kit.js", "designer/js/report_dataset.js", "designer/js/report_designer.js"],
    "dashboard": ["designer/js/report_kit.js", "designer/js/dashboard_grid.js", "designer/js/dashboard_designer.js"],
}
EDITOR_STYLES = {"form": ["designer/css/form.css"], "flow": ["designer/css/flow.css"],
                 "rule": ["designer/css/rule.css"], "report": ["designer/css/report.css"],
                 "dashboard": ["designer/css/report.css", "designer/css/dashboard.css"]}
SHELL_SCRIPTS = ["designer/js/core.js", "designer/js/expr.js", "designer/js/dialogs.js", "designer/js/publish.js",
                 "designer/js/versions.js", "designer/js/shell.js"]
SHELL_STYLES = ["designer/css/designer.css", "designer/css/expr.css"]
STATIC = Path(__file__).parent / "static"


def editor_extra(kind: str) -> dict:
    """What an editor needs on its first paint, embedded in the page (one request less before it
    becomes interactive): the form designer's palette."""
    if kind == "form":
        from designer.forms_api import palette
        return {"field_types": palette()}
    return {}


def designs():
    """The draft services (imported on use: the module is written alongside the designer)."""
    from engine.services import designs as service
    return service


def existing(files: list[str]) -> list[str]:
    """The static files of ``files`` that exist (an editor not written yet must not 404 its page)."""
    return [name for name in files if (STATIC / name).is_file()]


def error_page(status: int, message: str | None = None):
    default = {404: t("找不到该应用或定义，或者你没有查看权限。", "This app or definition does not exist, or you may not see it."),
               403: t("你没有设计此应用的权限。", "You do not have permission to design this app.")}[status]
    return render_template("designer/error.html", status=status, message=message or default), status


def designer_page(view):
    """Signed in (else the login page); NotFound → 404 page, PermissionDenied → 403 page (the designer's)."""
    return page_guard(error_page=error_page)(view)


def plain(value: Any) -> Any:
    """``value`` as plain JSON data (definitions may hold mapping proxies, Msgs, dates)."""
    if isinstance(value, Msg):
        return value.to_dict()
    if isinstance(value, (dict, MappingProxyType)):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def script_json(data: Any) -> Markup:
    """JSON safe inside ``<script type="application/json">`` (no ``</script>`` breaks out)."""
    text = json.dumps(plain(data), ensure_ascii=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def api_urls(kind: str, key: str, app_key: str) -> dict[str, str]:
    """Every JSON address the editor of one definition uses (see the draft API in designer/api.py)."""
    root = request.script_root + "/designer"
    draft = f"{root}/api/drafts/{kind}/{key}"
    versions = f"{root}/api/versions/{kind}/{key}"
    urls = {"draft": draft, "check": f"{draft}/check", "plan": f"{draft}/plan", "publish": f"{draft}/publish",
            "versions": versions, "version": versions + "/{n}", "restore": versions + "/{n}/restore",
            "app": url_for("designer.app_page", app_key=app_key), "apps": url_for("designer.apps_page"),
            "expressions_check": f"{root}/api/expressions/check",
            "expressions_catalog": f"{root}/api/expressions/catalog",
            "expressions_evaluate": f"{root}/api/expressions/evaluate"}
    if kind == "form":
        urls["preview"] = f"{root}/apps/{app_key}/forms/{key}/preview"
    return urls


def published_forms(actor) -> list[dict]:
    """The tenant's published forms the designer may read or design, with their full field lists
    (for references, lookups and mappings); forms outside the designer's view are left out."""
    forms = form_service.published_forms(db(), actor.tenant_id)
    out = []
    for key, form in sorted(forms.items()):
        if not actor.unrestricted:
            access = form_access(db(), actor, key)
            if not (access.can_design or access.read.allows_any):
                continue
        out.append({"key": key, "label": form.label.to_dict(), "version": form.version,
                    "fields": plain(form.to_dict().get("fields", []))})
    return out


def _has_any_design_right(actor) -> bool:
    """Cheap first test for the nav link: does any of the actor's roles grant ``design`` anywhere?"""
    if not actor.roles:
        return False
    rows = db().execute(select(permissions.c.rules).join(roles, roles.c.id == permissions.c.role_id).where(
        permissions.c.tenant_id == actor.tenant_id, roles.c.tenant_id == actor.tenant_id,
        roles.c.key.in_(list(actor.roles)))).scalars()
    return any(isinstance(r, Mapping) and r.get("design") is True for r in rows)


def can_design_anything() -> bool:
    """Whether the signed-in user may design at least one app (the nav link); once per request."""
    if "qd_can_design" not in g:
        actor = current_actor()
        if actor is None:
            g.qd_can_design = False
        elif actor.unrestricted:
            g.qd_can_design = True
        else:
            g.qd_can_design = _has_any_design_right(actor) and bool(designs().list_designable_apps(db(), actor))
    return g.qd_can_design


def can_design_app(app_key: str) -> bool:
    """Whether the signed-in user may design the app ``app_key`` (a "design" link beside it)."""
    actor = current_actor()
    if actor is None or not app_key:
        return False
    return actor.unrestricted or (can_design_anything() and designs().may_design_app(db(), actor, app_key))


def when(value: Any) -> str:
    """A time as ``YYYY-MM-DD HH:MM`` (datetimes or ISO strings from the services)."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    return value.strftime("%Y-%m-%d %H:%M") if isinstance(value, datetime) else str(value or "")


@bp.context_processor
def _page_helpers() -> dict:
    return {"when": when}


@bp.app_context_processor
def _nav_helpers() -> dict:
    return {"can_design_anything": can_design_anything, "can_design_app": can_design_app}


@bp.get("/")
@designer_page
def apps_page():
    actor = current_actor()
    apps = designs().list_designable_apps(db(), actor)
    return render_template("designer/apps.html", apps=apps, can_create=actor.unrestricted,
                           scripts=existing(["designer/js/core.js", "designer/js/dialogs.js", "designer/js/pages.js"]),
                           styles=existing(["designer/css/designer.css"]))


@bp.get("/apps/<app_key>")
@designer_page
def app_page(app_key: str):
    actor = current_actor()
    designs().require_app_design(db(), actor, app_key)
    overview = designs().app_overview(db(), actor, app_key)
    sections = [{"kind": KINDS[plural], "plural": plural, "items": overview.get(plural) or []} for plural in KINDS]
    form_choices = [{"key": f["key"], "label": f.get("label")} for f in overview.get("forms") or []
                    if f.get("published_version")]        # flows, rules and reports need a published form
    return render_template("designer/app.html", app=overview, sections=sections, form_choices=form_choices,
                           on_form=ON_FORM,
                           scripts=existing(["designer/js/core.js", "designer/js/dialogs.js", "designer/js/pages.js"]),
                           styles=existing(["designer/css/designer.css"]))


@bp.get("/apps/<app_key>/<kinds>/<key>")
@designer_page
def editor_page(app_key: str, kinds: str, key: str):
    kind = KINDS.get(kinds)
    if kind is None:
        raise NotFound(Msg("没有这种定义", "No such kind of definition"))
    actor = current_actor()
    designs().require_app_design(db(), actor, app_key)
    draft = designs().get_draft(db(), actor, kind, key)
    if (draft.get("app_key") or app_key) != app_key:
        raise NotFound(Msg("该定义不属于这个应用", "This definition belongs to another app"))
    app = app_service.get_app(db(), actor.tenant_id, app_key)
    config = {"kind": kind, "key": key, "app_key": app_key, "lang": current_lang(),
              "urls": api_urls(kind, key, app_key),
              "draft": {"definition": draft.get("definition") or {}, "revision": draft.get("revision", 0),
                        "published_version": draft.get("published_version", 0),
                        "published_keys": draft.get("published_keys") or [],
                        "updated_at": draft.get("updated_at"), "updated_by_name": draft.get("updated_by_name")},
              "forms": published_forms(actor), "extra": editor_extra(kind)}
    return render_template("designer/editor.html", kind=kind, kinds=kinds, key=key, app=app,
                           definition=config["draft"]["definition"], config=script_json(config),
                           scripts=existing(SHELL_SCRIPTS + EDITOR_SCRIPTS[kind]),
                           styles=existing(SHELL_STYLES + EDITOR_STYLES[kind]))
