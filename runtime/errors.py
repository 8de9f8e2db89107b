"""One place that maps engine errors and HTTP errors to responses.

API routes (``/api/...``) always answer JSON ``{"error": {"code", "message"}}`` (plus
``errors`` lists where the contract has them) — never HTML.
"""
from __future__ import annotations

from flask import Flask, Request, jsonify, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from engine import errors as E
from engine.i18n import Msg
from engine.reports.dashboard import FilterValueError
from engine.reports.query import ReportInputError
from runtime.i18n import current_lang

STATUS = (
    (E.TooManyAttempts, 429),            # before PermissionDenied, its base class
    (E.NotFound, 404),
    (E.PermissionDenied, 403),
    (E.Conflict, 409),
    (E.DefinitionError, 422),
    (E.RecordValidationError, 422),
    (E.ExpressionError, 422),
    (ReportInputError, 422),             # a report's filter or input the caller sent cannot run
    (E.QMSError, 400),
)


HTTP_MESSAGES = {
    404: Msg("没有这个地址", "No such address"),
    405: Msg("这个地址不支持该请求方法", "This address does not accept that method"),
    413: Msg("上传内容太大", "The upload is too large"),
    429: Msg("请求太频繁，请稍后再试", "Too many requests; try again later"),
}


API_PREFIXES = ("/api/", "/designer/api/")


def _is_api() -> bool:
    """JSON in and out (never HTML pages): the REST API and the designer's own API."""
    return request.path.startswith(API_PREFIXES)


def error_body(code: str, message: str, **extra) -> dict:
    return {"error": {"code": code, "message": message}, **extra}


def engine_error_response(exc: E.QMSError):
    """JSON response for an engine error, every problem listed, in the caller's language."""
    lang = current_lang()
    extra = {}
    if isinstance(exc, E.DefinitionError):
        extra["errors"] = [p.to_dict(lang) for p in exc.problems]
    elif isinstance(exc, E.RecordValidationError):
        extra["errors"] = [p.to_dict(lang) for p in exc.errors]
    elif isinstance(exc, E.ExpressionError):
        extra["errors"] = [e.to_dict(lang) for e in getattr(exc, "errors", None) or [exc]]
    elif isinstance(exc, ReportInputError):
        extra["errors"] = [{"path": exc.path, "message": exc.message.get(lang)}]
    status = next(code for cls, code in STATUS if isinstance(exc, cls))
    response = jsonify(error_body(exc.code, exc.message.get(lang), **extra))
    if isinstance(exc, E.TooManyAttempts):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response, status


def filter_value_response(exc: FilterValueError):
    """A dashboard's shared-filter value that cannot select anything: 422 naming the filter."""
    text = exc.message.get(current_lang())
    return jsonify(error_body("invalid_filter_value", text, errors=[{"filter": exc.key, "message": text}])), 422


class BoundedJSONRequest(Request):
    """``get_json`` answers a body nested deeper than the parser can follow with 400, like any
    other unreadable JSON (``silent=True`` gives None), instead of a RecursionError."""

    def get_json(self, force=False, silent=False, cache=True):
        try:
            return super().get_json(force=force, silent=silent, cache=cache)
        except RecursionError:
            if silent:
                return None
            self.on_json_loading_failed(ValueError("JSON nested too deeply"))


def register_error_handlers(app: Flask) -> None:
    app.request_class = BoundedJSONRequest
    app.register_error_handler(E.QMSError, engine_error_response)
    app.register_error_handler(FilterValueError, filter_value_response)

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
        known = HTTP_MESSAGES.get(exc.code)
        text = known.get(current_lang()) if known and exc.description == type(exc).description else exc.description
        return jsonify(error_body(code, text or exc.name)), exc.code

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def _database_unavailable(exc: Exception):
        # the database restarted or is unreachable: 503, and the pool reconnects on the next request
        from runtime.i18n import t
        app.logger.warning("database unavailable on %s: %s", request.path, str(exc).splitlines()[0][:300])
        text = t("数据库暂时不可用：请确认您的更改是否已保存，然后重试",
                 "The database is temporarily unavailable: check whether your change was saved, then try again")
        body = (jsonify(error_body("database_unavailable", text)) if _is_api() else text)
        return body, 503, {"Retry-After": "5"}

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        app.logger.exception("unhandled error on %s", request.path)
        if _is_api():
            return jsonify(error_body("internal_error", "Internal server error")), 500
        return "Internal server error / 服务器内部错误", 500
