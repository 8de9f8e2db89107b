"""Account use cases: tenants, users, departments and heads, roles, sign-in limits, API tokens."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from engine.auth.passwords import verify_password
from engine.errors import Conflict, DefinitionError, NotFound, PermissionDenied, TooManyAttempts
from engine.services import accounts
from engine.services.accounts import AccountError
from engine.storage.db import session_scope
from engine.storage.platform import api_tokens, users

T0 = datetime(2026, 4, 17, 8, 0, tzinfo=timezone.utc)
PW = "correct horse"


def run(engine, fn, *args, **kw):
    with session_scope(engine) as s:
        return fn(s, *args, **kw)


@pytest.fixture
def tenant(db_engine, make_tenant):
    return make_tenant()


def test_tenant_keys_are_unique_and_checked(db_engine):
    tid = run(db_engine, accounts.create_tenant, "acme_x1", "Acme")
    with pytest.raises(Conflict) as err:
        run(db_engine, accounts.create_tenant, "acme_x1", "Acme again")
    assert "acme_x1" in err.value.message.zh
    with pytest.raises(AccountError):
        run(db_engine, accounts.create_tenant, "Bad Key", "x")
    assert isinstance(tid, int)


def test_users_emails_are_lower_case_and_unique_per_tenant(db_engine, tenant, make_tenant):
    uid = run(db_engine, accounts.create_user, tenant, "  QA@Example.COM ", "QA", PW)
    with pytest.raises(Conflict):
        run(db_engine, accounts.create_user, tenant, "qa@example.com", "QA 2", PW)
    run(db_engine, accounts.create_user, make_tenant(), "qa@example.com", "QA elsewhere", PW)   # another company
    with pytest.raises(AccountError):
        run(db_engine, accounts.create_user, tenant, "not-an-email", "x", PW)
    with pytest.raises(AccountError):
        run(db_engine, accounts.create_user, tenant, "short@example.com", "x", "123")
    with session_scope(db_engine) as s:
        row = s.execute(select(users).where(users.c.id == uid)).mappings().one()
    assert row["email"] == "qa@example.com" and verify_password(row["password_hash"], PW)
    assert row["password_hash"] != PW


def test_actor_for_user_has_roles_department_attributes(db_engine, tenant):
    with session_scope(db_engine) as s:
        accounts.create_role(s, tenant, "inspector", {"zh-CN": "检验员", "en": "Inspector"})
        accounts.create_role(s, tenant, "mrb", {"zh-CN": "评审", "en": "MRB"})
        dept = accounts.create_department(s, tenant, "iqc", {"zh-CN": "来料检验", "en": "IQC"})
        uid = accounts.create_user(s, tenant, "s@acme.com", "Sup", PW, roles=["mrb", "inspector"], department="iqc",
                                   attributes={"supplier": 12, "plants": [1, 2]}, is_external=True)
        actor = accounts.actor_for_user(s, uid)
        with pytest.raises(NotFound):
            accounts.set_roles(s, tenant, uid, ["nope"])
    assert (actor.tenant_id, actor.user_id, actor.department_id, actor.is_admin) == (tenant, uid, dept, False)
    assert actor.roles == ("inspector", "mrb") and actor.attribute("supplier") == 12
    assert actor.attribute("plants") == (1, 2) and hash(actor)
    run(db_engine, accounts.set_roles, tenant, uid, ["mrb"])
    assert run(db_engine, accounts.actor_for_user, uid).roles == ("mrb",)
    with pytest.raises(NotFound):
        run(db_engine, accounts.actor_for_user, 10 ** 9)


def test_department_head_walks_up_the_tree(db_engine, tenant):
    with session_scope(db_engine) as s:
        boss = accounts.create_user(s, tenant, "boss@acme.com", "Boss", PW)
        lead = accounts.create_user(s, tenant, "lead@acme.com", "Lead", PW)
        accounts.create_department(s, tenant, "quality", {"zh-CN": "质量部", "en": "Quality"}, head_user_id=boss)
        accounts.create_department(s, tenant, "iqc", {"zh-CN": "来料检验", "en": "IQC"}, parent="quality")
        accounts.create_department(s, tenant, "lab", {"zh-CN": "实验室", "en": "Lab"}, parent="iqc")
        worker = accounts.create_user(s, tenant, "w@acme.com", "Worker", PW, department="lab")
        assert accounts.department_head_of(s, tenant, worker) == boss         # lab and iqc have no head
        accounts.set_department_head(s, tenant, "iqc", lead)
        accounts.set_user_attributes(s, tenant, lead, {}, department="iqc")
        assert accounts.department_head_of(s, tenant, worker) == lead
        assert accounts.department_head_of(s, tenant, lead) == boss            # a head's head is above
        assert accounts.department_head_of(s, tenant, boss) is None
        with pytest.raises(AccountError):
            accounts.move_department(s, tenant, "quality", "lab")              # would be a cycle
        accounts.move_department(s, tenant, "lab", None)
        assert accounts.department_head_of(s, tenant, worker) is None
        with pytest.raises(NotFound):
            accounts.create_department(s, tenant, "x", {"zh-CN": "x", "en": "x"}, parent="missing")


def test_permissions_are_validated(db_engine, tenant):
    run(db_engine, accounts.create_role, tenant, "clerk", {"zh-CN": "文员", "en": "Clerk"})
    with pytest.raises(Conflict):
        run(db_engine, accounts.create_role, tenant, "clerk", {"zh-CN": "文员", "en": "Clerk"})
    with pytest.raises(DefinitionError) as err:
        run(db_engine, accounts.set_permissions, tenant, "clerk", "form:ncr", {"read": "everything"})
    assert err.value.problems[0].path == "$.read"
    with pytest.raises(DefinitionError):
        run(db_engine, accounts.set_permissions, tenant, "clerk", "ncr", {"read": "all"})
    run(db_engine, accounts.set_permissions, tenant, "clerk", "form:ncr", {"read": "all"})
    run(db_engine, accounts.set_permissions, tenant, "clerk", "form:ncr", {"read": "own"})   # replaces
    assert run(db_engine, accounts.get_permissions, tenant, "clerk") == {"form:ncr": {"read": "own"}}
    run(db_engine, accounts.set_permissions, tenant, "clerk", "form:ncr", None)
    assert run(db_engine, accounts.get_permissions, tenant, "clerk") == {}


@pytest.fixture
def qa(db_engine, tenant):
    uid = run(db_engine, accounts.create_user, tenant, "qa@acme.com", "QA", PW, is_admin=True)
    return tenant, uid


def test_authenticate(db_engine, qa, make_tenant):
    tenant, uid = qa
    actor = run(db_engine, accounts.authenticate, tenant, "QA@acme.com", PW, "10.0.0.1", now=T0)
    assert actor.user_id == uid and actor.is_admin
    assert run(db_engine, accounts.authenticate, tenant, "qa@acme.com", "wrong", "10.0.0.1", now=T0) is None
    assert run(db_engine, accounts.authenticate, make_tenant(), "qa@acme.com", PW, "10.0.0.1", now=T0) is None
    assert run(db_engine, accounts.authenticate, "no-such-tenant", "qa@acme.com", PW, now=T0) is None
    run(db_engine, accounts.reset_password, tenant, uid, "new password!")
    assert run(db_engine, accounts.authenticate, tenant, "qa@acme.com", PW, now=T0) is None
    assert run(db_engine, accounts.authenticate, tenant, "qa@acme.com", "new password!", now=T0).user_id == uid


def test_five_failures_lock_an_email_for_the_rest_of_the_window(db_engine, qa):
    tenant, _ = qa
    for i in range(5):
        assert run(db_engine, accounts.authenticate, tenant, "qa@acme.com", "bad", f"10.0.0.{i}",
                   now=T0 + timedelta(minutes=i)) is None
    with pytest.raises(TooManyAttempts) as err:       # even the right password waits
        run(db_engine, accounts.authenticate, tenant, "qa@acme.com", PW, "10.9.9.9", now=T0 + timedelta(minutes=5))
    assert isinstance(err.value, PermissionDenied) and err.value.retry_after == 10 * 60
    assert "10" in err.value.message.zh and "minute" in err.value.message.en
    # the first failure leaves the window at T0+15 min: four remain, so the email may try again
    assert run(db_engine, accounts.authenticate, tenant, "qa@acme.com", PW, now=T0 + timedelta(minutes=15, seconds=1))


def test_a_success_resets_the_email_count_but_not_the_ip_count(db_engine, qa):
    tenant, _ = qa
    for i in range(4):
        run(db_engine, accounts.authenticate, tenant, "qa@acme.com", "bad", "10.0.0.1", now=T0)
    assert run(db_engine, accounts.authenticate, tenant, "qa@acme.com", PW, "10.0.0.1", now=T0)
    for i in range(4):
        run(db_engine, accounts.authenticate, tenant, "qa@acme.com", "bad", "10.0.0.1", now=T0)
    assert run(db_engine, accounts.authenticate, tenant, "qa@acme.com", PW, "10.0.0.1", now=T0)


def test_twenty_failures_from_one_ip_lock_the_ip(db_engine, qa):
    tenant, _ = qa
    for i in range(20):
        run(db_engine, accounts.authenticate, tenant, f"guess{i}@acme.com", "bad", "6.6.6.6", now=T0)
    with pytest.raises(TooManyAttempts):
        run(db_engine, accounts.authenticate, tenant, "qa@acme.com", PW, "6.6.6.6", now=T0 + timedelta(minutes=1))
    assert run(db_engine, accounts.authenticate, tenant, "qa@acme.com", PW, "7.7.7.7", now=T0 + timedelta(minutes=1))


def test_api_tokens(db_engine, qa, make_tenant):
    tenant, uid = qa
    token = run(db_engine, accounts.create_api_token, tenant, uid, "ERP", now=T0)
    prefix = token.split("_")[1]
    assert token.startswith(f"qms_{prefix}_") and len(token) > 50
    with session_scope(db_engine) as s:
        row = s.execute(select(api_tokens).where(api_tokens.c.prefix == prefix)).mappings().one()
    assert token not in str(dict(row)) and len(row["token_hash"]) == 64
    actor = run(db_engine, accounts.verify_api_token, token, now=T0)
    assert (actor.tenant_id, actor.user_id, actor.is_admin) == (tenant, uid, True)
    for bad in (token + "x", token[:-1] + ("A" if token[-1] != "A" else "B"), "qms_x_y", "Bearer", "", None):
        assert run(db_engine, accounts.verify_api_token, bad, now=T0) is None
    with pytest.raises(NotFound):
        run(db_engine, accounts.create_api_token, make_tenant(), uid, "wrong tenant")
    listed = run(db_engine, accounts.list_api_tokens, tenant, uid)
    assert [t["name"] for t in listed] == ["ERP"] and "token_hash" not in listed[0]
    with pytest.raises(NotFound):
        run(db_engine, accounts.revoke_api_token, make_tenant(), listed[0]["id"])
    run(db_engine, accounts.revoke_api_token, tenant, listed[0]["id"], now=T0)
    assert run(db_engine, accounts.verify_api_token, token, now=T0) is None


def test_api_token_expiry_and_last_used_throttle(db_engine, qa):
    tenant, uid = qa
    token = run(db_engine, accounts.create_api_token, tenant, uid, "CI", expires_at=T0 + timedelta(days=1), now=T0)

    def last_used():
        return run(db_engine, accounts.list_api_tokens, tenant, uid)[0]["last_used_at"]

    assert run(db_engine, accounts.verify_api_token, token, now=T0)
    first = last_used()
    assert run(db_engine, accounts.verify_api_token, token, now=T0 + timedelta(seconds=30))
    assert last_used() == first                                     # at most one write a minute
    assert run(db_engine, accounts.verify_api_token, token, now=T0 + timedelta(minutes=2))
    assert last_used() != first
    assert run(db_engine, accounts.verify_api_token, token, now=T0 + timedelta(days=1)) is None
