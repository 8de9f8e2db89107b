"""The periodic job functions (same code on rq workers and in-process).

* :func:`dispatch` — the outbox sweep: rule runs, mails and webhook deliveries that are due (new
  ones whose enqueue failed, retries whose backoff ran out, jobs lost with Redis, runs of a
  killed worker whose lease expired) are enqueued again. The database is the source of truth;
  the queue only carries ids.
* :func:`run_timers` — approval deadlines (reminders, escalation, auto-approve/return).
* :func:`run_schedules` — cron rules whose time has come.

Each takes the database URL and opens its own sessions.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone

from sqlalchemy import and_, select, update

from engine.jobs import queue
from engine.storage.db import session_scope
from engine.storage.flow_tables import flow_events

log = logging.getLogger(__name__)
SWEEP_LIMIT = 500


def _now() -> datetime:
    return datetime.now(timezone.utc)


def due_calls(database_url: str, now: datetime | None = None) -> list[tuple[str, tuple]]:
    """Job calls for everything in the outbox tables that should run now (and marks it queued)."""
    from engine.services import rule_runs
    now = now or _now()
    engine = queue.engine_for(database_url)
    calls: list[tuple[str, tuple]] = []
    with session_scope(engine) as session:
        calls += rule_runs.due_jobs(session, now, SWEEP_LIMIT)
        from engine.services import flow_notices
        if session.execute(select(flow_events.c.id).where(flow_events.c.notice == 1).limit(1)).first() is not None:
            calls.append((flow_notices.SWEEP_JOB, (database_url,)))
    from engine.services import deliveries, mail
    for module in (mail, deliveries):
        with session_scope(engine) as session:
            calls += module.due_jobs(session, now, SWEEP_LIMIT)
    return calls


def dispatch(database_url: str) -> int:
    """Enqueue every due job on the configured backend; returns how many were handed over. When the
    backend refuses them (Redis down), the rule runs go back to pending, to be tried next round."""
    if not queue.available():
        return 0
    calls = due_calls(database_url)
    if calls and not queue.enqueue_many(calls):
        from engine.services import rule_runs
        with session_scope(queue.engine_for(database_url)) as session:
            rule_runs.unqueue(session, [args[1] for target, args in calls if target == rule_runs.RUN_JOB])
        return 0
    return len(calls)


def run_timers(database_url: str) -> int:
    """Flow deadlines that are due (see :mod:`engine.services.flow_timers`)."""
    from engine.services import flow_timers
    return flow_timers.run_due(queue.engine_for(database_url))


def run_schedules(database_url: str, now: datetime | None = None) -> int:
    """Fire each schedule rule whose time has come, once per due time however many workers look:
    the rule row is locked and moved to its next cron time in the transaction that writes the run.
    Missed times (the service was down) fire once, not once per missed time."""
    from engine.rules.schedule import next_run
    from engine.services import rule_defs, rule_events
    from engine.storage.rule_tables import rule_definitions as rd
    now = now or _now()
    engine = queue.engine_for(database_url)
    with session_scope(engine) as session:
        due = session.execute(select(rd.c.id).where(and_(rd.c.next_run_at <= now, rd.c.enabled,
                                                         rd.c.trigger_type == "schedule"))
                              .order_by(rd.c.next_run_at).limit(SWEEP_LIMIT)).scalars().all()
    fired = 0
    for rule_id in due:
        try:
            with session_scope(engine) as session:
                row = session.execute(select(rd).where(and_(rd.c.id == rule_id, rd.c.next_run_at <= now, rd.c.enabled))
                                      .with_for_update(skip_locked=True)).mappings().first()
                if row is None:
                    continue
                rule = rule_defs.load_rule_version(session, row["tenant_id"], row["key"], row["current_version"])
                zone = rule_defs.schedule_zone(session, row["tenant_id"], rule)
                session.execute(update(rd).where(rd.c.id == rule_id).values(
                    next_run_at=next_run(rule.trigger.option("cron"), now, zone)))
                rule_events.schedule_event(session, row["tenant_id"], rule, now)
                fired += 1
        except Exception:  # noqa: BLE001 - one broken rule must not stop the others
            log.exception("schedule rule %s failed", rule_id)
    return fired


def tick(database_url: str, timers: bool = True) -> dict:
    """One round of the periodic work (the in-process loop and ``qms worker`` without Redis)."""
    out = {"dispatched": 0, "timers": 0, "schedules": 0}
    for name, work in (("schedules", run_schedules), ("timers", run_timers), ("dispatched", dispatch)):
        if name == "timers" and not timers:
            continue
        try:
            out[name] = work(database_url)
        except Exception:  # noqa: BLE001 - logged; the next round tries again
            log.exception("periodic job %s failed", name)
    return out
