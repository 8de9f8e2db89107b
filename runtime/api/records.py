"""Record CRUD of any form: ``/api/v1/forms/<form_key>/records[/<id>]``.

Every call goes through :mod:`engine.services.records`, where permissions, read scopes,
validation, formulas, numbering and audit live — the API adds no rules of its own beyond
reading the request. Writes are committed before the reply is sent.
"""
from __future__ import annotations

from flask import jsonify, request

from engine.services import records as record_service
from runtime.api.blueprint import bp
from runtime.api.forms import usable_form
from runtime.api.replies import int_arg, json_object, member, record_json
from runtime.auth import current_actor
from runtime.db import commit, db


@bp.post("/forms/<form_key>/records")
def create_record(form_key: str):
    usable_form(form_key)
    body = json_object()
    data = member(body, "data", dict)
    reason = member(body, "reason", str, required=False)
    record = record_service.create_record(db(), current_actor(), form_key, data, reason)
    commit()
    return jsonify(record_json(record)), 201


@bp.get("/forms/<form_key>/records")
def list_records(form_key: str):
    usable_form(form_key)
    page = record_service.query_records(
        db(), current_actor(), form_key, filter=request.args.get("filter") or None,
        sort=request.args.get("sort") or None, page=int_arg("page", 1),
        per_page=min(int_arg("per_page", record_service.DEFAULT_PER_PAGE), record_service.MAX_PER_PAGE))
    return jsonify({"items": [record_json(r) for r in page.items], "total": page.total,
                    "page": page.page, "per_page": page.per_page})


@bp.get("/forms/<form_key>/records/<int:record_id>")
def get_record(form_key: str, record_id: int):
    usable_form(form_key)
    return jsonify(record_json(record_service.get_record(db(), current_actor(), form_key, record_id)))


@bp.patch("/forms/<form_key>/records/<int:record_id>")
def update_record(form_key: str, record_id: int):
    usable_form(form_key)
    body = json_object()
    version, data = member(body, "version", int), member(body, "data", dict)
    reason = member(body, "reason", str, required=False)
    record = record_service.update_record(db(), current_actor(), form_key, record_id, version, data, reason)
    commit()
    return jsonify(record_json(record))


@bp.delete("/forms/<form_key>/records/<int:record_id>")
def delete_record(form_key: str, record_id: int):
    usable_form(form_key)
    record_service.delete_record(db(), current_actor(), form_key, record_id, int_arg("version"),
                                 request.args.get("reason") or None)
    commit()
    return "", 204
