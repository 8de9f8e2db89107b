"""The notification centre page, its badge snippet and the API: each user sees only their own
notifications (never another company's), unread first; mark read / all read need CSRF."""
from __future__ import annotations

from flask import render_template_string

from engine.services import notifications as notes
from engine.storage.db import session_scope
from tests.runtime.api.support import bearer
from tests.runtime.notify.conftest import post


def notify(site, company, who="member", subject="Lot L-7 rejected", **kw):
    actor = getattr(company, who)
    with session_scope(site.engine) as s:
        return notes.notify_users(s, company.tenant_id, [actor.user_id], subject, kw.pop("body", "Supplier Acme"), **kw)[0]


def test_centre_lists_own_notifications_unread_first(site):
    first = notify(site, site.a, subject="First <b>bold</b>", link="/tasks")
    notify(site, site.a, subject="Second")
    notify(site, site.a, who="admin", subject="For the boss only")
    notify(site, site.b, subject="Globex secret")
    client = site.client(site.a, "member")
    post(client, "/notifications/read", {"id": str(first)})
    html = client.get("/notifications").get_data(as_text=True)
    assert html.index("Second") < html.index("First")            # unread first
    assert "First &lt;b&gt;bold&lt;/b&gt;" in html and "<b>bold</b>" not in html
    assert "For the boss only" not in html and "Globex secret" not in html
    assert 'data-unread-count>1<' in html
    unread = client.get("/notifications?unread=1").get_data(as_text=True)
    assert "Second" in unread and "First" not in unread


def test_mark_all_and_open_link(site):
    linked = notify(site, site.a, link="/tasks")
    notify(site, site.a)
    client = site.client(site.a, "member")
    res = client.get(f"/notifications/{linked}/open")
    assert res.status_code == 302 and res.headers["Location"].endswith("/tasks")
    res = post(client, "/notifications/read", {"all": "1"})
    assert res.status_code == 302
    with session_scope(site.engine) as s:
        assert notes.unread_count(s, site.a.member) == 0


def test_someone_elses_notification_is_neither_opened_nor_marked(site):
    theirs = notify(site, site.a, who="admin", link="/tasks")
    foreign = notify(site, site.b, link="/tasks")
    client = site.client(site.a, "member")
    for notification_id in (theirs, foreign):
        res = client.get(f"/notifications/{notification_id}/open")
        assert res.headers["Location"].endswith("/notifications")
        post(client, "/notifications/read", {"id": str(notification_id)})
    with session_scope(site.engine) as s:
        assert notes.unread_count(s, site.a.admin) == 1 and notes.unread_count(s, site.b.member) == 1


def test_posts_need_the_csrf_token(site):
    notify(site, site.a)
    client = site.client(site.a, "member")
    assert client.post("/notifications/read", data={"all": "1"}).status_code == 400
    with session_scope(site.engine) as s:
        assert notes.unread_count(s, site.a.member) == 1


def test_signed_out_visitors_go_to_the_login_page(site):
    res = site.app.test_client().get("/notifications")
    assert res.status_code == 302 and "/login" in res.headers["Location"]


def test_badge_snippet_shows_the_unread_count(site):
    notify(site, site.a)
    notify(site, site.a)
    client = site.client(site.a, "member")
    with client:                                  # a request of the signed-in member
        client.get("/notifications")
        from runtime.auth import current_actor
        html = render_template_string('{% include "notify/_nav.html" %}', actor=current_actor())
    assert "data-notify-unread" in html and ">2</span>" in html and "/admin/mail" not in html


def test_api_lists_and_marks_only_the_callers_notifications(site):
    from engine.services import logins
    mine = notify(site, site.a)
    notify(site, site.a, subject="Later")
    notify(site, site.b)
    with session_scope(site.engine) as s:
        token = logins.create_api_token(s, site.a.tenant_id, site.a.member.user_id, "test")
    client = site.app.test_client()
    found = client.get("/api/v1/notifications", headers=bearer(token)).get_json()
    assert found["total"] == 2 and found["unread"] == 2 and {i["subject"] for i in found["items"]} == {"Lot L-7 rejected", "Later"}
    res = client.post("/api/v1/notifications/read", json={"ids": [mine, 999999]}, headers=bearer(token))
    assert res.get_json() == {"updated": 1, "unread": 1}
    assert client.get("/api/v1/notifications?unread=1", headers=bearer(token)).get_json()["total"] == 1
    assert client.post("/api/v1/notifications/read", json={"all": True}, headers=bearer(token)).get_json() == \
        {"updated": 1, "unread": 0}


def test_api_refuses_bad_bodies_and_strangers(site):
    from engine.services import logins
    with session_scope(site.engine) as s:
        token = logins.create_api_token(s, site.a.tenant_id, site.a.member.user_id, "test")
    client = site.app.test_client()
    for body in ({}, {"ids": "1"}, {"ids": [1, "x"]}, {"all": "yes"}, [1]):
        res = client.post("/api/v1/notifications/read", json=body, headers=bearer(token))
        assert res.status_code == 400 and res.get_json()["error"]["code"] == "bad_request", body
    assert client.get("/api/v1/notifications?page=0", headers=bearer(token)).status_code == 400
    assert client.get("/api/v1/notifications").status_code == 401
