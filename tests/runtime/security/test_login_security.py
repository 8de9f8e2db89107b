"""Sign-in rate limits, the password policy, and sessions ending on a password change."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import itertools

import pytest
from argon2 import PasswordHasher

from engine.auth import passwords
from engine.errors import TooManyAttempts
from engine.services import accounts, logins
from engine.storage.db import session_scope
from tests.runtime.web_support import ADMIN_PASSWORD, csrf_from, make_app, sign_in

NEW_PASSWORD = "a-better-pass-77"
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=timezone.utc)


_emails = itertools.count(1)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    return make_app(tmp_path_factory.mktemp("logins"))


@pytest.fixture(autouse=True)
def light_hashes(monkeypatch):
    """Argon2 at its real cost takes ~0.5 s a hash by design; what is tested here is not its cost."""
    light = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(passwords, "_hasher", light)
    monkeypatch.setattr(logins, "_DUMMY_HASH", light.hash("not-a-real-password"))


@pytest.fixture()
def user(app):
    """A fresh user (own email) of the default tenant: (email, user id)."""
    email = f"user{next(_emails)}@plant.example"
    with session_scope(app.extensions["qms_db"]) as s:
        return email, accounts.create_user(s, 1, email, "Plant user", ADMIN_PASSWORD, lang="zh-CN")


def client_of(app):
    """A test client with its own address (the per-IP limit is not shared between tests)."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = f"10.9.{next(_emails) % 250}.{next(_emails) % 250}"
    return client


def engine_of(app):
    return app.extensions["qms_db"]


# ---------------------------------------------------------------------------- rate limits

def test_sixth_try_is_refused_even_with_the_right_password_with_a_retry_time(app, user):
    email, _ = user
    client = client_of(app)
    for _ in range(logins.MAX_EMAIL_FAILURES):
        assert sign_in(client, email, "wrong-password").status_code == 401
    locked = sign_in(client, email)
    html = locked.get_data(as_text=True)
    assert locked.status_code == 429 and "登录失败次数过多" in html and "分钟" in html
    assert 0 < int(locked.headers["Retry-After"]) <= 15 * 60
    assert client.get("/").status_code == 302, "not signed in"


def test_lock_message_is_bilingual():
    exc = TooManyAttempts(125)
    assert exc.message.get("en") == "Too many failed sign-ins; try again in 3 minute(s) (125 s)"
    assert "125" in exc.message.get("zh-CN")


def test_email_lock_resets_after_the_window_and_a_success_clears_the_count(app, user):
    email, _ = user
    with session_scope(engine_of(app)) as s:
        for i in range(logins.MAX_EMAIL_FAILURES):
            assert logins.authenticate(s, "default", email, "nope", "10.0.0.1", now=T0 + timedelta(seconds=i)) is None
        with pytest.raises(TooManyAttempts) as locked:
            logins.authenticate(s, "default", email, ADMIN_PASSWORD, "10.0.0.1", now=T0 + timedelta(minutes=1))
        assert 13 * 60 < locked.value.retry_after <= 15 * 60
        later = T0 + logins.WINDOW + timedelta(seconds=10)
        assert logins.authenticate(s, "default", email, ADMIN_PASSWORD, "10.0.0.1", now=later)
        for i in range(logins.MAX_EMAIL_FAILURES - 1):       # the success started a fresh count
            logins.authenticate(s, "default", email, "nope", now=later + timedelta(seconds=i + 1))
        assert logins.authenticate(s, "default", email, ADMIN_PASSWORD, now=later + timedelta(minutes=1))


def test_one_ip_trying_many_accounts_is_locked(app, user):
    email, _ = user
    with session_scope(engine_of(app)) as s:
        for i in range(logins.MAX_IP_FAILURES):
            logins.authenticate(s, "default", f"guess{i}@example.com", "nope", "203.0.113.7",
                                now=T0 + timedelta(seconds=i))
        with pytest.raises(TooManyAttempts):
            logins.authenticate(s, "default", email, ADMIN_PASSWORD, "203.0.113.7", now=T0 + timedelta(minutes=2))
        assert logins.authenticate(s, "default", email, ADMIN_PASSWORD, "198.51.100.1",
                                   now=T0 + timedelta(minutes=2)), "another IP is not locked"


# ---------------------------------------------------------------------------- password policy

@pytest.mark.parametrize("password, en", [
    ("short-1", "at least 10 characters"),
    ("x" * 1025, "at most 1024 characters"),
    ("Pat@Plant.example", "must not be your email or name"),
    ("Patricia Plantwell", "must not be your email or name"),
    ("Password123", "too common"),
    ("qwertyuiop", "too common"),
    ("zzzzzzzzzzzz", "too common"),
])
def test_password_policy_refuses_with_bilingual_messages(app, password, en):
    with session_scope(engine_of(app)) as s:
        with pytest.raises(accounts.AccountError) as refused:
            accounts.create_user(s, 1, "Pat@Plant.example", "Patricia Plantwell", password)
    message = refused.value.message
    assert en in message.get("en") and message.get("zh-CN") != message.get("en")


def test_policy_applies_to_reset_and_accepts_a_good_password(app):
    with session_scope(engine_of(app)) as s:
        uid = accounts.create_user(s, 1, "quinn.quality@plant.example", "Quinn", "lots-of-words-9")
        with pytest.raises(accounts.AccountError):
            accounts.reset_password(s, 1, uid, "quinn.quality")     # the email's name part
        with pytest.raises(accounts.AccountError):
            accounts.reset_password(s, 1, uid, "1234567890")
        accounts.reset_password(s, 1, uid, "another-good-one-3")


def test_cli_create_user_refuses_a_common_password(app, monkeypatch):
    import app as app_module
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "false")
    result = app.test_cli_runner().invoke(app_module.cli, ["create-user", "--email", "c@example.com",
                                                           "--password", "password123"])
    assert result.exit_code != 0 and "too common" in result.output


# ---------------------------------------------------------------------------- password change

def change(client, current=ADMIN_PASSWORD, new=NEW_PASSWORD, again=None):
    return client.post("/account/password", data={"csrf_token": csrf_from(client, "/account/password"),
                                                  "current_password": current, "new_password": new,
                                                  "confirm_password": new if again is None else again})


def test_change_password_keeps_this_session_and_ends_the_others(app, user):
    email, user_id = user
    mine, other = client_of(app), client_of(app)
    sign_in(mine, email), sign_in(other, email)
    with session_scope(engine_of(app)) as s:
        token = logins.create_api_token(s, 1, user_id, "erp")
    assert change(mine).status_code == 302
    assert mine.get("/").status_code == 200, "the session that changed the password continues"
    assert other.get("/").status_code == 302, "another device is signed out"
    assert sign_in(client_of(app), email).status_code == 401, "the old password no longer works"
    assert sign_in(client_of(app), email, NEW_PASSWORD).status_code == 302
    api = app.test_client().get("/api/v1/tasks", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 200, "API tokens are separate credentials and survive"


@pytest.mark.parametrize("kwargs, text", [
    ({"current": "not-my-password"}, "当前密码不正确"),
    ({"new": "short"}, "密码至少 10 个字符"),
    ({"new": "Plant user"}, "密码不能与邮箱或姓名相同"),
    ({"again": "something-else-1"}, "两次输入的新密码不一致"),
])
def test_change_password_mistakes_change_nothing(app, user, kwargs, text):
    email, _ = user
    client = client_of(app)
    sign_in(client, email)
    response = change(client, **kwargs)
    assert response.status_code == 400 and text in response.get_data(as_text=True)
    assert client.get("/").status_code == 200
    assert sign_in(client_of(app), email).status_code == 302, "the password is unchanged"


def test_guessing_the_current_password_is_rate_limited(app, user):
    email, _ = user
    client = client_of(app)
    sign_in(client, email)
    for _ in range(logins.MAX_EMAIL_FAILURES):      # the sign-in's success started a fresh count
        assert change(client, current="guess-guess-1").status_code == 400
    locked = change(client)
    assert locked.status_code == 429 and "Retry-After" in locked.headers


def test_admin_reset_ends_every_session_of_the_user(app, user):
    email, user_id = user
    client = client_of(app)
    sign_in(client, email)
    with session_scope(engine_of(app)) as s:
        accounts.reset_password(s, 1, user_id, NEW_PASSWORD)
    assert client.get("/").status_code == 302
