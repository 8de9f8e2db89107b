"""``POST /api/v1/auth/token``: email + password (+ company) → a new API token.

Sign-in goes through the same rate-limited check as the login page; every attempt is
recorded (committed) whether it succeeds or not.
"""
from __future__ import annotations

from flask import jsonify, request

from engine.services import logins
from runtime.api.blueprint import bp
from runtime.api.replies import error_reply, json_object, member
from runtime.db import commit, db

DEFAULT_COMPANY = "default"


@bp.post("/auth/token")
def create_token():
    body = json_object()
    email, password = member(body, "email", str), member(body, "password", str)
    company = member(body, "company", str, required=False, default=DEFAULT_COMPANY).strip() or DEFAULT_COMPANY
    name = member(body, "name", str, required=False, default="") or "API"
    try:
        actor = logins.authenticate(db(), company, email, password, request.remote_addr)
    finally:
        commit()        # the attempt counts for the rate limit either way
    if actor is None:
        return error_reply(401, "invalid_credentials", "公司代码、邮箱或密码不正确",
                           "Wrong company code, email or password")
    token = logins.create_api_token(db(), actor.tenant_id, actor.user_id, name)
    commit()
    return jsonify({"token": token})
