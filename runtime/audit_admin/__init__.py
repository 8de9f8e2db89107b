"""The audit chain's admin page (blueprint ``audit_admin``, ``/admin/audit``): the tenant's entry
count and chain head (the anchor to note down), the last verification, and "verify now"."""
from flask import Flask

from runtime.audit_admin.views import bp

__all__ = ["bp", "init_app"]


def init_app(app: Flask) -> None:
    """Register the page and its link in the header (base.html includes audit_admin/_nav.html)."""
    if "audit_admin" not in app.blueprints:
        app.register_blueprint(bp)
    app.jinja_env.globals["audit_admin_nav"] = True
