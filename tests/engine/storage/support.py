"""Fixtures and builders shared by the storage/services tests and their PostgreSQL re-run.

``db_engine`` is a migrated SQLite file per test here; ``tests/integration/conftest.py``
overrides it with PostgreSQL. Tests never assume an empty database: each one makes its own
tenants (ids differ per database), so they run unchanged against a shared PostgreSQL schema.
"""
from __future__ import annotations

import itertools
import uuid
from datetime import datetime, timezone
from types import MappingProxyType

import pytest
from sqlalchemy import insert

from engine.definitions.model import FieldDef, FormDef
from engine.i18n import Msg
from engine.storage.db import make_engine, session_scope, upgrade_database
from engine.storage.platform import tenants
from engine.types import Actor

_users = itertools.count(100)


@pytest.fixture
def db_engine(tmp_path):
    """A migrated SQLite database file (WAL, foreign keys) for one test."""
    engine = make_engine(f"sqlite:///{tmp_path / 'qms.db'}")
    upgrade_database(engine)
    yield engine
    engine.dispose()


def create_tenant(engine, key: str | None = None) -> int:
    with session_scope(engine) as s:
        return s.execute(insert(tenants).values(
            key=key or f"t{uuid.uuid4().hex[:12]}", name="Test company",
            created_at=datetime.now(timezone.utc))).inserted_primary_key[0]


@pytest.fixture
def make_tenant(db_engine):
    """make_tenant() → a new tenant id in db_engine."""
    return lambda key=None: create_tenant(db_engine, key)


@pytest.fixture
def actor(make_tenant):
    """An admin of a fresh tenant (tests of other things than permissions need no roles)."""
    return Actor(tenant_id=make_tenant(), user_id=next(_users), lang="en", name="Tester", is_admin=True)


@pytest.fixture
def member(actor):
    """A plain user (no role, not an admin) of the same tenant as ``actor``."""
    return Actor(tenant_id=actor.tenant_id, user_id=next(_users), lang="en", name="Member")


_PROPS = ("required", "default", "min", "max", "min_length", "max_length", "pattern")


def field(key: str, type_: str = "text", *, indexed: bool = False, fields=(), **options) -> FieldDef:
    """A FieldDef built directly (storage tests need no definition loader); extra kwargs are options."""
    props = {k: options.pop(k) for k in _PROPS if k in options}
    return FieldDef(key=key, type=type_, label=Msg(key, key), indexed=indexed,
                    options=MappingProxyType(options), fields=tuple(fields), **props)


def form(key: str, *fields: FieldDef, version: int = 1, numbering: str | None = None) -> FormDef:
    return FormDef(key=key, label=Msg(key, key), fields=tuple(fields), version=version, numbering=numbering)
