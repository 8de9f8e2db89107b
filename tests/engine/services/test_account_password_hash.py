"""create_user with a precomputed password hash: stored as given, signs in, rehashed on first sign-in."""
import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from engine.services import accounts, logins
from engine.services.accounts import AccountError
from engine.storage.db import session_scope
from engine.storage.platform import users

PW = "demo-password-1"
LIGHT = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def _stored(engine, user_id):
    with session_scope(engine) as s:
        return s.execute(select(users.c.password_hash).where(users.c.id == user_id)).scalar_one()


def test_a_precomputed_hash_is_stored_as_given_and_signs_in(db_engine, make_tenant):
    tenant, hashed = make_tenant(), LIGHT.hash(PW)
    with session_scope(db_engine) as s:
        uid = accounts.create_user(s, tenant, "a@example.com", "A", password_hash=hashed)
        other = accounts.create_user(s, tenant, "b@example.com", "B", password_hash=hashed)
    assert _stored(db_engine, uid) == _stored(db_engine, other) == hashed
    with session_scope(db_engine) as s:
        actor = logins.authenticate(s, tenant, "a@example.com", PW)
    assert actor is not None and actor.user_id == uid
    assert _stored(db_engine, uid) != hashed               # light parameters: rehashed at the first sign-in


def test_password_and_hash_together_or_a_non_argon2_hash_are_refused(db_engine, make_tenant):
    tenant = make_tenant()
    with session_scope(db_engine) as s:
        with pytest.raises(AccountError):
            accounts.create_user(s, tenant, "c@example.com", "C", PW, password_hash=LIGHT.hash(PW))
        with pytest.raises(AccountError) as err:
            accounts.create_user(s, tenant, "d@example.com", "D", password_hash="plain-text-password")
    assert "Argon2" in err.value.message.en
