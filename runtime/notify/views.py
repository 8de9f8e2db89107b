"""The notification centre (``/notifications``): the user's own notifications, unread first, with
mark-read / mark-all-read and a link to the record; plus ``notify_unread()`` for the header badge.

Everything goes through :mod:`engine.services.notifications`, which only ever shows the signed-in
user their own rows; an id that is not theirs changes nothing and opens nothing.
"""
from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from sqlalchemy.exc import SQLAlchemyError

from engine.services import notifications as notes
from runtime.auth import current_actor, login_required
from runtime.db import commit, db
from runtime.i18n import t
from runtime.records import display

bp = Blueprint("notify", __name__)
PER_PAGE = 30


@bp.app_context_processor
def _badge() -> dict:
    """``notify_unread()`` for the header: computed only when a page draws it, once a request."""
    def notify_unread() -> int | None:
        if "notify_unread" not in g:
            actor = current_actor()
            g.notify_unread = None
            if actor is not None:
                try:
                    g.notify_unread = notes.unread_count(db(), actor)
                except SQLAlchemyError:        # never break a page over its badge
                    g.notify_unread = None
        return g.notify_unread
    return {"notify_unread": notify_unread}


@bp.context_processor
def _helpers() -> dict:
    return {"when": display.when}


def int_arg(value, default: int | None = None) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


@bp.get("/notifications")
@login_required
def centre():
    unread_only = request.args.get("unread") in ("1", "true", "on")
    page = max(1, int_arg(request.args.get("page"), 1))
    found = notes.list_notifications(db(), current_actor(), unread_only=unread_only, page=page, per_page=PER_PAGE)
    pages = max(1, -(-found["total"] // found["per_page"]))
    return render_template("notify/centre.html", found=found, unread_only=unread_only, pages=pages)


@bp.post("/notifications/read")
@login_required
def mark_read():
    """Mark the ticked notifications (``id``) or, with ``all``, every one of the user's as read."""
    actor = current_actor()
    if request.form.get("all"):
        count = notes.mark_read(db(), actor, None)
    else:
        ids = [i for i in (int_arg(v) for v in request.form.getlist("id")) if i is not None]
        count = notes.mark_read(db(), actor, ids)
    commit()
    flash(t(f"已标记 {count} 条为已读", f"{count} marked as read"), "ok")
    return redirect(url_for("notify.centre", unread="1" if request.form.get("unread") == "1" else None))


@bp.get("/notifications/<int:notification_id>/open")
@login_required
def open_link(notification_id: int):
    """Mark one notification read and go to its link (the centre when it has none or is not the user's)."""
    link = notes.open_notification(db(), current_actor(), notification_id)
    commit()
    # links were checked when stored: a path in this app or an http(s) URL, never javascript: & co.
    return redirect(link or url_for("notify.centre"))
