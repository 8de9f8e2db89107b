"""Benchmark: sustained writes/s and latency of 16 concurrent API clients on PostgreSQL, vs bare inserts.

Run ``python -m tests.benchmarks.bench_load`` (``--ops 20 --clients 4`` for a smoke run). In a
throwaway PostgreSQL database (``loadkit.fresh_database``; server ``QMS_TEST_DATABASE_URL``):

* baseline first: ``--clients`` threads doing bare SQLAlchemy Core inserts into a plain table as
  wide as the QMS record table, one row and one commit per insert;
* then the QMS site of ``tests/integration/loadkit.py`` — gunicorn ``-w 4 -k gthread``, two rq
  workers, a form with a serial number and a ``record_created`` webhook rule — under the same
  number of client threads, each sending ``--ops`` writes over the REST API (creates, and PATCHes
  of its own and of shared records with the version last seen; 409s are answered writes too).

Prints writes/s, p50 and p95 of both and the ratios QMS / baseline; ``--json`` writes them.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.integration import loadkit as K  # noqa: E402


def baseline(database_url: str, clients: int, ops: int) -> dict:
    """``clients`` threads × ``ops`` single-row inserts, each committed on its own."""
    from sqlalchemy import BigInteger, Column, DateTime, Integer, MetaData, Numeric, String, Table, insert

    from engine.storage.db import make_engine
    meta = MetaData()
    plain = Table("bench_plain", meta, Column("id", BigInteger, primary_key=True, autoincrement=True),
                  *[Column(n, BigInteger) for n in ("tenant_id", "created_by", "updated_by")],
                  *[Column(n, String(64)) for n in ("serial_no", "status", "flow_state", "marker", "note", "result")],
                  Column("title", String(500)), Column("created_at", DateTime(timezone=True)),
                  Column("updated_at", DateTime(timezone=True)), Column("version", Integer),
                  Column("def_version", Integer), Column("qty", Numeric(20, 0)))
    engine = make_engine(database_url, pool_size=clients, max_overflow=0)
    meta.create_all(engine)
    latencies: list[float] = []
    lock = threading.Lock()

    def work(n: int) -> None:
        mine = []
        for i in range(ops):
            now = datetime.now(timezone.utc)
            row = {"tenant_id": 1, "created_by": 1, "updated_by": 1, "serial_no": f"LD-{n:03d}{i:05d}", "status": "open",
                   "marker": f"c{n}-{i}", "created_at": now, "updated_at": now, "version": 1, "def_version": 1,
                   "qty": i, "result": "OK"}
            started = time.monotonic()
            with engine.begin() as conn:
                conn.execute(insert(plain).values(**row))
            mine.append(time.monotonic() - started)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(clients)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.monotonic() - started
    engine.dispose()
    return _figures(len(latencies), seconds, latencies)


def _figures(writes: int, seconds: float, latencies: list[float]) -> dict:
    return {"writes": writes, "seconds": round(seconds, 2), "writes_per_s": round(writes / seconds, 1),
            "p50_ms": round(K.percentile(latencies, 0.50) * 1000, 1),
            "p95_ms": round(K.percentile(latencies, 0.95) * 1000, 1)}


def qms(database_url: str, redis_url: str, workdir: Path, clients: int, ops: int) -> dict:
    """The same number of clients against the real site; every answered write request counts."""
    receiver = K.Receiver()
    site = K.prepare_site(database_url, workdir, receiver.url)
    stack = K.Stack(database_url, redis_url, workdir)
    try:
        stack.start()
        shared = K.seed_shared(stack.base, site.token, 4)
        ledger, seconds, _ = K.run_load(stack.base, site.token, clients=clients, ops=ops, shared=shared)
    finally:
        stack.stop()
        receiver.close()
    if ledger.unexpected or ledger.errors:
        raise RuntimeError(f"the load had errors: {ledger.errors} {ledger.unexpected[:3]}")
    out = _figures(len(ledger.latencies), seconds, ledger.latencies)
    out.update(acked=len(ledger.creates) + len(ledger.updates), conflicts_409=len(ledger.conflicts))
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--ops", type=int, default=500, help="writes per client")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp, K.fresh_database() as url, K.own_redis() as redis_url:
        base = baseline(url, args.clients, args.ops)
        site = qms(url, redis_url, Path(tmp), args.clients, args.ops)
    ratios = {"writes_per_s": round(site["writes_per_s"] / base["writes_per_s"], 3),
              "p95": round(site["p95_ms"] / base["p95_ms"], 1)}
    print(f"{args.clients} clients × {args.ops} writes on PostgreSQL")
    print(f"{'':10}{'writes/s':>10}{'p50 ms':>10}{'p95 ms':>10}")
    for name, f in (("baseline", base), ("qms", site)):
        print(f"{name:10}{f['writes_per_s']:>10}{f['p50_ms']:>10}{f['p95_ms']:>10}")
    print(f"ratio qms/baseline: writes/s {ratios['writes_per_s']}, p95 {ratios['p95']}× "
          f"({site['conflicts_409']} of the QMS writes were 409s)")
    figures = {"clients": args.clients, "ops": args.ops, "baseline": base, "qms": site, "ratio": ratios}
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return figures


if __name__ == "__main__":
    main()
