"""The ``/api/v1`` blueprint: sign-in required for every route but the token route, and engine
errors answered as the JSON envelope in the caller's language.

Authentication is enforced here, once, before any view runs — a route added later is
protected without remembering a decorator. The routes live in the sibling modules.
"""
from __future__ import annotations

from flask import Blueprint, redirect, request, url_for

from engine.services.records import QueryError
from runtime.api.replies import BadInput, bad_request_reply, error_reply
from runtime.auth import current_actor
from runtime.errors import engine_error_response

bp = Blueprint("api", __name__, url_prefix="/api/v1")

PUBLIC = {"api.create_token"}            # takes a password instead of a credential
PAGES = {"api.docs"}                     # HTML pages: a browser is sent to the login page


@bp.before_request
def _require_sign_in():
    if request.endpoint in PUBLIC or current_actor() is not None:
        return None
    if request.endpoint in PAGES and request.accept_mimetypes.accept_html:
        return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
    return error_reply(401, "unauthorized", "需要登录或 API 令牌（Authorization: Bearer …）",
                       "Sign in or send an API token (Authorization: Bearer …)")


@bp.errorhandler(QueryError)
def _query_error(exc: QueryError):
    """A bad sort key is a problem with the request's content (422), like a bad filter."""
    response, _ = engine_error_response(exc)
    return response, 422


bp.register_error_handler(BadInput, bad_request_reply)
