"""Security headers on every response, TLS behind a proxy, secure cookies, and the upload cap.

- Content-Security-Policy: scripts only from this site (no inline script, no eval); inline
  *style attributes* stay allowed (``'unsafe-inline'`` in style-src only: templates use
  ``style="…"`` for small layout tweaks, which cannot run code). ``frame-ancestors 'self'``: the
  designer previews pages in a same-origin iframe; no other site may frame us.
  A view that already set a (stricter) policy keeps it — uploaded files are served sandboxed.
- nosniff, Referrer-Policy, X-Frame-Options SAMEORIGIN (older browsers), Permissions-Policy.
- ``QMS_BEHIND_PROXY=1`` (env or app config): trust one proxy's X-Forwarded-For/-Proto/-Host
  (werkzeug ProxyFix), so ``X-Forwarded-Proto: https`` makes the request secure; cookies then
  get the Secure flag (also when ``PREFERRED_URL_SCHEME`` is https) and HTTPS responses carry HSTS.
- ``MAX_CONTENT_LENGTH``: a request body above the largest upload any page takes is refused
  with 413 before it is read, with a clear message in the user's language.
"""
from __future__ import annotations

import os

from flask import Flask, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix

CSP = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'self'",
))
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "SAMEORIGIN",
    "Permissions-Policy": "geolocation=(), microphone=(), camera=(self), payment=(), usb=()",
}
HSTS = "max-age=31536000; includeSubDomains"
#: The largest body any page takes (records import: 50 MB), plus room for the multipart framing.
DEFAULT_MAX_BODY = 51 * 1024 * 1024


def _flag(value) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def behind_proxy(app: Flask) -> bool:
    """``QMS_BEHIND_PROXY`` from the app config (tests) or the environment."""
    return _flag(app.config.get("QMS_BEHIND_PROXY", os.environ.get("QMS_BEHIND_PROXY", "")))


def _upload_cap(app: Flask) -> int:
    """``QMS_MAX_UPLOAD_MB`` in bytes (0 when unset or not a number): the body cap never undercuts it."""
    raw = app.config.get("QMS_MAX_UPLOAD_MB") or os.environ.get("QMS_MAX_UPLOAD_MB") or 0
    try:
        return int(max(float(raw), 0) * 1024 * 1024)
    except (TypeError, ValueError, OverflowError):
        return 0


def add_headers(response):
    """The security headers; a policy a view set itself is kept."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def _too_large(exc: RequestEntityTooLarge):
    from runtime.errors import HTTP_MESSAGES, error_body
    from runtime.i18n import current_lang
    text = HTTP_MESSAGES[413].get(current_lang())
    if request.path.startswith(("/api/", "/designer/api/", "/files")) or request.accept_mimetypes.best == "application/json":
        return jsonify(error_body("request_entity_too_large", text)), 413
    return text, 413, {"Content-Type": "text/plain; charset=utf-8"}


def init_app(app: Flask) -> None:
    """Install the headers, the proxy trust and the cookie/body settings."""
    if behind_proxy(app):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)
    if behind_proxy(app) or app.config.get("PREFERRED_URL_SCHEME") == "https":
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    app.config.setdefault("REMEMBER_COOKIE_HTTPONLY", True)
    app.config.setdefault("REMEMBER_COOKIE_SAMESITE", "Lax")
    if app.config.get("MAX_CONTENT_LENGTH") is None:
        app.config["MAX_CONTENT_LENGTH"] = max(DEFAULT_MAX_BODY, _upload_cap(app) + 1024 * 1024)
    app.after_request(add_headers)
    app.register_error_handler(RequestEntityTooLarge, _too_large)
