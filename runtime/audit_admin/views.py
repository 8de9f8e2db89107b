"""``/admin/audit`` for the administrators of the signed-in tenant (others get 403): entries,
head, the last verification run; POST ``/admin/audit/verify`` (CSRF) verifies the tenant's own
chain now, records the run and shows the first broken link with a link to its record while that
record still exists. No other tenant is ever read."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for

from engine.errors import QMSError
from engine.services import audit_verify
from engine.services import records as record_service
from engine.storage import audit
from runtime.auth import current_actor
from runtime.db import commit, db
from runtime.guards import page_guard

bp = Blueprint("audit_admin", __name__)

admin_page = page_guard(lambda: current_actor().is_admin)


def _record_url(broken: dict | None) -> str | None:
    """The broken entry's record page, when the record (and its form) still exist."""
    if not broken or not broken.get("form_key") or broken.get("record_id") is None:
        return None
    try:
        record_service.get_record(db(), current_actor(), broken["form_key"], int(broken["record_id"]))
    except (QMSError, ValueError):
        return None
    return url_for("records.detail", form_key=broken["form_key"], record_id=int(broken["record_id"]))


@bp.get("/admin/audit")
@admin_page
def index():
    tenant_id = current_actor().tenant_id
    last = audit_verify.last_check(db(), tenant_id)
    return render_template("audit_admin/verify.html", count=audit_verify.entry_count(db(), tenant_id),
                           head=audit.head(db(), tenant_id), last=last,
                           record_url=_record_url(last.get("broken") if last else None))


@bp.post("/admin/audit/verify")
@admin_page
def verify():
    actor = current_actor()
    result = audit_verify.verify_tenant(db(), actor.tenant_id)
    audit_verify.record_check(db(), result, actor.user_id)
    commit()
    return redirect(url_for("audit_admin.index"), code=303)
