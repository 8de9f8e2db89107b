"""The designer's JSON API: apps, new definitions, drafts (autosave with revisions), check, plan,
publish, versions and restore. JSON in and out, never HTML.

Everything is decided by the engine services (:mod:`engine.services.designs`,
:mod:`engine.services.design_versions`): design permission, tenant isolation, revisions.
Engine errors become the JSON envelope ``{"error": {"code", "message"}}`` (+ ``errors``); a
stale revision is a 409 that also says who saved in between (``current``).
"""
from __future__ import annotations


from flask import jsonify, request
from flask_wtf.csrf import CSRFError

from designer.blueprint import bp
from engine.i18n import msg
from engine.services import design_versions, designs
from runtime.api.replies import BadInput, bad_request_reply, error_reply, json_object, json_ready, member
from runtime.auth import current_actor, login_required
from runtime.db import commit, db
from runtime.errors import engine_error_response
from runtime.i18n import current_lang

API = "/api"


def api_route(rule: str, **options):
    """A designer API route: signed in (a 401 JSON reply for nobody, never a redirect), answers JSON."""
    def decorate(view):
        return bp.route(API + rule, **options)(login_required(view))
    return decorate


def _problems(found) -> list[dict]:
    lang = current_lang()
    return [p.to_dict(lang) for p in found]


def _revision(body: dict | None = None) -> int:
    """The caller's revision: body ``revision`` (or ``?revision=`` for a body-less DELETE)."""
    if body is None:
        raw = request.args.get("revision")
        body = json_object() if raw is None else {"revision": int(raw) if raw.isdigit() else raw}
    revision = member(body, "revision", int)
    if revision < 0:
        raise BadInput(msg("“revision”不能为负数", "'revision' must not be negative"), "revision")
    return revision


def _conflict(exc: designs.DraftConflict):
    response, status = engine_error_response(exc)
    body = response.get_json()
    body["current"] = json_ready(exc.current)
    return jsonify(body), status


bp.register_error_handler(designs.DraftConflict, _conflict)


def _bad_input(exc: BadInput):
    return bad_request_reply(exc)


bp.register_error_handler(BadInput, _bad_input)


@bp.errorhandler(CSRFError)
def _csrf_failed(_exc: CSRFError):
    if request.path.startswith(bp.url_prefix + API + "/"):
        return error_reply(400, "csrf_failed", "页面已过期或请求来源不明（CSRF 校验失败），请刷新页面后重试",
                           "The page expired or the request came from elsewhere (CSRF check failed); reload the page")
    return "CSRF check failed / CSRF 校验失败", 400


# ---------------------------------------------------------------------------- apps

@api_route("/apps", methods=["GET"])
def list_apps():
    return jsonify({"items": json_ready(designs.list_designable_apps(db(), current_actor()))})


@api_route("/apps", methods=["POST"])
def create_app():
    body = json_object()
    key = designs.create_app(db(), current_actor(), member(body, "key", str), member(body, "label", dict))
    commit()
    return jsonify({"key": key}), 201


@api_route("/apps/<app_key>", methods=["GET"])
def app_overview(app_key: str):
    return jsonify(json_ready(designs.app_overview(db(), current_actor(), app_key)))


@api_route("/apps/<app_key>/<kinds>", methods=["POST"])
def new_definition(app_key: str, kinds: str):
    designs.require_app_design(db(), current_actor(), app_key)   # another tenant's app: 404 before the body
    body = json_object()
    made = designs.new_definition(db(), current_actor(), app_key, kinds, member(body, "key", str),
                                  member(body, "label", dict), member(body, "form", str, required=False))
    commit()
    return jsonify(made), 201


# ---------------------------------------------------------------------------- drafts

@api_route("/drafts/<kind>/<key>", methods=["GET"])
def get_draft(kind: str, key: str):
    draft = designs.get_draft(db(), current_actor(), kind, key)
    return jsonify(json_ready({k: v for k, v in draft.items() if k != "updated_by"}))


@api_route("/drafts/<kind>/<key>", methods=["PUT"])
def save_draft(kind: str, key: str):
    if (request.content_length or 0) > designs.MAX_DRAFT_BYTES + 4096:
        return error_reply(413, "too_large", "草稿太大（上限 2 MB）", "The draft is too large (at most 2 MB)")
    body = json_object()
    saved = designs.save_draft(db(), current_actor(), kind, key, member(body, "definition", dict), _revision(body))
    commit()
    return jsonify(json_ready(saved))


@api_route("/drafts/<kind>/<key>", methods=["DELETE"])
def discard_draft(kind: str, key: str):
    revision = _revision(json_object() if request.get_data(cache=True).strip() else None)
    designs.discard_draft(db(), current_actor(), kind, key, revision)
    commit()
    return jsonify({"ok": True})


def _optional_definition() -> dict | None:
    body = json_object() if request.get_data(cache=True).strip() else {}
    return member(body, "definition", dict, required=False)


@api_route("/drafts/<kind>/<key>/check", methods=["POST"])
def check_draft(kind: str, key: str):
    found = designs.check_draft(db(), current_actor(), kind, key, _optional_definition())
    return jsonify({"problems": _problems(found)})


@api_route("/drafts/<kind>/<key>/plan", methods=["POST"])
def plan_draft(kind: str, key: str):
    plan = designs.plan_draft(db(), current_actor(), kind, key, _optional_definition(), current_lang())
    plan["problems"] = _problems(plan["problems"])
    plan["refused"] = _problems(plan["refused"])
    return jsonify(json_ready(plan))


@api_route("/drafts/<kind>/<key>/publish", methods=["POST"])
def publish_draft(kind: str, key: str):
    version = designs.publish_draft(db(), current_actor(), kind, key, _revision(json_object()))
    commit()
    return jsonify({"version": version})


# ---------------------------------------------------------------------------- versions

@api_route("/versions/<kind>/<key>", methods=["GET"])
def list_versions(kind: str, key: str):
    return jsonify({"items": json_ready(design_versions.list_versions(db(), current_actor(), kind, key))})


@api_route("/versions/<kind>/<key>/<int:number>", methods=["GET"])
def get_version(kind: str, key: str, number: int):
    return jsonify(json_ready(design_versions.get_version(db(), current_actor(), kind, key, number, current_lang())))


@api_route("/versions/<kind>/<key>/<int:number>/restore", methods=["POST"])
def restore_version(kind: str, key: str, number: int):
    restored = design_versions.restore_version(db(), current_actor(), kind, key, number, _revision(json_object()))
    commit()
    return jsonify(json_ready(restored))
