"""The in-app notification centre: notify users, count and list their unread, mark them read.

Each recipient gets their own row, so reading is per person. Every query is scoped to the
tenant *and* the actor's own user id: nobody ever sees another person's notifications, not even
an admin. Services never commit (the caller owns the transaction).
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Iterable

from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.orm import Session

from engine.notify.checks import body_text, link_value, subject_text
from engine.storage.notify_tables import notifications
from engine.storage.platform import users
from engine.types import Actor

MAX_PER_PAGE = 200
MAX_SOURCE = 200


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _user_ids(values: Iterable) -> list[int]:
    """Integer ids in order, each once (anything else is ignored: rules hand over what they resolved)."""
    seen: dict[int, None] = {}
    for value in values or ():
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            seen.setdefault(value, None)
    return list(seen)


def notify_users(session: Session, tenant_id: int, user_ids: Iterable[int], subject: str, body: str, *,
                 link: str | None = None, source: str | None = None) -> list[int]:
    """One notification per *active* user of the tenant among ``user_ids``; returns the new ids.

    Unknown ids, other tenants' users and inactive users are silently skipped. The subject is one
    line (NotifyInputError when empty); ``link`` is a path in the app or an http(s) URL.
    """
    subject, body, link = subject_text(subject), body_text(body), link_value(link)
    wanted = _user_ids(user_ids)
    if not wanted:
        return []
    active = set(session.execute(select(users.c.id).where(and_(
        users.c.tenant_id == tenant_id, users.c.id.in_(wanted), users.c.is_active.is_(True)))).scalars())
    rows = [{"tenant_id": tenant_id, "user_id": uid, "subject": subject, "body": body, "link": link,
             "source": (source or None) and str(source)[:MAX_SOURCE], "created_at": _now()}
            for uid in wanted if uid in active]
    if not rows:
        return []
    return list(session.execute(insert(notifications).returning(notifications.c.id, sort_by_parameter_order=True),
                                rows).scalars())


def _mine(actor: Actor):
    return and_(notifications.c.tenant_id == actor.tenant_id, notifications.c.user_id == actor.user_id)


def unread_count(session: Session, actor: Actor) -> int:
    """How many of the actor's own notifications are unread (0 for the system)."""
    if actor.user_id is None:
        return 0
    return session.execute(select(func.count()).select_from(notifications).where(and_(
        _mine(actor), notifications.c.read_at.is_(None)))).scalar_one()


def list_notifications(session: Session, actor: Actor, *, unread_only: bool = False, page: int = 1,
                       per_page: int = 50) -> dict:
    """One page of the actor's notifications, unread first, then newest first.

    Returns ``{"items", "total", "unread", "page", "per_page"}``; items are dicts with ``id``,
    ``subject``, ``body``, ``link``, ``source``, ``created_at``, ``read_at``, ``read``.
    """
    page, per_page = max(1, int(page)), min(max(1, int(per_page)), MAX_PER_PAGE)
    if actor.user_id is None:
        return {"items": [], "total": 0, "unread": 0, "page": page, "per_page": per_page}
    where = _mine(actor)
    if unread_only:
        where = and_(where, notifications.c.read_at.is_(None))
    rows = session.execute(select(notifications).where(where).order_by(
        notifications.c.read_at.is_not(None), notifications.c.id.desc()).limit(per_page).offset((page - 1) * per_page))
    items = [{**{k: r[k] for k in ("id", "subject", "body", "link", "source", "created_at", "read_at")},
              "read": r["read_at"] is not None} for r in rows.mappings()]
    total = session.execute(select(func.count()).select_from(notifications).where(where)).scalar_one()
    return {"items": items, "total": total, "unread": unread_count(session, actor), "page": page, "per_page": per_page}


def mark_read(session: Session, actor: Actor, ids: list[int] | None) -> int:
    """Mark the actor's notifications ``ids`` read (None: all of them); returns how many changed.

    Ids that are not the actor's own are ignored (never an error that would reveal they exist).
    """
    if actor.user_id is None:
        return 0
    where = and_(_mine(actor), notifications.c.read_at.is_(None))
    if ids is not None:
        wanted = _user_ids(ids)
        if not wanted:
            return 0
        where = and_(where, notifications.c.id.in_(wanted))
    return session.execute(update(notifications).where(where).values(read_at=_now())).rowcount or 0


def open_notification(session: Session, actor: Actor, notification_id: int) -> str | None:
    """Mark one of the actor's notifications read and return its link (None: no link, or not theirs)."""
    if actor.user_id is None:
        return None
    link = session.execute(select(notifications.c.link).where(and_(
        _mine(actor), notifications.c.id == notification_id))).scalar()
    mark_read(session, actor, [notification_id])
    return link


def user_emails(session: Session, tenant_id: int, user_ids: Iterable[int]) -> list[str]:
    """E-mail addresses of the *active* users of the tenant among ``user_ids`` (for mailing the same
    people a rule notifies in the app); others are skipped like in :func:`notify_users`."""
    wanted = _user_ids(user_ids)
    if not wanted:
        return []
    rows = dict(session.execute(select(users.c.id, users.c.email).where(and_(
        users.c.tenant_id == tenant_id, users.c.id.in_(wanted), users.c.is_active.is_(True)))).all())
    return [rows[uid] for uid in wanted if uid in rows]
