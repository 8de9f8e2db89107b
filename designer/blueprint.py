"""The designer's one blueprint: pages under ``/designer/...``, JSON under ``/designer/api/...``,
static files under ``/designer/static/...``. Each module of the package adds its own routes."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("designer", __name__, url_prefix="/designer", template_folder="templates",
               static_folder="static", static_url_path="/static")
