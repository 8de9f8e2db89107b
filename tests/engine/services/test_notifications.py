"""In-app notifications: one row per active user of the tenant, each user sees and marks only
their own, unread first."""
from __future__ import annotations

import pytest

from engine.notify.errors import NotifyInputError
from engine.services import notifications as N
from engine.storage.db import session_scope
from tests.engine.services.notify_support import add_user


@pytest.fixture
def people(db_engine, make_tenant):
    a, b = make_tenant(), make_tenant()
    return {"a1": add_user(db_engine, a), "a2": add_user(db_engine, a), "off": add_user(db_engine, a, active=False),
            "b1": add_user(db_engine, b), "tenant_a": a}


def notify(engine, tenant_id, ids, subject="Lot rejected", **kw):
    with session_scope(engine) as s:
        return N.notify_users(s, tenant_id, ids, subject, kw.pop("body", "Lot L-7"), **kw)


def listing(engine, actor, **kw):
    with session_scope(engine) as s:
        return N.list_notifications(s, actor, **kw)


def test_one_row_per_active_user_of_the_tenant(db_engine, people):
    ids = notify(db_engine, people["tenant_a"], [people["a1"].user_id, people["a2"].user_id, people["a1"].user_id,
                                                 people["off"].user_id, people["b1"].user_id, 999999, "x", True],
                 link="/f/ncr/1", source="rule:ncr_alert")
    assert len(ids) == 2
    found = listing(db_engine, people["a1"])
    assert found["total"] == 1 and found["unread"] == 1
    item = found["items"][0]
    assert (item["subject"], item["link"], item["source"], item["read"]) == ("Lot rejected", "/f/ncr/1", "rule:ncr_alert", False)
    assert listing(db_engine, people["b1"])["total"] == 0          # tenant B got nothing
    assert notify(db_engine, people["tenant_a"], []) == []


def test_bad_input_is_refused_before_anything_is_written(db_engine, people):
    for kw in ({"subject": ""}, {"link": "javascript:alert(1)"}, {"body": None}):
        with pytest.raises(NotifyInputError):
            notify(db_engine, people["tenant_a"], [people["a1"].user_id], **kw)
    assert listing(db_engine, people["a1"])["total"] == 0


def test_unread_first_then_newest_and_paging(db_engine, people):
    a1 = people["a1"]
    ids = [notify(db_engine, people["tenant_a"], [a1.user_id], f"n{i}")[0] for i in range(5)]
    with session_scope(db_engine) as s:
        assert N.mark_read(s, a1, [ids[4]]) == 1
    order = [i["subject"] for i in listing(db_engine, a1)["items"]]
    assert order == ["n3", "n2", "n1", "n0", "n4"]
    page = listing(db_engine, a1, page=2, per_page=2)
    assert [i["subject"] for i in page["items"]] == ["n1", "n0"] and page["total"] == 5
    unread = listing(db_engine, a1, unread_only=True)
    assert unread["total"] == 4 and all(not i["read"] for i in unread["items"])


def test_marking_read_touches_only_the_actors_own(db_engine, people):
    a1, a2 = people["a1"], people["a2"]
    mine = notify(db_engine, people["tenant_a"], [a1.user_id])[0]
    theirs = notify(db_engine, people["tenant_a"], [a2.user_id])[0]
    with session_scope(db_engine) as s:
        assert N.mark_read(s, a1, [theirs]) == 0
        assert N.mark_read(s, a1, [mine, mine]) == 1
        assert N.mark_read(s, a1, [mine]) == 0                   # already read
        assert N.unread_count(s, a2) == 1
    notify(db_engine, people["tenant_a"], [a2.user_id])
    with session_scope(db_engine) as s:
        assert N.mark_read(s, a2, None) == 2 and N.unread_count(s, a2) == 0
        assert N.mark_read(s, a2, []) == 0


def test_the_system_actor_has_no_inbox(db_engine, people):
    from engine.types import Actor
    system = Actor.system(people["tenant_a"])
    notify(db_engine, people["tenant_a"], [people["a1"].user_id])
    with session_scope(db_engine) as s:
        assert N.unread_count(s, system) == 0 and N.list_notifications(s, system)["items"] == []
        assert N.mark_read(s, system, None) == 0


def test_user_emails_of_active_users_of_the_tenant(db_engine, people):
    with session_scope(db_engine) as s:
        emails = N.user_emails(s, people["tenant_a"], [people["a2"].user_id, people["a1"].user_id,
                                                       people["off"].user_id, people["b1"].user_id, "x"])
        assert N.user_emails(s, people["tenant_a"], []) == []
    assert len(emails) == 2 and all(e.endswith("@plant.example") for e in emails)
