"""Benchmark: wall time of the demo generator at a size (default: ``default``) on a fresh SQLite file.

Run ``python tests/benchmarks/bench_demo.py [--size small|default|large|N] [--db URL]``; prints the
install time of the apps, the generator's time per step, the total and the counts per form.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from engine.services import accounts  # noqa: E402
from engine.storage.db import make_engine, session_scope, upgrade_database  # noqa: E402
from engine.types import Actor  # noqa: E402
from templates_qms.catalog import install_all  # noqa: E402
from templates_qms.demo import generate  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", default="default")
    parser.add_argument("--db", default=None, help="database URL (default: a new SQLite file)")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="qms-demo-"))
    url = args.db or f"sqlite:///{workdir}/qms.db"
    engine = make_engine(url)
    upgrade_database(engine)
    with session_scope(engine) as s:
        tenant_id = accounts.create_tenant(s, f"demo{int(time.time())}", "Demo plant")
    started = time.perf_counter()
    with session_scope(engine) as s:
        install_all(s, Actor.system(tenant_id))
    print(f"install apps: {time.perf_counter() - started:.1f} s")
    size = int(args.size) if args.size.isdigit() else args.size
    summary = generate(engine, tenant_id, size, now=datetime.now(timezone.utc),
                       progress=lambda stage, done, total: None, uploads_dir=workdir / "uploads")
    print(f"generate ({args.size}): {summary['seconds']:.1f} s")
    print(json.dumps({"steps": summary["steps"], "counts": summary["counts"], "paths": summary["paths"]},
                     ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
