"""Bulk edit and bulk delete: ``POST /api/v1/forms/<form_key>/records/bulk-update`` and ``…/bulk-delete``.

Body: ``{"ids": [..]}`` or ``{"filter": "<expression>"}``, plus ``"data": {field: value}`` (update),
optional ``"reason"`` and ``"versions": {"<id>": <version seen>}`` (a record changed since is
reported stale). Reply 200 ``{"updated"|"deleted", "unchanged", "failed", "matched", "batch_id",
"errors": [{"id", "serial_no", "message", "errors"}]}``: one failing record does not stop the rest.
Everything else — choosing, permissions, per-record savepoints, rules — is
:mod:`engine.services.bulk`; the work is committed before the reply.
"""
from __future__ import annotations

from typing import Any, Mapping

from flask import jsonify

from engine.i18n import msg
from engine.services import bulk as bulk_service
from runtime.api.blueprint import bp
from runtime.api.forms import usable_form
from runtime.api.replies import BadInput, json_object, member
from runtime.auth import current_actor
from runtime.db import commit, db
from runtime.i18n import current_lang


def _selection(body: Mapping[str, Any]) -> tuple[list[int] | None, str | None, dict[int, int]]:
    """(ids, filter, versions) of the body; 400 naming the member that is wrong."""
    ids = member(body, "ids", list, required=False)
    filter = member(body, "filter", str, required=False)
    if (ids is None) == (filter is None):
        raise BadInput(msg("请给出“ids”（记录 id 列表）或“filter”（筛选表达式）之一",
                           "Give either 'ids' (a list of record ids) or 'filter' (an expression), one of them"),
                       "ids")
    if ids is not None and any(not isinstance(i, int) or isinstance(i, bool) or i < 1 for i in ids):
        raise BadInput(msg("“ids”必须是正整数的列表", "'ids' must be a list of positive integers"), "ids")
    return ids, filter, _versions(member(body, "versions", dict, required=False, default={}))


def _versions(raw: Mapping[str, Any]) -> dict[int, int]:
    out = {}
    for key, value in raw.items():
        if not str(key).isdigit() or not isinstance(value, int) or isinstance(value, bool):
            raise BadInput(msg("“versions”应为 {\"记录 id\": 版本号}", "'versions' must map record ids to version numbers: "
                               "{\"<id>\": <version>}"), "versions")
        out[int(key)] = value
    return out


@bp.post("/forms/<form_key>/records/bulk-update")
def bulk_update(form_key: str):
    usable_form(form_key)
    body = json_object()
    ids, filter, versions = _selection(body)
    data = member(body, "data", dict)
    reason = member(body, "reason", str, required=False)
    report = bulk_service.bulk_update(db(), current_actor(), form_key, ids, filter, data, reason,
                                      max_records=bulk_service.MAX_RECORDS, versions=versions)
    commit()
    return jsonify(report.to_dict(current_lang()))


@bp.post("/forms/<form_key>/records/bulk-delete")
def bulk_delete(form_key: str):
    usable_form(form_key)
    body = json_object()
    ids, filter, versions = _selection(body)
    reason = member(body, "reason", str, required=False)
    report = bulk_service.bulk_delete(db(), current_actor(), form_key, ids, filter, reason,
                                      max_records=bulk_service.MAX_RECORDS, versions=versions)
    commit()
    return jsonify(report.to_dict(current_lang()))
