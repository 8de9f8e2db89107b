"""Sign in and out, the language switch, and a user's own API tokens."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_login import login_user, logout_user

from engine.errors import QMSError, TooManyAttempts
from engine.services import logins
from runtime.auth import WebUser, current_actor, login_required
from runtime.db import commit, db
from runtime.i18n import LANGS, current_lang, t

bp = Blueprint("accounts", __name__, template_folder="templates")
TENANT_COOKIE = "qms_company"


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths: an open redirect after login is a phishing tool."""
    if not target or not target.startswith("/") or target.startswith("//") or urlsplit(target).netloc:
        return url_for("home.index")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    company = request.form.get("company") or request.cookies.get(TENANT_COOKIE) or "default"
    error, status = None, 200
    if request.method == "POST":
        email, password = request.form.get("email", ""), request.form.get("password", "")
        try:
            actor = logins.authenticate(db(), company.strip(), email, password, request.remote_addr)
        except TooManyAttempts as exc:
            commit()
            return render_template("login.html", company=company, email=request.form.get("email", ""),
                                   error=exc.message.get(current_lang())), 429, {"Retry-After": str(exc.retry_after)}
        else:
            commit()    # the attempt is recorded either way
            if actor is not None:
                session.clear()     # a fresh session: no fixation of a pre-login cookie
                login_user(WebUser(actor, logins.session_id_for(db(), actor.user_id)))
                session["lang"] = actor.lang
                response = redirect(_safe_next(request.args.get("next")))
                response.set_cookie(TENANT_COOKIE, company.strip(), max_age=365 * 86400, httponly=True,
                                    samesite="Lax", secure=request.is_secure)
                return response
            error, status = t("公司代码、邮箱或密码不正确", "Wrong company code, email or password"), 401
    return render_template("login.html", company=company, email=request.form.get("email", ""),
                           error=error), status


@bp.post("/logout")
def logout():
    logout_user()
    session.clear()
    return redirect(url_for("accounts.login"))


@bp.post("/lang")
def set_lang():
    lang = request.form.get("lang")
    if lang in LANGS:
        session["lang"] = lang
        actor = current_actor()
        if actor is not None:
            logins.set_language(db(), actor.tenant_id, actor.user_id, lang)
            commit()
    return redirect(_safe_next(request.form.get("next")))


@bp.get("/account/tokens")
@login_required
def tokens():
    actor = current_actor()
    items = logins.list_api_tokens(db(), actor.tenant_id, actor.user_id)
    return render_template("tokens.html", tokens=items, new_token=None)


@bp.post("/account/tokens")
@login_required
def create_token():
    actor = current_actor()
    name = (request.form.get("name") or "").strip()[:100] or t("API 令牌", "API token")
    token = logins.create_api_token(db(), actor.tenant_id, actor.user_id, name)
    commit()
    # Shown once, in this response only: the session cookie is signed, not encrypted
    items = logins.list_api_tokens(db(), actor.tenant_id, actor.user_id)
    return render_template("tokens.html", tokens=items, new_token=token), 201


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    actor = current_actor()
    mine = {item["id"] for item in logins.list_api_tokens(db(), actor.tenant_id, actor.user_id)}
    if token_id not in mine:       # another user's or tenant's token: not found, nothing revealed
        abort(404)
    logins.revoke_api_token(db(), actor.tenant_id, token_id)
    commit()
    flash(t("令牌已撤销", "Token revoked"))
    return redirect(url_for("accounts.tokens"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Change one's own password: other sessions end, this one continues (a new session id)."""
    if request.method == "GET":
        return render_template("password.html", error=None)
    actor = current_actor()
    new, again = request.form.get("new_password", ""), request.form.get("confirm_password", "")
    if new != again:
        return render_template("password.html", error=t("两次输入的新密码不一致", "The two new passwords differ")), 400
    try:
        session_id = logins.change_password(db(), actor, request.form.get("current_password", ""), new,
                                            request.remote_addr)
    except TooManyAttempts as exc:
        commit()    # the failed attempts stay counted
        return render_template("password.html", error=exc.message.get(current_lang())), 429, \
            {"Retry-After": str(exc.retry_after)}
    except QMSError as exc:     # the new password breaks the policy: nothing changed
        db().rollback()
        return render_template("password.html", error=exc.message.get(current_lang())), 400
    commit()
    if session_id is None:
        return render_template("password.html", error=t("当前密码不正确", "The current password is wrong")), 400
    login_user(WebUser(actor, session_id))      # this session continues under the new stamp
    flash(t("密码已修改，其他设备上的登录已失效", "Password changed; sessions on other devices are signed out"), "ok")
    return redirect(url_for("accounts.tokens"))
