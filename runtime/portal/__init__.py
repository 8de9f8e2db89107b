"""The supplier portal: a supplier's users see their own NCRs, 8D requests (answered step by
step, with files), scorecards and certificates; admins manage the supplier's logins.

``init_app(app)`` registers the blueprint, sends supplier portal users from the home page ``/``
to ``/portal`` and from the internal task page to the portal's, and gives templates
``portal_user`` (True for them) to trim the navigation.
"""
from flask import Blueprint, Flask, redirect, request, url_for

bp = Blueprint("portal", __name__)

from runtime.portal import admin, views  # noqa: E402,F401  (routes register on bp)


def _is_portal_user() -> bool:
    from engine.services.portal import is_portal_user
    from runtime.auth import current_actor
    return is_portal_user(current_actor())


def _home_to_portal():
    """Supplier users have no use for the internal app list: "/" is their portal; and a task opened
    from the inbox or a notification opens on the portal's answer page (sub-tables and files)."""
    if request.method != "GET" or request.endpoint not in ("home.index", "tasks.task_page"):
        return None
    if not _is_portal_user():
        return None
    if request.endpoint == "home.index":
        return redirect(url_for("portal.index"))
    return redirect(url_for("portal.task", task_id=request.view_args["task_id"]))


def init_app(app: Flask) -> None:
    """Register the portal pages, the home redirect and the ``portal_user`` template flag."""
    if "portal" not in app.blueprints:
        app.register_blueprint(bp)
    app.before_request(_home_to_portal)
    app.context_processor(lambda: {"portal_user": _is_portal_user()})
