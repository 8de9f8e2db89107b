"""Health and status: a page for people and a JSON endpoint for load balancers and scripts."""
from __future__ import annotations

import time

from flask import Blueprint, current_app, jsonify, render_template
from sqlalchemy import func, select, text

from engine.storage.platform import form_versions, tenants

bp = Blueprint("health", __name__, template_folder="templates")


def database_status() -> dict:
    """Ping the database and count what is there; never raises."""
    engine = current_app.extensions["qms_db"]
    started = time.perf_counter()
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            n_tenants = conn.execute(select(func.count()).select_from(tenants)).scalar_one()
            n_forms = conn.execute(select(func.count()).select_from(form_versions)).scalar_one()
        ok, error = True, None
    except Exception as exc:  # the page must report the failure, not crash with it
        ok, error, n_tenants, n_forms = False, type(exc).__name__, None, None
    return {"ok": ok, "backend": engine.url.get_backend_name(), "error": error,
            "tenants": n_tenants, "published_form_versions": n_forms,
            "latency_ms": round((time.perf_counter() - started) * 1000, 1)}


@bp.get("/api/v1/health")
def health_json():
    db = database_status()
    body = {"status": "ok" if db["ok"] else "error", "database": db,
            "jobs": "redis" if current_app.config.get("REDIS_URL") else "in-process"}
    return jsonify(body), 200 if db["ok"] else 503


@bp.get("/health")
def health_page():
    db = database_status()
    return render_template("health.html", db=db,
                           jobs="Redis / rq" if current_app.config.get("REDIS_URL") else "in-process"), (200 if db["ok"] else 503)
