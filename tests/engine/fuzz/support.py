"""Shared pieces of the fuzz tests: a fingerprint of everything a database stores."""
from __future__ import annotations

import hashlib

from sqlalchemy import inspect, text


def db_snapshot(engine) -> dict[str, tuple[int, str]]:
    """Every table → (row count, hash of its rows in a stable order): equal snapshots, equal contents."""
    out = {}
    with engine.connect() as conn:
        quote = conn.dialect.identifier_preparer.quote
        for name in sorted(inspect(conn).get_table_names()):     # names from the catalogue, quoted
            rows = sorted(repr(tuple(r)) for r in conn.execute(text(f"SELECT * FROM {quote(name)}")))
            out[name] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
    return out
