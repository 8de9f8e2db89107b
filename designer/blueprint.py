"""The designer's one blueprint: pages under ``/designer/...``, JSON under ``/designer/api/...``,
static files under ``/designer/static/...``. Each module of the package adds its own routes."""
from __future__ import annotations

from flask import Blueprint

from runtime.api.replies import BadInput, bad_request_reply

bp = Blueprint("designer", __name__, url_prefix="/designer", template_folder="templates",
               static_folder="static", static_url_path="/static")

# JSON answers everywhere under /designer/api: nobody signed in → 401 (runtime.auth.login_required),
# engine errors and HTTP errors → the error envelope (runtime.errors), a malformed body → 400 here.
bp.register_error_handler(BadInput, bad_request_reply)
