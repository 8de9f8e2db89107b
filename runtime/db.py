"""One database session per request. Views that write call ``commit()`` before answering,
so a failed commit is an error response, never a success the database does not hold;
anything not committed is rolled back when the request ends.

GET/HEAD/OPTIONS requests only read: their session uses deferred transactions, so on SQLite
page views never queue behind a writer. Identifying the caller (:func:`reading`) happens
outside a writing request's transaction.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from flask import Flask, current_app, g, request
from sqlalchemy.orm import Session
from werkzeug.routing import IntegerConverter

from engine.storage.db import read_only

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
MAX_ROW_ID = 2**63 - 1


def db() -> Session:
    """The request's session (opened on first use)."""
    if "db_session" not in g:
        engine = current_app.extensions["qms_db"]
        if request and request.method in SAFE_METHODS:
            engine = read_only(engine)
        g.db_session = Session(engine, expire_on_commit=False)
    return g.db_session


@contextmanager
def reading() -> Iterator[Session]:
    """A session for reads that come before a request's writes (who is signing in).

    Safe requests use their own read-only session. A writing request on SQLite reads in a
    separate short read-only transaction, so its write transaction (the database's write lock)
    is not held while the caller is being identified.
    """
    engine = current_app.extensions["qms_db"]
    if (request and request.method in SAFE_METHODS) or engine.dialect.name != "sqlite":
        yield db()      # PostgreSQL locks rows, not the database: no second round trip needed
        return
    with Session(read_only(engine), expire_on_commit=False) as session:
        try:
            yield session
        finally:
            session.rollback()


def commit() -> None:
    db().commit()


class RowIdConverter(IntegerConverter):
    """``<int:...>`` in URLs: at most a 64-bit database integer, so a larger id is 404, not a crash."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ROW_ID)
        super().__init__(url_map, *args, **kwargs)


def init_app(app: Flask) -> None:
    app.url_map.converters["int"] = RowIdConverter     # before any blueprint adds its routes

    @app.teardown_appcontext
    def _close(_exc) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.rollback()
            session.close()
