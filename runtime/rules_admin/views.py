"""The rule pages (blueprint ``rules_admin``): the rule list by app with on/off switches and last
runs, publishing a rule as JSON, and one rule with its history and inbound-webhook URL.
The run log and retry are in :mod:`runtime.rules_admin.runs`.

Admins and the designers of a form see these pages; everyone else gets a 403 page. The engine's
services decide which rules and runs each of them sees (always within their own tenant): a rule
or run outside that view is a 404 page, exactly like one that does not exist.
"""
from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, flash, g, make_response, redirect, render_template, request, url_for

from engine.access import form_access
from engine.errors import Conflict, DefinitionError, NotFound, PermissionDenied
from engine.services import apps, rule_defs, rule_log
from engine.services import forms as form_service
from runtime.auth import current_actor
from runtime.guards import page_guard
from runtime.db import commit, db
from runtime.i18n import current_lang, label, t
from runtime.records import display
from runtime.rules_admin import hooks, present

bp = Blueprint("rules_admin", __name__)
PER_PAGE = 50
MAX_UPLOAD = 1_000_000
NO_APP = "_none"
RESERVED = frozenset({"new", "runs"})     # rule keys whose plain address another page takes


@bp.context_processor
def _helpers() -> dict:
    return {"when": display.when, "link": display.link, "rule_url": rule_url, "status_name": present.status_name,
            "trigger_name": present.trigger_name, "action_name": present.action_name, "excerpt": present.excerpt}


def rule_url(key: str, **args) -> str:
    """The rule page's address (keys such as ``runs`` use the long form)."""
    endpoint = "rules_admin.rule_page_long" if key in RESERVED else "rules_admin.rule_page"
    return url_for(endpoint, rule_key=key, **args)


def int_arg(name: str, default: int = 1) -> int:
    try:
        return max(1, int(request.args.get(name, default)))
    except (TypeError, ValueError):
        return default


def may_manage_rules() -> bool:
    """Admins, and designers of at least one published form (their rules; the services filter)."""
    if "may_manage_rules" not in g:
        actor = current_actor()
        g.may_manage_rules = actor.unrestricted or any(
            form_access(db(), actor, f["key"]).can_design for f in form_service.list_forms(db(), actor.tenant_id))
    return g.may_manage_rules


# signed in, admin or designer (else 403); engine NotFound → 404 page, PermissionDenied → 403
rules_page = page_guard(lambda: may_manage_rules())


# ---------------------------------------------------------------------------- the list

@bp.get("/admin/rules")
@rules_page
def rule_list():
    actor, session = current_actor(), db()
    app_filter = request.args.get("app") or None
    rules = rule_defs.list_rules(session, actor, app_filter if app_filter not in (None, NO_APP) else None)
    if app_filter == NO_APP:
        rules = [r for r in rules if r["app_key"] is None]
    app_names = {a["key"]: label(a["label"]) for a in apps.list_apps(session, actor.tenant_id)}
    for rule in rules:
        rule["failed"] = rule_log.list_runs(session, actor, rule_key=rule["key"], status="failed", per_page=1)["total"]
        rule["form_name"] = present.form_name(session, actor.tenant_id, rule["form"])
    return render_template("rules_admin/list.html", groups=_grouped(rules, app_names), app_filter=app_filter,
                           app_names=app_names, no_app=NO_APP, counts=rule_log.status_counts(session, actor))


def _grouped(rules: list[dict], app_names: dict[str, str]) -> list[tuple[str | None, str, list[dict]]]:
    """(app key, app name, rules) per app, apps by name, rules without an app last."""
    groups: dict[str | None, list[dict]] = {}
    for rule in rules:
        groups.setdefault(rule["app_key"], []).append(rule)
    named = sorted((k for k in groups if k is not None), key=lambda k: app_names.get(k, k))
    out = [(k, app_names.get(k, k), groups[k]) for k in named]
    if None in groups:
        out.append((None, t("未归属应用", "Not in an app"), groups[None]))
    return out


@bp.post("/admin/rules/<rule_key>/switch")
@rules_page
def switch(rule_key: str):
    enabled = request.form.get("enabled") == "1"
    rule_defs.get_rule(db(), current_actor(), rule_key)          # a rule the actor may not see: 404, as its page
    rule_defs.set_enabled(db(), current_actor(), rule_key, enabled)
    commit()
    flash(t(f"规则“{rule_key}”已{'启用' if enabled else '停用'}", f"Rule '{rule_key}' {'enabled' if enabled else 'disabled'}"),
          "ok")
    return redirect(safe_next(request.form.get("next")) or rule_url(rule_key))


def safe_next(value: str | None) -> str | None:
    """Only addresses of these pages (never another site)."""
    if value and value.startswith("/admin/rules") and "//" not in value and "\\" not in value:
        return value
    return None


# ---------------------------------------------------------------------------- publish as JSON

@bp.get("/admin/rules/new")
@rules_page
def publish_page():
    text = ""
    if request.args.get("key"):
        found = rule_defs.get_rule(db(), current_actor(), request.args["key"])     # NotFound → 404
        text = present.pretty(found["definition"])
    return _render_publish(text=text)


def _render_publish(status: int = 200, text: str = "", problems: list[dict] | None = None, app_key: str = ""):
    actor = current_actor()
    app_list = []
    if actor.unrestricted:           # only admins put a rule into an app
        app_list = [(a["key"], label(a["label"])) for a in apps.list_apps(db(), actor.tenant_id)]
    return render_template("rules_admin/publish.html", text=text, problems=problems or [], apps=app_list,
                           app_key=app_key, mask=present.MASK), status


@bp.post("/admin/rules/new")
@rules_page
def publish():
    text, problem = _submitted_text()
    app_key = (request.form.get("app") or "").strip()
    if problem is not None:
        return _render_publish(422, text, [problem], app_key)
    try:
        data = json.loads(text)
    except ValueError as exc:
        where = t(f"第 {exc.lineno} 行第 {exc.colno} 列", f"line {exc.lineno}, column {exc.colno}") \
            if isinstance(exc, json.JSONDecodeError) else ""
        return _render_publish(422, text, [{"path": "$", "message": t("不是有效的 JSON：", "Not valid JSON: ") + where}],
                               app_key)
    actor = current_actor()
    try:
        chosen_app = app_key if actor.unrestricted and app_key else None
        rule = rule_defs.publish_rule(db(), actor, _keep_secrets(data), chosen_app)
    except DefinitionError as exc:
        db().rollback()
        lang = current_lang()
        return _render_publish(422, text, [{"path": p.path, "message": p.message.get(lang)} for p in exc.problems],
                               app_key)
    except (PermissionDenied, Conflict) as exc:
        db().rollback()
        code = 403 if isinstance(exc, PermissionDenied) else 409
        return _render_publish(code, text, [{"path": "$", "message": exc.message.get(current_lang())}], app_key)
    commit()
    flash(t(f"规则“{rule.key}”已发布为第 {rule.version} 版", f"Rule '{rule.key}' published as version {rule.version}"), "ok")
    return redirect(rule_url(rule.key))


def _submitted_text() -> tuple[str, dict | None]:
    """The uploaded file's text when a file was chosen, else the text area; a problem when unreadable."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return request.form.get("definition", ""), None
    raw = upload.read(MAX_UPLOAD + 1)
    if len(raw) > MAX_UPLOAD:
        return request.form.get("definition", ""), {"path": "file", "message": t("文件超过 1 MB",
                                                                                 "The file is larger than 1 MB")}
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        return request.form.get("definition", ""), {"path": "file", "message": t(
            "文件不是 UTF-8 编码的文本", "The file is not UTF-8 text")}


def _keep_secrets(data: Any) -> Any:
    """A masked action secret (as the pages show it) keeps the secret of the same action now stored."""
    if not isinstance(data, dict) or not isinstance(data.get("actions"), list) or not isinstance(data.get("key"), str):
        return data
    if not any(isinstance(a, dict) and a.get("secret") == present.MASK for a in data["actions"]):
        return data
    try:
        stored = rule_defs.get_rule(db(), current_actor(), data["key"])["definition"].get("actions") or []
    except NotFound:
        return data
    for i, item in enumerate(data["actions"]):
        old = stored[i] if i < len(stored) else {}
        if isinstance(item, dict) and item.get("secret") == present.MASK and old.get("type") == item.get("type"):
            if old.get("secret"):
                item["secret"] = old["secret"]
    return data


# ---------------------------------------------------------------------------- one rule

@bp.get("/admin/rules/<rule_key>")
@rules_page
def rule_page(rule_key: str):
    return _render_rule(rule_key)


@bp.get("/admin/rules/rule/<rule_key>")
@rules_page
def rule_page_long(rule_key: str):
    return _render_rule(rule_key)


def _render_rule(rule_key: str, status: int = 200, new_hook: dict | None = None, hook_error: str | None = None):
    actor, session = current_actor(), db()
    rule = rule_defs.get_rule(session, actor, rule_key)          # NotFound outside the actor's view
    definition = rule["definition"]
    state = request.args.get("status") if request.args.get("status") in rule_log.STATUSES else None
    runs = rule_log.list_runs(session, actor, rule_key=rule_key, status=state, page=int_arg("page"), per_page=PER_PAGE)
    app_names = {a["key"]: label(a["label"]) for a in apps.list_apps(session, actor.tenant_id)}
    return render_template(
        "rules_admin/rule.html", rule=rule, definition=definition, label_text=label(definition.get("label")),
        description=label(definition.get("description")), json_text=present.pretty(definition),
        trigger=present.describe_trigger(session, actor.tenant_id, definition),
        actions=present.describe_actions(session, actor.tenant_id, definition), runs=runs, state=state,
        pages=max(1, -(-runs["total"] // runs["per_page"])), app_name=app_names.get(rule["app_key"], rule["app_key"]),
        new_hook=new_hook, hook_error=hook_error, statuses=rule_log.STATUSES), status


@bp.post("/admin/rules/<rule_key>/hook")
@rules_page
def new_hook(rule_key: str):
    """A new inbound URL (and optionally a signing secret), shown once on the page this answers."""
    secret = (request.form.get("secret") or "").strip() or None
    if request.form.get("generate_secret") == "1":
        secret = hooks.random_secret()
    try:
        token = rule_defs.new_hook_token(db(), current_actor(), rule_key, secret)
    except DefinitionError as exc:
        db().rollback()
        return _render_rule(rule_key, 422, hook_error="; ".join(p.message.get(current_lang()) for p in exc.problems))
    commit()
    url = url_for("api.inbound_hook", token=token, _external=True)
    definition = rule_defs.get_rule(db(), current_actor(), rule_key)["definition"]
    curl = hooks.curl_example(url, hooks.sample_body(definition.get("trigger") or {}), secret)
    response = make_response(_render_rule(rule_key, new_hook={"url": url, "secret": secret, "curl": curl}))
    response.headers["Cache-Control"] = "no-store"          # the URL is a credential: not kept by the browser
    return response
