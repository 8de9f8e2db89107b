"""Builders for the notification / mail / delivery tests: users, captured jobs, the job secret key."""
from __future__ import annotations

import itertools

import pytest
from sqlalchemy import update

from engine.jobs import queue
from engine.services import accounts
from engine.storage.db import session_scope
from engine.storage.platform import users
from engine.types import Actor

SECRET_KEY = "test-secret-key-for-notify"
_n = itertools.count(1)


def add_user(engine, tenant_id: int, *, admin: bool = False, active: bool = True) -> Actor:
    with session_scope(engine) as s:
        user_id = accounts.create_user(s, tenant_id, f"u{next(_n)}@plant.example", "User", is_admin=admin, lang="en")
        if not active:
            s.execute(update(users).where(users.c.id == user_id).values(is_active=False))
    return Actor(tenant_id=tenant_id, user_id=user_id, lang="en", is_admin=admin)


@pytest.fixture
def jobs(monkeypatch) -> list[tuple[str, tuple]]:
    """Jobs handed over after commit, captured instead of run (tests call the job functions themselves)."""
    captured: list[tuple[str, tuple]] = []
    monkeypatch.setattr(queue, "enqueue_many", lambda calls: captured.extend(calls) or True)
    return captured


@pytest.fixture
def job_env(monkeypatch, tmp_path):
    """The environment job processes read SECRET_KEY from; no SMTP_* default unless a test sets one."""
    monkeypatch.setenv("SECRET_KEY", SECRET_KEY)
    monkeypatch.setenv("QMS_DATA_DIR", str(tmp_path / "data"))
    for name in ("SMTP_HOST", "SMTP_PORT", "SMTP_USER", "SMTP_PASSWORD", "SMTP_FROM", "SMTP_SECURITY"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch
