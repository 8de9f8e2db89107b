"""Bearer tokens are checked with the request's own session; last_used_at is written at most
once a minute (GET: in a short transaction of its own; writes: with the request's work)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import event, select, update

from engine.storage.db import session_scope
from engine.storage.platform import api_tokens, users
from tests.runtime.api.support import bearer

URL = "/api/v1/forms/inspection/records"
GOOD = {"lot_no": "L-1", "qty": 8, "defects": 2, "inspected_on": "2024-05-01", "items": [{"value": 3}]}


def _last_used(tenant):
    with session_scope(tenant.engine) as s:
        return s.execute(select(api_tokens.c.last_used_at).where(
            api_tokens.c.prefix == tenant.admin_token.split("_")[1])).scalar()


def _set_last_used(tenant, ago: timedelta):
    with session_scope(tenant.engine) as s:
        s.execute(update(api_tokens).where(api_tokens.c.prefix == tenant.admin_token.split("_")[1])
                  .values(last_used_at=datetime.now(timezone.utc) - ago))


def _writes(engine, fn):
    seen = []

    def listen(_conn, _cur, statement, *_rest):
        if statement.lstrip().upper().startswith("UPDATE API_TOKENS"):
            seen.append(statement)
    event.listen(engine, "before_cursor_execute", listen)
    try:
        return fn(), seen
    finally:
        event.remove(engine, "before_cursor_execute", listen)


def test_a_get_marks_the_token_used_then_not_again_within_a_minute(client, tenant_a):
    assert _last_used(tenant_a) is None
    res, writes = _writes(tenant_a.engine, lambda: client.get(URL, headers=bearer(tenant_a.admin_token)))
    assert res.status_code == 200 and len(writes) == 1 and _last_used(tenant_a) is not None
    _set_last_used(tenant_a, timedelta(seconds=30))
    before = _last_used(tenant_a)
    res, writes = _writes(tenant_a.engine, lambda: client.get(URL, headers=bearer(tenant_a.admin_token)))
    assert res.status_code == 200 and writes == [] and _last_used(tenant_a) == before


def test_a_write_marks_the_token_used_with_the_request(client, tenant_a):
    _set_last_used(tenant_a, timedelta(minutes=5))
    before = _last_used(tenant_a)
    res = client.post(URL, json={"data": GOOD}, headers=bearer(tenant_a.admin_token))
    assert res.status_code == 201 and _last_used(tenant_a) > before


def test_inactive_users_and_revoked_tokens_are_refused(client, tenant_a):
    email, token = tenant_a.user()
    assert client.get(URL, headers=bearer(token)).status_code in (200, 404)      # signed in (no role)
    with session_scope(tenant_a.engine) as s:
        s.execute(update(users).where(users.c.email == email).values(is_active=False))
    assert client.get(URL, headers=bearer(token)).status_code == 401
    assert client.post(URL, json={"data": GOOD}, headers=bearer(token)).status_code == 401
    assert client.get(URL, headers=bearer(tenant_a.admin_token)).status_code == 200
    with session_scope(tenant_a.engine) as s:
        s.execute(update(api_tokens).where(api_tokens.c.prefix == tenant_a.admin_token.split("_")[1])
                  .values(revoked_at=datetime.now(timezone.utc)))
    assert client.get(URL, headers=bearer(tenant_a.admin_token)).status_code == 401
