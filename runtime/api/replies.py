"""Request bodies in, JSON replies out: the small pieces every API view shares.

Bad input is a 400 with a message naming what is wrong (never a traceback); values go out
JSON-ready (dates ``YYYY-MM-DD``, datetimes ISO 8601 with offset).
"""
from __future__ import annotations

import json
import math
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, Mapping

from flask import jsonify, request

from engine.i18n import Msg, msg
from runtime.i18n import current_lang


class BadInput(Exception):
    """A request the API cannot read: answered 400 ``bad_request`` with the message."""

    def __init__(self, message: Msg, field: str | None = None):
        super().__init__(message.en)
        self.message = message
        self.field = field


def error_reply(status: int, code: str, zh: str, en: str, **extra):
    """The JSON error envelope in the caller's language."""
    text = en if current_lang() == "en" else zh
    return jsonify({"error": {"code": code, "message": text}, **extra}), status


def bad_request_reply(exc: BadInput):
    lang = current_lang()
    body: dict = {"error": {"code": "bad_request", "message": exc.message.get(lang)}}
    if exc.field is not None:
        body["errors"] = [{"field": exc.field, "message": exc.message.get(lang)}]
    return jsonify(body), 400


def json_object() -> dict:
    """The request body as a JSON object (400 for no body, invalid JSON or another JSON type)."""
    raw = request.get_data(cache=True, as_text=True)
    if not raw.strip():
        raise BadInput(msg("请求体为空：需要一个 JSON 对象", "The request body is empty: send a JSON object"))
    try:
        body = json.loads(raw)
    except ValueError as exc:
        line, column = getattr(exc, "lineno", 1), getattr(exc, "colno", 1)
        raise BadInput(msg("请求体不是有效的 JSON（第 {l} 行第 {c} 列）",
                             "The request body is not valid JSON (line {l}, column {c})", l=line, c=column)) from None
    except RecursionError:      # nested deeper than the parser can follow
        raise BadInput(msg("请求体的 JSON 嵌套层数过多", "The request body's JSON is nested too deeply")) from None
    if not isinstance(body, dict):
        raise BadInput(msg("请求体必须是 JSON 对象 {…}", "The request body must be a JSON object {…}"))
    return body


_TYPES = {str: ("文本", "a string"), dict: ("对象 {…}", "an object {…}"), int: ("整数", "an integer"),
          list: ("列表 […]", "a list […]")}


def member(body: Mapping, key: str, kind: type, required: bool = True, default: Any = None) -> Any:
    """``body[key]`` checked to be of ``kind`` (bool is not an int); 400 naming the key otherwise."""
    if key not in body or body[key] is None:
        if required:
            raise BadInput(msg("缺少“{k}”", "'{k}' is missing", k=key), key)
        return default
    value = body[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        zh, en = _TYPES[kind]
        raise BadInput(msg("“{k}”必须是{t}", "'{k}' must be {e}", k=key, t=zh, e=en), key)
    return value


def int_arg(name: str, default: int | None = None, minimum: int = 1) -> int | None:
    """An integer query parameter (400 when it is not one, or below ``minimum``)."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or value < minimum:
        raise BadInput(msg("参数“{k}”必须是不小于 {m} 的整数", "The parameter '{k}' must be an integer ≥ {m}",
                             k=name, m=minimum), name)
    return value


def json_ready(value: Any) -> Any:
    """A Python value of the engine as JSON (dates ISO, non-finite numbers blank, tuples as lists)."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [json_ready(v) for v in value]
    return value


def record_json(record) -> dict:
    """A record as the contract shows it — ``id``, ``version``, ``data`` — plus system values in ``meta``."""
    meta = {"serial_no": record.serial_no, "title": record.title, "status": record.status,
            "flow_state": record.flow_state, "def_version": record.def_version,
            "created_by": record.created_by, "created_at": json_ready(record.created_at),
            "updated_by": record.updated_by, "updated_at": json_ready(record.updated_at)}
    return {"id": record.id, "version": record.version, "data": json_ready(record.data), "meta": meta}
