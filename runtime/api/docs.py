"""The OpenAPI document of the caller's tenant and the browsable page that renders it.

Both need a signed-in user (session or token): the document lists the tenant's forms the caller
may use, and their fields not hidden from them. The page uses the vendored Swagger UI
(``static/vendor/swagger-ui``), no CDN.
"""
from __future__ import annotations

from flask import jsonify, render_template, request, url_for

from engine.services.openapi import openapi_document
from runtime.api.blueprint import bp
from runtime.i18n import current_lang
from runtime.auth import current_actor
from runtime.db import db


def _base_url() -> str:
    """The API's own URL as the caller reached it (host, port and any mount prefix)."""
    return request.url_root.rstrip("/") + bp.url_prefix


@bp.get("/openapi.json")
def openapi():
    actor = current_actor()
    return jsonify(openapi_document(db(), actor.tenant_id, _base_url(), current_lang(), actor=actor))


@bp.get("/docs")
def docs():
    return render_template("api/docs.html", spec_url=url_for("api.openapi"))
