"""Security headers on every response, HSTS and Secure cookies only behind TLS, no inline script."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Response

from runtime import security
from tests.runtime.web_support import ADMIN_PASSWORD, make_app, sign_in

ROOT = Path(__file__).resolve().parents[3]
TEMPLATE_DIRS = [ROOT / "runtime" / "templates", ROOT / "designer" / "templates"]
PROXIED = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "qms.example", "X-Forwarded-For": "203.0.113.9"}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    return make_app(tmp_path_factory.mktemp("headers"))


@pytest.fixture(scope="module")
def proxied_app(tmp_path_factory):
    return make_app(tmp_path_factory.mktemp("proxied"), QMS_BEHIND_PROXY="1")


def policy(response) -> dict[str, str]:
    """The CSP as {directive: sources}."""
    parts = (p.strip().split(None, 1) for p in response.headers["Content-Security-Policy"].split(";") if p.strip())
    return {p[0]: (p[1] if len(p) > 1 else "") for p in parts}


def assert_secure_headers(response) -> None:
    csp = policy(response)
    assert csp["script-src"] == "'self'", "no inline script, no eval"
    assert csp["default-src"] == "'self'" and csp["object-src"] == "'none'" and csp["base-uri"] == "'self'"
    assert csp["form-action"] == "'self'" and csp["frame-ancestors"] == "'self'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "geolocation=()" in response.headers["Permissions-Policy"]


@pytest.mark.parametrize("path", ["/login", "/api/v1/health", "/no-such-page", "/api/v1/no-such-route",
                                  "/static/js/app.js", "/"])
def test_every_response_carries_the_headers_and_no_hsts_over_http(app, path):
    response = app.test_client().get(path)
    assert_secure_headers(response)
    assert "Strict-Transport-Security" not in response.headers


def test_signed_in_pages_and_errors_carry_the_headers(app):
    client = app.test_client()
    sign_in(client)
    for path in ("/", "/tasks", "/account/tokens", "/designer/", "/forms/nope/records"):
        assert_secure_headers(client.get(path))


def test_session_and_tenant_cookies_are_httponly_lax_and_not_secure_over_http(app):
    client = app.test_client()
    cookies = sign_in(client).headers.getlist("Set-Cookie")
    for name in ("session=", "qms_company="):
        cookie = next(c for c in cookies if c.startswith(name))
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_behind_a_tls_proxy_hsts_and_secure_cookies(proxied_app):
    page = proxied_app.test_client().get("/login", headers=PROXIED)    # plain http to the app, https outside
    assert page.headers["Strict-Transport-Security"] == security.HSTS
    assert_secure_headers(page)
    assert "Secure" in page.headers["Set-Cookie"]
    client = proxied_app.test_client()
    html = client.get("/login", headers=PROXIED, base_url="https://localhost").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    signed_in = client.post("/login", base_url="https://localhost",
                            headers={**PROXIED, "X-Forwarded-Host": "localhost", "Referer": "https://localhost/login"},
                            data={"company": "default", "email": "admin@example.com", "password": ADMIN_PASSWORD,
                                  "csrf_token": token})
    assert signed_in.status_code == 302
    for name in ("session=", "qms_company="):
        cookie = next(c for c in signed_in.headers.getlist("Set-Cookie") if c.startswith(name))
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert proxied_app.config["REMEMBER_COOKIE_SECURE"] is True


def test_forwarded_proto_is_ignored_without_the_proxy_setting(app):
    response = app.test_client().get("/login", headers=PROXIED)
    assert "Strict-Transport-Security" not in response.headers


def test_https_scheme_setting_alone_makes_cookies_secure(tmp_path):
    app = make_app(tmp_path, PREFERRED_URL_SCHEME="https")
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_a_stricter_policy_set_by_a_view_is_kept(app):
    strict = "default-src 'none'; sandbox"
    with app.test_request_context("/files/1"):
        response = security.add_headers(Response("x", headers={"Content-Security-Policy": strict}))
    assert response.headers["Content-Security-Policy"] == strict
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_oversized_body_is_a_clear_413_in_the_users_language(tmp_path):
    app = make_app(tmp_path, MAX_CONTENT_LENGTH=1000)
    client = app.test_client()
    sign_in(client)
    page = client.post("/login", data={"company": "x" * 2000})
    assert page.status_code == 413 and page.get_data(as_text=True) == "上传内容太大"    # the admin's language
    api = client.post("/api/v1/apps/import", data=b"x" * 2000, content_type="application/json")
    assert api.status_code == 413 and api.get_json()["error"]["code"] == "request_entity_too_large"


def test_body_cap_defaults_above_the_largest_upload(app, tmp_path):
    assert app.config["MAX_CONTENT_LENGTH"] >= 50 * 1024 * 1024
    big = make_app(tmp_path, QMS_MAX_UPLOAD_MB="200")
    assert big.config["MAX_CONTENT_LENGTH"] > 200 * 1024 * 1024


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
EVENT_ATTR = re.compile(r"\son[a-z]+\s*=\s*[\"']", re.I)


@pytest.mark.parametrize("template", sorted(p for d in TEMPLATE_DIRS for p in d.rglob("*.html")),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_templates_have_no_inline_script_handlers_or_javascript_urls(template):
    text = template.read_text(encoding="utf-8")
    assert not INLINE_SCRIPT.search(text), "inline <script>: move it to runtime/static/js/"
    assert not EVENT_ATTR.search(text), "inline event handler attribute"
    assert "javascript:" not in text.lower()
