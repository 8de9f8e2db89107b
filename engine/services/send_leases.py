"""Claiming, leasing and retrying outbox rows: shared by the mail outbox and the delivery log.

A row moves ``pending`` → ``sending`` (claimed with a lease) → ``sent`` | ``pending`` (retry later,
with exponential backoff) | ``failed``. Claiming is one conditional UPDATE, so two workers that
got the same job (the sweep enqueues a due row again, Redis redelivers) cannot both send: the
second one's UPDATE matches nothing and it does nothing. A worker that died mid-send leaves a
``sending`` row whose lease expires; the sweep then hands it out again.

The sweep leaves a new row to the job queued when it was written for :data:`HANDOUT_GRACE`, and
marks each pending row it hands out (``lease_until`` on a pending row: "a job has it until"), so a
backlogged queue is not flooded with the same rows every round; a lost job is replaced after that.
"""
from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

from sqlalchemy import Table, and_, or_, select, update
from sqlalchemy.orm import Session

PENDING, SENDING, SENT, FAILED, HELD = "pending", "sending", "sent", "failed", "held"
STATUSES = (HELD, PENDING, SENDING, SENT, FAILED)
LEASE = timedelta(seconds=120)   # default of QMS_SEND_LEASE: longer than any send's timeout (≤ 30 s)
MAX_ATTEMPTS = 8
HANDOUT_GRACE = timedelta(seconds=60)     # a job handed out and not started by then was lost
BACKOFF_BASE = 60            # seconds before the 2nd attempt; doubles each time
BACKOFF_CAP = 6 * 3600
MAX_ERROR = 2000


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


def lease() -> timedelta:
    """How long a claimed row is held before the sweep may hand it out again (``QMS_SEND_LEASE`` seconds,
    at least 31: a send that is merely slow must not be sent twice)."""
    raw = os.environ.get("QMS_SEND_LEASE", "").strip()
    try:
        return timedelta(seconds=max(31, int(raw))) if raw else LEASE
    except ValueError:
        return LEASE


def backoff(attempts: int, retry_after: float | None = None) -> timedelta:
    """Wait after the ``attempts``-th failed try: 1, 2, 4 … minutes, at most 6 h (or Retry-After if longer)."""
    delay = min(BACKOFF_BASE * 2 ** max(0, attempts - 1), BACKOFF_CAP)
    if retry_after is not None and retry_after > delay:
        delay = min(retry_after, BACKOFF_CAP)
    return timedelta(seconds=delay)


def _due(table: Table, now: datetime):
    return or_(and_(table.c.status == PENDING, or_(table.c.next_attempt_at.is_(None), table.c.next_attempt_at <= now)),
               and_(table.c.status == SENDING, or_(table.c.lease_until.is_(None), table.c.lease_until < now)))


def claim(session: Session, table: Table, row_id: int, now: datetime) -> dict | None:
    """Take row ``row_id`` for sending when it is due (pending, or its lease expired); the row or None."""
    claimed = session.execute(update(table).where(and_(table.c.id == row_id, _due(table, now))).values(
        status=SENDING, lease_until=now + lease(), attempts=table.c.attempts + 1)).rowcount
    if claimed != 1:
        return None
    return dict(session.execute(select(table).where(table.c.id == row_id)).mappings().one())


def _sweepable(table: Table, now: datetime):
    """Due (:func:`_due`), and not handed to a job lately: a new row's own job, or an earlier sweep's."""
    unhanded = or_(table.c.lease_until.is_(None), table.c.lease_until < now)
    settled = or_(table.c.attempts > 0, table.c.next_attempt_at.is_(None),
                  table.c.next_attempt_at <= now - HANDOUT_GRACE)
    return or_(and_(table.c.status == PENDING, unhanded, settled, _due(table, now)),
               and_(table.c.status == SENDING, _due(table, now)))


def due_ids(session: Session, table: Table, now: datetime, limit: int = 500) -> list[int]:
    """Ids of rows a sweep should hand to a job now (pending and due, or sending with an expired lease),
    marked as handed out for :data:`HANDOUT_GRACE` (the caller commits)."""
    ids = list(session.execute(select(table.c.id).where(_sweepable(table, now)).order_by(table.c.id)
                               .limit(max(1, int(limit))).with_for_update(skip_locked=True)).scalars())
    if ids:
        session.execute(update(table).where(and_(table.c.id.in_(ids), table.c.status == PENDING))
                        .values(lease_until=now + HANDOUT_GRACE))
    return ids


def _ours(table: Table, row: dict):
    """The row as we claimed it (a worker that lost its lease must not overwrite the next one's outcome)."""
    return and_(table.c.id == row["id"], table.c.status == SENDING, table.c.attempts == row["attempts"])


def mark_sent(session: Session, table: Table, row: dict, at_column: str, now: datetime, **values) -> None:
    """Record a successful send (even when the lease ran out meanwhile: the message did go out)."""
    session.execute(update(table).where(and_(table.c.id == row["id"], table.c.status != SENT)).values(
        status=SENT, lease_until=None, error=None, **{at_column: now}, **values))


def mark_failed_attempt(session: Session, table: Table, row: dict, error: str, now: datetime, *,
                        permanent: bool = False, retry_after: float | None = None, **values) -> str:
    """Record a failed try: back to pending with backoff, or ``failed`` (permanent, or attempts used up)."""
    final = permanent or row["attempts"] >= MAX_ATTEMPTS
    status = FAILED if final else PENDING
    session.execute(update(table).where(_ours(table, row)).values(
        status=status, lease_until=None, error=(error or "")[:MAX_ERROR],
        next_attempt_at=None if final else now + backoff(row["attempts"], retry_after), **values))
    return status


def release(session: Session, table: Table, row: dict, status: str, error: str | None) -> None:
    """Give a claimed row back without counting the attempt (e.g. no SMTP server configured any more)."""
    session.execute(update(table).where(_ours(table, row)).values(
        status=status, lease_until=None, attempts=table.c.attempts - 1, error=error))
