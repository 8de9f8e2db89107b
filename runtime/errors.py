"""One place that maps engine errors and HTTP errors to responses.

API routes (``/api/...``) always answer JSON ``{"error": {"code", "message"}}`` (plus
``errors`` lists where the contract has them) — never HTML.
"""
from __future__ import annotations

from flask import Flask, jsonify, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from engine import errors as E

STATUS = {
    E.NotFound: 404,
    E.PermissionDenied: 403,
    E.Conflict: 409,
    E.DefinitionError: 422,
    E.RecordValidationError: 422,
    E.ExpressionError: 422,
}


def request_lang() -> str:
    """zh-CN unless the client prefers English."""
    best = request.accept_languages.best_match(["zh-CN", "zh", "en"]) if request else None
    return "en" if best == "en" else "zh-CN"


def _is_api() -> bool:
    return request.path.startswith("/api/")


def error_body(code: str, message: str, **extra) -> dict:
    return {"error": {"code": code, "message": message}, **extra}


def engine_error_response(exc: E.QMSError):
    """JSON response for an engine error, in the caller's language."""
    lang = request_lang()
    extra = {}
    if isinstance(exc, E.DefinitionError):
        extra["errors"] = [p.to_dict(lang) for p in exc.problems]
    elif isinstance(exc, E.RecordValidationError):
        extra["errors"] = [p.to_dict(lang) for p in exc.errors]
    elif isinstance(exc, E.ExpressionError):
        extra["errors"] = [exc.to_dict(lang)]
    status = next((s for cls, s in STATUS.items() if isinstance(exc, cls)), 400)
    return jsonify(error_body(exc.code, exc.message.get(lang), **extra)), status


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(E.QMSError, engine_error_response)

    @app.errorhandler(CSRFError)
    def _csrf_failed(exc: CSRFError):
        from runtime.i18n import t
        text = t("页面已过期或请求来源不明（CSRF 校验失败），请刷新页面后重试",
                 "The page expired or the request came from elsewhere (CSRF check failed); reload the page and retry")
        if _is_api():
            return jsonify(error_body("csrf_failed", text)), 400
        return text, 400

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if not _is_api():
            return exc
        code = (exc.name or "error").lower().replace(" ", "_")
        return jsonify(error_body(code, exc.description or exc.name)), exc.code

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        app.logger.exception("unhandled error on %s", request.path)
        if _is_api():
            return jsonify(error_body("internal_error", "Internal server error")), 500
        return "Internal server error / 服务器内部错误", 500
