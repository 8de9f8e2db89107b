"""Rules over the API: publish and read definitions, switch them on/off, the run log with retry,
and the inbound webhooks ERP/MES systems call (``POST /api/v1/hooks/<token>``).

An inbound webhook needs no sign-in: the token in its URL is the credential (only its hash is
stored), optionally with an HMAC-SHA256 signature of the raw body in ``X-QMS-Signature:
sha256=<hex>``. The call is accepted (202) once its rule's intent is committed to the outbox;
the actions run as a background job (their outcome is in the run log).
"""
from __future__ import annotations

import hashlib
import hmac
import json

from flask import jsonify, request, url_for

from engine.i18n import msg
from engine.rules.values import missing_required
from engine.services import rule_defs, rule_events, rule_log, rule_runs
from runtime.api.blueprint import PUBLIC, bp
from runtime.api.replies import BadInput, error_reply, int_arg, json_object, json_ready, member
from runtime.auth import current_actor
from runtime.db import commit, db

MAX_HOOK_BODY = 1_000_000


def _label(label) -> dict:
    return {"zh-CN": label.zh, "en": label.en} if label is not None else None


@bp.get("/rules")
def list_rules():
    items = rule_defs.list_rules(db(), current_actor(), request.args.get("app") or None)
    return jsonify({"items": [json_ready({**r, "label": _label(r["label"])}) for r in items]})


@bp.post("/rules")
def publish_rule():
    body = json_object()
    rule = rule_defs.publish_rule(db(), current_actor(), body)
    commit()
    return jsonify({"key": rule.key, "version": rule.version}), 201


@bp.get("/rules/<rule_key>")
def get_rule(rule_key: str):
    return jsonify(json_ready(rule_defs.get_rule(db(), current_actor(), rule_key)))


@bp.post("/rules/<rule_key>/enable")
def enable_rule(rule_key: str):
    rule_defs.set_enabled(db(), current_actor(), rule_key, True)
    commit()
    return jsonify({"key": rule_key, "enabled": True})


@bp.post("/rules/<rule_key>/disable")
def disable_rule(rule_key: str):
    rule_defs.set_enabled(db(), current_actor(), rule_key, False)
    commit()
    return jsonify({"key": rule_key, "enabled": False})


@bp.post("/rules/<rule_key>/hook")
def new_hook(rule_key: str):
    """A new secret URL for a webhook rule (shown once); body ``{"secret"}`` to require signatures."""
    body = json_object() if request.get_data(cache=True).strip() else {}
    token = rule_defs.new_hook_token(db(), current_actor(), rule_key, member(body, "secret", str, required=False))
    commit()
    return jsonify({"url": url_for("api.inbound_hook", token=token, _external=True), "token": token}), 201


@bp.get("/rule-runs")
def list_runs():
    found = rule_log.list_runs(db(), current_actor(), rule_key=request.args.get("rule") or None,
                               status=request.args.get("status") or None, page=int_arg("page", 1) or 1,
                               per_page=int_arg("per_page", 50) or 50)
    return jsonify(json_ready(found))


@bp.get("/rule-runs/<int:run_id>")
def get_run(run_id: int):
    return jsonify(json_ready(rule_log.get_run(db(), current_actor(), run_id)))


@bp.post("/rule-runs/<int:run_id>/retry")
def retry_run(run_id: int):
    rule_runs.retry(db(), current_actor(), run_id)
    commit()
    return jsonify({"id": run_id, "status": "pending"}), 202


# ---- inbound webhooks -----------------------------------------------------------------------------

@bp.post("/hooks/<token>")
def inbound_hook(token: str):
    session = db()
    found = rule_defs.rule_for_hook(session, token)
    if found is None:
        return error_reply(404, "not_found", "Webhook 地址无效", "Unknown webhook URL")
    raw = request.get_data(cache=True)
    if len(raw) > MAX_HOOK_BODY:
        return error_reply(413, "too_large", "请求体超过 1 MB", "The body is larger than 1 MB")
    if found["hook_secret"] and not _signed(raw, found["hook_secret"]):
        return error_reply(401, "bad_signature", "签名无效：X-QMS-Signature 应为 sha256=<请求体的 HMAC-SHA256>",
                           "Bad signature: X-QMS-Signature must be sha256=<HMAC-SHA256 of the body>")
    if not found["enabled"]:
        return error_reply(409, "disabled", "此 Webhook 的规则已停用", "This webhook's rule is disabled")
    try:
        payload = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise BadInput(msg("请求体不是有效的 JSON", "The request body is not valid JSON")) from None
    rule = rule_defs.load_rule_version(session, found["tenant_id"], found["key"], found["current_version"])
    missing = missing_required(rule.trigger.option("fields") or (), payload)
    if missing:
        return error_reply(422, "invalid", "缺少必填字段", "Required fields are missing",
                           errors=[{"field": k, "message": "required"} for k in missing])
    run_id = rule_events.webhook_event(session, found["tenant_id"], rule, payload)
    commit()
    return jsonify({"accepted": True, "run_id": run_id or None}), 202


def _signed(raw: bytes, secret: str) -> bool:
    given = request.headers.get("X-QMS-Signature", "")
    expected = "sha256=" + hmac.new(secret.encode("utf-8"), raw, hashlib.sha256).hexdigest()
    return hmac.compare_digest(given.strip().lower(), expected)


PUBLIC.add("api.inbound_hook")

