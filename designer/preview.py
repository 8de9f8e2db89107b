"""The live form preview: a form's draft drawn exactly as an end user will see it.

``GET /designer/apps/<app>/forms/<key>/preview`` renders the saved draft (or the published form
when there is no draft); ``POST`` the same URL with a ``definition`` (JSON body, or a form field
holding JSON) renders that unsaved definition instead. The page uses the runtime's own field
macros (``entry/fields.html``), view dicts (:mod:`engine.forms.fieldviews`), sections and
``form.js``; its ``compute_url`` runs :func:`engine.forms.live.form_state` on the draft, and its
``save_url`` validates the typed values with the engine's record validation — nothing is stored.
A draft that does not load shows its problems instead of the form.
"""
from __future__ import annotations

import json
from datetime import timedelta, timezone, tzinfo
from typing import Any, Mapping

from flask import jsonify, render_template, request, url_for
from werkzeug.routing import BuildError

from designer.blueprint import bp
from engine import errors as E
from engine.definitions import load_form
from engine.definitions.model import FormDef
from engine.expressions import EvalContext
from engine.forms import blank_record, validate_record
from engine.forms.fieldviews import section_views
from engine.forms.live import form_state
from engine.i18n import label_text, msg
from engine.services import designs
from engine.services import forms as form_service
from engine.services import records as record_service
from engine.services.pickers import form_pickers
from engine.services.facts import SqlFacts
from engine.storage.records import to_json
from engine.types import Actor
from runtime.auth import current_actor, login_required
from runtime.db import db
from runtime.errors import engine_error_response
from runtime.i18n import current_lang, t

MAX_DEFINITION = 2 * 1024 * 1024


# ---------------------------------------------------------------------------- the draft

def _posted_definition() -> Any:
    """The definition a POST carries (JSON body ``{"definition": …}`` or a form field), else None."""
    if request.method != "POST":
        return None
    body = request.get_json(silent=True) if request.is_json else None
    if isinstance(body, dict):
        return body.get("definition")
    raw = request.form.get("definition")
    if raw and len(raw) <= MAX_DEFINITION:
        try:
            return json.loads(raw)
        except ValueError:
            return raw            # reported as "not a JSON object" below
    return None


def _definition(actor: Actor, app_key: str, key: str, posted: Any) -> Any:
    """What to preview: the posted definition (design right on the app needed), else the saved draft."""
    if posted is not None:
        designs.require_app_design(db(), actor, app_key)
        return posted
    draft = designs.get_draft(db(), actor, "form", key)
    if draft.get("app_key") and draft["app_key"] != app_key:
        raise E.NotFound(msg("应用“{a}”中没有表单“{k}”", "App '{a}' has no form '{k}'", a=app_key, k=key))
    return draft["definition"]


def _load(definition: Any, tenant_id: int) -> tuple[FormDef | None, list[E.Problem]]:
    """The loaded draft, or None and every problem (a draft is work in progress: never an exception)."""
    if not isinstance(definition, dict):
        return None, [E.Problem("", msg("定义必须是 JSON 对象", "The definition must be a JSON object"))]
    try:
        return load_form(definition, known_forms=form_service.published_forms(db(), tenant_id)), []
    except E.DefinitionError as exc:
        return None, list(exc.problems)


def _form_for_request(app_key: str, key: str, body: Mapping | None = None) -> FormDef:
    """The draft of a compute/validate request (``definition`` in the body wins), loaded or DefinitionError."""
    actor = current_actor()
    posted = body.get("definition") if isinstance(body, Mapping) else None
    form, problems = _load(_definition(actor, app_key, key, posted), actor.tenant_id)
    if form is None:
        raise E.DefinitionError(problems)
    return form


# ---------------------------------------------------------------------------- pickers and lookups

def _read(session, actor: Actor, target: Any, record_id: Any, attr: str) -> Any:
    if not isinstance(target, str) or not isinstance(record_id, int) or isinstance(record_id, bool):
        return None
    try:
        return getattr(record_service.get_record(session, actor, target, record_id), attr)
    except E.QMSError:
        return None


def _live_fetch(session, actor: Actor):
    """form_state's fetch(reference plan, id) → the referenced record's JSON data."""
    return lambda ref, record_id: _read(session, actor, ref.field.option("form"), record_id, "data")


def _validation_lookups(session, actor: Actor, form: FormDef):
    """validate_record's lookups(dotted reference key, id) → the referenced record's values."""
    def fetch(dotted: str, record_id: Any):
        ref = form.field_at(dotted)
        return _read(session, actor, ref.option("form") if ref is not None else None, record_id, "values")
    return fetch


def _tz(body: Mapping) -> tzinfo | None:
    value = body.get("tz_offset")
    if isinstance(value, int) and not isinstance(value, bool) and -16 * 60 <= value <= 16 * 60:
        return timezone(timedelta(minutes=value))
    return None


def _ctx(session, actor: Actor, tz: tzinfo | None = None) -> EvalContext:
    return EvalContext(user_id=actor.user_id, tz=tz, lang=current_lang(), facts=SqlFacts(session, actor.tenant_id))


# ---------------------------------------------------------------------------- routes

def _url(endpoint: str, **values) -> str:
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return ""


@bp.route("/apps/<app_key>/forms/<key>/preview", methods=["GET", "POST"])
@login_required
def form_preview(app_key: str, key: str):
    """The preview page (problems instead of the form when the draft does not load)."""
    actor, session, lang = current_actor(), db(), current_lang()
    posted = _posted_definition()
    try:
        definition = _definition(actor, app_key, key, posted)
    except (E.NotFound, E.PermissionDenied) as exc:
        status = 404 if isinstance(exc, E.NotFound) else 403
        return render_template("designer/preview.html", form=None, problems=[], denied=exc.message.get(lang),
                               title=key), status
    form, problems = _load(definition, actor.tenant_id)
    if form is None:
        return render_template("designer/preview.html", form=None, problems=problems, denied=None,
                               title=label_text((definition or {}).get("label") if isinstance(definition, dict)
                                                else None, lang) or key)
    values = to_json(form, blank_record(form, _ctx(session, actor)))
    base = url_for("designer.form_preview", app_key=app_key, key=key)
    config = {"form": form.key, "record_id": None, "version": None, "compute_url": base + "/compute",
              "save_url": base + "/validate", "upload_url": _url("entry.upload_file"), "list_url": "", "lang": lang,
              "values": values, "preview": True, "definition": posted if posted is not None else None}
    return render_template("designer/preview.html", form=form, problems=[], denied=None,
                           title=label_text(form.label, lang), description=label_text(form.description, lang)
                           if form.description else "", sections=section_views(form, lang, form_pickers(session, actor)),
                           config=config)


def _body() -> dict:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


@bp.post("/apps/<app_key>/forms/<key>/preview/compute")
@login_required
def form_preview_compute(app_key: str, key: str):
    """Live formulas and conditions of the draft for the values typed so far (nothing is stored)."""
    actor, session, body = current_actor(), db(), _body()
    try:
        form = _form_for_request(app_key, key, body)
    except E.QMSError as exc:
        return engine_error_response(exc)
    state = form_state(form, body.get("data"), _ctx(session, actor, _tz(body)), _live_fetch(session, actor))
    return jsonify(state)


@bp.post("/apps/<app_key>/forms/<key>/preview/validate")
@login_required
def form_preview_validate(app_key: str, key: str):
    """Validate the typed values like a save would, against the draft — 422 with every field error, or 200."""
    actor, session, body = current_actor(), db(), _body()
    try:
        form = _form_for_request(app_key, key, body)
        data = body.get("data") if isinstance(body.get("data"), dict) else {}
        validate_record(form, data, ctx=_ctx(session, actor, _tz(body)), lookups=_validation_lookups(session, actor, form))
    except E.QMSError as exc:
        return engine_error_response(exc)
    message = t("预览：校验通过，未保存", "Preview: valid, nothing was saved")
    return jsonify({"ok": True, "preview": True, "message": message,
                    "redirect": url_for("designer.form_preview", app_key=app_key, key=key) + "#preview-valid"})
