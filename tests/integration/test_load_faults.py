"""Load and faults on the real stack: PostgreSQL, Redis, gunicorn (4 workers), rq workers (``loadkit``).

* 16 clients × 500 writes while the web workers are SIGKILLed twice and the rq workers once: every
  acknowledged write is stored exactly once, writes whose outcome the client could not know at most
  once, serial numbers are gap-free, no update is lost (stale versions get 409), one audit entry per
  change, and every stored record's webhook is delivered once (a repeat only with the same
  ``X-QMS-Delivery`` id).
* PostgreSQL restarted during the load: clients see errors, never corrupted data, and the same
  gunicorn serves again by itself.
"""
from __future__ import annotations

import time
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.integration import loadkit as K
from tests.integration.conftest import services_required

pytestmark = pytest.mark.integration
DRAIN_TIMEOUT = 180


def _reachable() -> str | None:
    try:
        import psycopg
        from redis import Redis
        with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", connect_timeout=3):
            pass
        Redis.from_url(K.REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001
        return str(exc).splitlines()[0]
    return None


@pytest.fixture
def stack(tmp_path: Path):
    """A fresh database and Redis db, the site prepared, gunicorn and two rq workers running."""
    problem = _reachable()
    if problem is not None:
        if services_required():
            pytest.fail(f"PostgreSQL/Redis not reachable ({problem})", pytrace=False)
        pytest.skip(f"PostgreSQL/Redis not reachable ({problem})")
    receiver = K.Receiver()
    with K.fresh_database() as url, K.own_redis() as redis_url:
        site = K.prepare_site(url, tmp_path, receiver.url)
        running = K.Stack(url, redis_url, tmp_path)
        try:
            running.start()
            yield site, running, receiver
        finally:
            running.stop()
            receiver.close()


# ---------------------------------------------------------------------------- what is stored

def _stored(site: K.Site) -> tuple[list[dict], dict[int, list[dict]], dict]:
    """(rows of the form, audit entries per record id oldest first, outbox/delivery status counts)."""
    from engine.storage import audit
    from engine.storage.db import make_engine, session_scope
    from engine.storage.naming import record_table_name
    from engine.storage.notify_tables import deliveries
    from engine.storage.platform import audit_log
    from engine.storage.rule_tables import rule_outbox
    from sqlalchemy import MetaData, Table
    engine = make_engine(site.database_url)
    try:
        table = Table(record_table_name(site.tenant_id, K.FORM_KEY), MetaData(), autoload_with=engine)
        with session_scope(engine) as s:
            rows = [dict(r) for r in s.execute(select(table.c.id, table.c.marker, table.c.note, table.c.version,
                                                      table.c.serial_no)).mappings()]
            trail: dict[int, list[dict]] = defaultdict(list)
            for e in s.execute(select(audit_log.c.record_id, audit_log.c.action, audit_log.c.changes)
                               .where(audit_log.c.tenant_id == site.tenant_id, audit_log.c.form_key == K.FORM_KEY)
                               .order_by(audit_log.c.id)).mappings():
                trail[e["record_id"]].append(dict(e))
            status = {"outbox": dict(s.execute(select(rule_outbox.c.status, func.count()).group_by(rule_outbox.c.status)).all()),
                      "deliveries": dict(s.execute(select(deliveries.c.status, func.count())
                                                   .group_by(deliveries.c.status)).all())}
            status["delivery_errors"] = dict(Counter(e[:80] for e in s.execute(select(deliveries.c.error).where(
                deliveries.c.status != "sent", deliveries.c.error.is_not(None))).scalars()).most_common(3))
            status["chain_ok"] = _chain_ok(s, site.tenant_id, rows[:50], audit)
    finally:
        engine.dispose()
    return rows, trail, status


def _chain_ok(session, tenant_id: int, sample: list[dict], audit) -> bool:
    """The tenant's audit chain verifies (engine.services.audit_verify where present, else per record)."""
    try:
        from engine.services import audit_verify
    except ImportError:
        return all(not audit.verify_chain(session, tenant_id, K.FORM_KEY, r["id"]) for r in sample)
    return audit_verify.verify_tenant(session, tenant_id).ok


def _drain(site: K.Site, receiver: K.Receiver, running: K.Stack) -> tuple[list[dict], dict, dict]:
    """Wait until every rule run is done, every delivery sent and the receiver saw each record."""
    deadline = time.monotonic() + DRAIN_TIMEOUT
    while True:
        rows, trail, status = _stored(site)
        seen = {d["body"]["marker"] for d in list(receiver.seen)}
        finished = set(status["outbox"]) <= {"done"} and set(status["deliveries"]) <= {"sent"}
        if finished and seen >= {r["marker"] for r in rows}:
            return rows, trail, status
        if time.monotonic() > deadline:
            raise AssertionError(f"outbox not drained: {status}, {len(seen)} of {len(rows)} delivered\n"
                                 + running.tail(f"rq{running._serial}") + running.tail("gunicorn"))
        time.sleep(3)


def check_everything(site: K.Site, running: K.Stack, receiver: K.Receiver, ledger: K.Ledger,
                     shared: dict[int, int]) -> dict:
    """Every promise of the load, checked against what the database and the receiver hold; the figures."""
    assert not ledger.unexpected, ledger.unexpected[:5]
    rows, trail, status = _drain(site, receiver, running)
    by_marker = Counter(r["marker"] for r in rows)
    assert [m for m, n in by_marker.items() if n > 1] == []                               # no duplicates
    seeds = {f"shared-{k}" for k in range(len(shared))}
    assert set(by_marker) <= set(ledger.creates) | ledger.unknown_creates | seeds          # nothing invented
    ids = {r["marker"]: r["id"] for r in rows}
    lost = [m for m, rec in ledger.creates.items() if ids.get(m) != rec["id"]]
    assert lost == []                                                                      # nothing lost
    numbers = sorted(int(r["serial_no"].split("-")[1]) for r in rows)
    assert numbers == list(range(1, len(rows) + 1))                                        # gap-free, unique
    landed = _check_updates(rows, trail, ledger)
    for conflict in ledger.conflicts:                                                      # 409s were stale
        assert conflict["base"] < next(r["version"] for r in rows if r["id"] == conflict["id"])
    assert sum(len(t) for t in trail.values()) == len(rows) + landed and status["chain_ok"]
    assert status["outbox"] == {"done": len(rows)} and status["deliveries"] == {"sent": len(rows)}
    per_marker: dict[str, set] = defaultdict(set)
    for d in receiver.seen:
        per_marker[d["body"]["marker"]].add(d["delivery"])
    assert set(per_marker) == set(by_marker) and all(len(v) == 1 and None not in v for v in per_marker.values())
    repeats = len(receiver.seen) - len(per_marker)          # allowed: same X-QMS-Delivery (a crash mid-send)
    writes = len(ledger.creates) + len(ledger.updates)
    return {"acked_writes": writes, "acked_creates": len(ledger.creates), "acked_updates": len(ledger.updates),
            "unknown_creates": len(ledger.unknown_creates), "unknown_updates": len(ledger.unknown_updates),
            "unknown_landed": len(rows) - len(shared) - len(ledger.creates) + landed - len(ledger.updates),
            "conflicts_409": len(ledger.conflicts), "errors": dict(ledger.errors), "lost": 0, "duplicates": 0,
            "stored": len(rows), "deliveries": len(receiver.seen), "delivery_repeats_same_id": repeats}


def _check_updates(rows: list[dict], trail: dict[int, list[dict]], ledger: K.Ledger) -> int:
    """Acked updates are in the trail at the version they answered; unknown ones at most once; the
    stored row is the last landed update. Returns how many updates landed."""
    acked = {u["marker"]: u for u in ledger.updates}
    unknown = {u["marker"] for u in ledger.unknown_updates}
    landed_total, seen_markers = 0, Counter()
    for row in rows:
        entries = trail[row["id"]]
        assert entries[0]["action"] == "create" and all(e["action"] == "update" for e in entries[1:])
        markers = [e["changes"]["note"]["new"] for e in entries[1:]]
        assert row["version"] == 1 + len(markers)                        # one version per stored change
        assert row["note"] == (markers[-1] if markers else None)        # the last landed update is what's there
        for version, marker in enumerate(markers, start=2):
            seen_markers[marker] += 1
            assert marker in unknown or (marker in acked and acked[marker]["version"] == version
                                         and acked[marker]["id"] == row["id"]), (row["id"], version, marker)
        landed_total += len(markers)
    assert all(n == 1 for n in seen_markers.values())
    assert set(acked) <= set(seen_markers)                               # no acknowledged update lost
    return landed_total


def _summary(name: str, figures: dict, seconds: float, ledger: K.Ledger, faults: list) -> None:
    rate = figures["acked_writes"] / seconds
    print(f"\n[{name}] {figures} | {seconds:.1f} s, {rate:.1f} acked writes/s, p95 "
          f"{K.percentile(ledger.latencies, 0.95) * 1000:.0f} ms | faults {faults}")


# ---------------------------------------------------------------------------- the tests

def test_16_clients_x_500_writes_with_killed_web_and_rq_workers(stack):
    site, running, receiver = stack
    shared = K.seed_shared(running.base, site.token, 4)
    master = running.web.pid

    def kill_web():
        return ("web workers killed", running.kill_web_workers())

    def kill_rq():
        killed = running.kill_workers()
        running.start_worker()
        running.start_worker()
        return ("rq workers killed", killed)

    ledger, seconds, fired = K.run_load(running.base, site.token, clients=16, ops=500, shared=shared,
                                        faults=[(0.2, kill_web), (0.4, kill_rq), (0.6, kill_web)])
    assert [f[1][0] for f in fired] == ["web workers killed", "rq workers killed", "web workers killed"]
    assert all(f[1][1] >= 1 for f in fired)
    running.wait_web_ready()
    assert running.web.pid == master and running.web.poll() is None       # the master respawned its workers
    figures = check_everything(site, running, receiver, ledger, shared)
    assert figures["conflicts_409"] > 0 and figures["acked_writes"] > 0.9 * 16 * 500
    _summary("kills", figures, seconds, ledger, fired)


def test_postgres_restart_during_the_load_corrupts_nothing_and_the_app_recovers(stack):
    site, running, receiver = stack
    shared = K.seed_shared(running.base, site.token, 2)
    restarted: list[float] = []

    def restart():
        took = K.restart_postgres()
        restarted.append(time.monotonic())
        return ("postgres restarted", round(took, 1))

    ledger, seconds, fired = K.run_load(running.base, site.token, clients=16, ops=120, shared=shared,
                                        faults=[(0.3, restart)])
    assert restarted, "the load finished before the restart"
    assert any(t > restarted[0] + 1 for t in ledger.acked_at)               # writes succeed again, same gunicorn
    assert running.web.poll() is None
    res = K.requests.post(f"{running.base}/api/v1/forms/{K.FORM_KEY}/records", json={"data": {"marker": "after"}},
                          headers={"Authorization": f"Bearer {site.token}"}, timeout=30)
    assert res.status_code == 201, res.text
    ledger.creates["after"] = {"id": res.json()["id"], "version": 1, "serial": res.json()["meta"]["serial_no"]}
    figures = check_everything(site, running, receiver, ledger, shared)
    _summary("pg-restart", figures, seconds, ledger, fired)
