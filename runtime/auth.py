"""Who is calling: a session cookie (Flask-Login) for people, a Bearer token for the API.

Both end in the same :class:`engine.types.Actor` in ``g.actor``; every permission decision
is then made by the engine's services, the same for the UI and the API.
CSRF: every state-changing request carrying the session cookie needs the CSRF token (form
field or ``X-CSRFToken`` header); Bearer-token calls carry no ambient credential and skip it.
"""
from __future__ import annotations

from functools import wraps

from flask import Flask, current_app, g, jsonify, redirect, request, url_for
from flask_login import LoginManager, UserMixin, current_user
from flask_wtf.csrf import CSRFProtect

from engine.services import logins
from engine.storage.db import session_scope
from engine.types import Actor
from runtime.db import SAFE_METHODS, db, reading
from runtime.errors import API_PREFIXES
from runtime.i18n import t

login_manager = LoginManager()
csrf = CSRFProtect()
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
CSRF_FREE = {"/api/v1/auth/token"}   # takes a password, not a cookie


class WebUser(UserMixin):
    """Flask-Login's view of a signed-in user."""

    def __init__(self, actor: Actor, session_id: str | None = None, via_token: bool = False):
        self.actor = actor
        self.session_id = session_id
        self.via_token = via_token

    def get_id(self) -> str | None:
        return self.session_id


@login_manager.user_loader
def _load_user(session_id: str) -> WebUser | None:
    with reading() as session:
        actor = logins.session_actor(session, session_id)
    return WebUser(actor, session_id) if actor is not None else None


@login_manager.request_loader
def _load_from_token(req) -> WebUser | None:
    token = bearer_token()
    if token is None:
        return None
    with reading() as session:
        checked = logins.check_api_token(session, token)
    if checked is None:
        return None
    if checked.touch_due:
        _touch(checked.token_id)
    return WebUser(checked.actor, via_token=True)


def _touch(token_id: int) -> None:
    """Write last_used_at (at most once a minute per token).

    A read-only request (GET) keeps its session read-only: the write gets its own short
    transaction. A writing request already holds the write transaction (on SQLite the whole
    database's write lock, so a second transaction would wait for it): it writes there.
    """
    if request.method in SAFE_METHODS:
        with session_scope(current_app.extensions["qms_db"]) as session:
            logins.touch_api_token(session, token_id)
    else:
        logins.touch_api_token(db(), token_id)


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


def current_actor() -> Actor | None:
    """The Actor of this request, or None when nobody is signed in."""
    if "actor" not in g:
        g.actor = current_user.actor if current_user.is_authenticated else None
    return g.actor


def login_required(view):
    """Pages: redirect to the login page; API: 401 JSON."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        if current_actor() is None:
            if request.path.startswith(API_PREFIXES) or request.is_json:     # a JSON call never wants a page
                return jsonify({"error": {"code": "unauthorized", "message": t(
                    "需要登录或 API 令牌", "Sign in or send an API token (Authorization: Bearer …)")}}), 401
            return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)
    return wrapper


def _unauthorized():
    if request.path.startswith(API_PREFIXES):
        return jsonify({"error": {"code": "unauthorized", "message": "Unauthorized"}}), 401
    return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.session_protection = "strong"
    login_manager.unauthorized_handler(_unauthorized)
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)   # checked below, with the API exception
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)       # valid for the session's life
    csrf.init_app(app)

    @app.before_request
    def _csrf_for_cookie_sessions():
        if request.method not in UNSAFE or request.path in CSRF_FREE:
            return
        if request.path.startswith("/api/") and (bearer_token() is not None or not current_user.is_authenticated):
            return      # a token, or nobody signed in (the view answers 401): no ambient credential
        if app.config.get("WTF_CSRF_ENABLED", True):
            csrf.protect()
