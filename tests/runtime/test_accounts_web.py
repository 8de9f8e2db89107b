"""Sign-in, sessions, CSRF, the language switch and API tokens in the web UI."""
from __future__ import annotations

import pytest

from engine.services import accounts
from engine.storage.db import session_scope
from tests.runtime.web_support import ADMIN_PASSWORD, csrf_from, make_app, sign_in


@pytest.fixture()
def app(tmp_path):
    return make_app(tmp_path)


def test_pages_need_sign_in(app):
    res = app.test_client().get("/")
    assert res.status_code == 302 and res.headers["Location"].startswith("/login?next=/")


def test_sign_in_and_out(app):
    client = app.test_client()
    res = sign_in(client)
    assert res.status_code == 302 and res.headers["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200 and "Administrator" in home.get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_from(client, "/")})
    assert client.get("/").status_code == 302


def test_wrong_password_is_refused_without_saying_which_part(app):
    res = sign_in(app.test_client(), password="wrong-password")
    html = res.get_data(as_text=True)
    assert res.status_code == 401 and "公司代码、邮箱或密码不正确" in html


def test_repeated_failures_lock_the_account_for_a_while(app):
    client = app.test_client()
    for _ in range(5):
        assert sign_in(client, password="wrong-password").status_code == 401
    locked = sign_in(client)              # even the right password waits now
    assert locked.status_code == 429


def test_sign_in_without_csrf_token_is_rejected(app):
    res = app.test_client().post("/login", data={"company": "default", "email": "admin@example.com",
                                                 "password": ADMIN_PASSWORD})
    assert res.status_code == 400 and "CSRF" in res.get_data(as_text=True)


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil"])
def test_next_never_leaves_the_site(app, target):
    client = app.test_client()
    token = csrf_from(client)
    res = client.post(f"/login?next={target}", data={"company": "default", "email": "admin@example.com",
                                                      "password": ADMIN_PASSWORD, "csrf_token": token})
    assert res.status_code == 302 and not res.headers["Location"].startswith(("http", "//"))


def test_password_change_ends_existing_sessions(app):
    client = app.test_client()
    sign_in(client)
    assert client.get("/").status_code == 200
    with session_scope(app.extensions["qms_db"]) as s:
        user_id = accounts.actor_for_user(s, 1).user_id
        accounts.reset_password(s, 1, user_id, "a-new-password-1")
    assert client.get("/").status_code == 302


def test_deactivated_user_is_signed_out(app):
    from sqlalchemy import update
    from engine.storage.platform import users
    client = app.test_client()
    sign_in(client)
    with session_scope(app.extensions["qms_db"]) as s:
        s.execute(update(users).values(is_active=False))
    assert client.get("/").status_code == 302


def test_language_switch_is_remembered_for_the_user(app):
    client = app.test_client()
    sign_in(client)
    assert "应用" in client.get("/").get_data(as_text=True)
    client.post("/lang", data={"lang": "en", "next": "/", "csrf_token": csrf_from(client, "/")})
    assert ">Apps<" in client.get("/").get_data(as_text=True)
    other = app.test_client()                 # a new browser: the preference follows the user
    sign_in(other)
    assert ">Apps<" in other.get("/").get_data(as_text=True)


def test_session_cookie_is_hardened(app):
    res = sign_in(app.test_client())
    cookie = next(v for k, v in res.headers.items() if k == "Set-Cookie" and v.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_api_token_is_shown_once_and_works_until_revoked(app):
    client = app.test_client()
    sign_in(client)
    res = client.post("/account/tokens", data={"name": "ERP", "csrf_token": csrf_from(client, "/account/tokens")})
    html = res.get_data(as_text=True)
    assert res.status_code == 201
    import re
    token = re.search(r"qms_[A-Za-z0-9]+_[\w-]+", html).group(0)
    assert token not in client.get("/account/tokens").get_data(as_text=True)    # never shown again
    api = app.test_client()
    assert api.get("/", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    token_id = int(re.search(r"/account/tokens/(\d+)/revoke", html).group(1))
    client.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": csrf_from(client, "/account/tokens")})
    assert api.get("/", headers={"Authorization": f"Bearer {token}"}).status_code == 302


def test_user_labels_are_escaped(app):
    with session_scope(app.extensions["qms_db"]) as s:
        accounts.create_user(s, 1, "x@example.com", "<script>alert(1)</script>", "password-123")
    client = app.test_client()
    sign_in(client, email="x@example.com", password="password-123")
    html = client.get("/").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
