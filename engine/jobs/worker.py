"""``qms worker``: where background jobs run.

With ``REDIS_URL``: an rq worker on queue ``qms`` (``SimpleWorker``: jobs run in the worker
process, no fork per job, so the database pool is reused), plus a daemon thread that every
:data:`SWEEP_EVERY` seconds sweeps the outbox tables into the queue and, through rq's cron
scheduler, enqueues the deadline and schedule jobs. Only one worker at a time holds the cron
lease (a Redis key with a TTL), so several workers do not enqueue the same periodic job; the
sweep is safe on every worker because rows are claimed in the database. When Redis is
unreachable the thread keeps trying; the rows wait in the database.

Without Redis: :func:`run_in_process` does the same rounds in this process (the single-machine
setup; ``python app.py`` runs it in a thread).
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid

from engine.jobs import queue, tasks

log = logging.getLogger(__name__)
SWEEP_EVERY = 2.0          # seconds between outbox sweeps
PERIODIC_EVERY = 30        # seconds between deadline / schedule rounds
CRON_LEASE_KEY = "qms:cron-leader"
RECONNECT_WAIT = 2.0       # seconds before a worker that lost Redis starts again


def _cron_scheduler(connection, database_url: str):
    from rq.cron import CronScheduler
    scheduler = CronScheduler(connection=connection, name=f"qms-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:4]}")
    for func in (tasks.run_timers, tasks.run_schedules):
        scheduler.register(func, queue_name=queue.QUEUE_NAME, args=(database_url,), interval=PERIODIC_EVERY,
                           job_timeout=queue.JOB_TIMEOUT, result_ttl=60)
    return scheduler


def _background(connection, database_url: str, stop: threading.Event) -> None:
    scheduler = None
    me = uuid.uuid4().hex
    while not stop.is_set():
        try:
            tasks.dispatch(database_url)
            if connection.set(CRON_LEASE_KEY, me, nx=True, ex=PERIODIC_EVERY * 2) or connection.get(CRON_LEASE_KEY) == me.encode():
                connection.expire(CRON_LEASE_KEY, int(PERIODIC_EVERY * 2))
                scheduler = scheduler or _cron_scheduler(connection, database_url)
                scheduler.enqueue_jobs()
        except Exception:  # noqa: BLE001 - Redis or the database away: try again next round
            log.warning("worker background round failed", exc_info=True)
        stop.wait(SWEEP_EVERY)


def run_rq_worker(database_url: str, redis_url: str, *, burst: bool = False, name: str | None = None) -> None:
    """Serve queue ``qms`` until stopped (or, with ``burst``, until it is empty)."""
    from redis import Redis
    from redis.exceptions import RedisError
    from rq.worker import SimpleWorker
    queue.configure(redis_url)
    connection = Redis.from_url(redis_url)
    stop = threading.Event()
    thread = threading.Thread(target=_background, args=(connection, database_url, stop), name="qms-sweep", daemon=True)
    thread.start()
    try:
        while True:
            try:
                worker = SimpleWorker([queue.QUEUE_NAME], connection=connection, name=name)
                worker.work(burst=burst, with_scheduler=False)
                return
            except RedisError:          # Redis went away outside rq's own retry loop: wait, start again
                log.warning("worker lost Redis; retrying in %s s", RECONNECT_WAIT, exc_info=True)
                time.sleep(RECONNECT_WAIT)
    finally:
        stop.set()


def run_in_process(database_url: str, every: float = SWEEP_EVERY, rounds: int | None = None,
                   periodic_every: float = PERIODIC_EVERY) -> None:
    """The same rounds without Redis: sweep the outbox every ``every`` seconds (jobs run on this
    process's pool) and the deadline/schedule jobs every ``periodic_every`` seconds."""
    queue.configure(None)
    last_periodic = 0.0
    done = 0
    while rounds is None or done < rounds:
        periodic = time.monotonic() - last_periodic >= periodic_every
        if periodic:
            last_periodic = time.monotonic()
            tasks.tick(database_url)
        else:
            try:
                tasks.dispatch(database_url)
            except Exception:  # noqa: BLE001 - logged; the next round tries again
                log.exception("outbox sweep failed")
        done += 1
        if rounds is None or done < rounds:
            time.sleep(every)


def start_in_process_thread(database_url: str, every: float = SWEEP_EVERY) -> threading.Thread:
    """:func:`run_in_process` on a daemon thread (``python app.py`` without Redis)."""
    thread = threading.Thread(target=run_in_process, args=(database_url, every), name="qms-jobs", daemon=True)
    thread.start()
    return thread
