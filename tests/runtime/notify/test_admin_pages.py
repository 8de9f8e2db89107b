"""Admin pages for mail, robot channels and the delivery log: admins only, CSRF on every post,
field errors in the user's language, secrets never sent back, and tenant isolation (an admin of
Globex never sees Acme's mail, channels or deliveries)."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from engine.services import deliveries, mail
from engine.storage.db import session_scope
from engine.storage.notify_tables import mail_outbox, notify_channels, smtp_settings
from tests.runtime.notify.conftest import post

PAGES = ["/admin/mail", "/admin/channels", "/admin/deliveries"]
SMTP = {"host": "smtp.acme.example", "port": "587", "security": "starttls", "username": "qms",
        "password": "smtp-pass-9", "from_addr": "QMS <qms@acme.example>"}
WECOM = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=wk-secret-123"


def admin_post(client, path, data=None):
    return post(client, path, data, token_from="/admin/mail")


def acme_world(site):
    """Acme: a held mail, a channel with a queued message, a failed webhook delivery."""
    with session_scope(site.engine) as s:
        mail_id = mail.queue_mail(s, site.a.tenant_id, ["buyer@acme.example"], "Acme held mail", "body")[0]
        deliveries.save_channel(s, site.a.admin, "acme_qe", "wecom", "Acme QE", WECOM, None, secret_key="test-secret")
        channel_delivery = deliveries.queue_channel(s, site.a.tenant_id, "acme_qe", "Acme alert", "body")
        hook = deliveries.queue_webhook(s, site.a.tenant_id, "https://erp.acme.example/hook?token=erp-tok", {"a": 1})
    return {"mail": mail_id, "channel_delivery": channel_delivery, "hook": hook}


@pytest.mark.parametrize("path", PAGES)
def test_members_get_403_and_visitors_the_login_page(site, path):
    assert site.client(site.a, "member").get(path).status_code == 403
    res = site.app.test_client().get(path)
    assert res.status_code == 302 and "/login" in res.headers["Location"]


def test_member_posts_change_nothing(site):
    world = acme_world(site)
    member = site.client(site.a, "member")
    for path, data in (("/admin/mail/settings", SMTP), ("/admin/mail/release", {}),
                       (f"/admin/mail/{world['mail']}/resend", {}), ("/admin/channels/acme_qe/delete", {}),
                       ("/admin/channels", {"key": "x", "kind": "wecom", "name": "x", "url": WECOM}),
                       (f"/admin/deliveries/{world['hook']}/retry", {})):
        assert post(member, path, data).status_code == 403, path
    with session_scope(site.engine) as s:
        assert s.execute(select(smtp_settings)).first() is None
        assert s.execute(select(notify_channels.c.key)).scalars().all() == ["acme_qe"]


def test_admin_posts_need_csrf(site):
    client = site.client(site.a)
    assert client.post("/admin/mail/settings", data=SMTP).status_code == 400
    assert client.post("/admin/channels", data={"key": "x", "kind": "wecom", "name": "x", "url": WECOM}).status_code == 400
    with session_scope(site.engine) as s:
        assert s.execute(select(smtp_settings)).first() is None and s.execute(select(notify_channels)).first() is None


def test_smtp_settings_errors_then_save_release_and_test_mail(site, jobs):
    world = acme_world(site)
    client = site.client(site.a)
    res = admin_post(client, "/admin/mail/settings", {**SMTP, "host": "", "port": "70000", "from_addr": "nope"})
    html = res.get_data(as_text=True)
    assert res.status_code == 422
    assert "host name (e.g. smtp.example.com)" in html and "whole number 1–65535" in html and "sender address" in html
    assert "smtp-pass-9" not in html                                        # the password is not echoed
    assert "Acme held mail" in html and "Release held mail" in html
    assert admin_post(client, "/admin/mail/settings", SMTP).status_code == 302
    with session_scope(site.engine) as s:
        assert "smtp-pass-9" not in s.execute(select(smtp_settings.c.password_enc)).scalar()
    page = client.get("/admin/mail").get_data(as_text=True)
    assert "smtp.acme.example" in page and "smtp-pass-9" not in page and "Saved; leave empty to keep it" in page
    assert admin_post(client, "/admin/mail/release").status_code == 302
    assert admin_post(client, "/admin/mail/test", {"to": "me@acme.example"}).status_code == 302
    with session_scope(site.engine) as s:
        rows = dict(s.execute(select(mail_outbox.c.to_addr, mail_outbox.c.status)).all())
    assert rows == {"buyer@acme.example": "pending", "me@acme.example": "pending"}
    assert {args[1] for target, args in jobs if target == mail.MAIL_JOB} >= {world["mail"]}


def test_test_mail_without_smtp_says_what_to_do(site):
    client = site.client(site.a)
    res = admin_post(client, "/admin/mail/test", {"to": "me@acme.example"})
    assert res.status_code == 302
    assert "Save the SMTP settings before sending a test mail" in client.get("/admin/mail").get_data(as_text=True)


def test_channels_add_edit_keeps_secrets_and_test_and_delete(site, jobs):
    client = site.client(site.a)
    res = admin_post(client, "/admin/channels", {"key": "Bad Key", "kind": "dingtalk", "name": "",
                                                 "url": "https://oapi.dingtalk.com/robot/send"})
    html = res.get_data(as_text=True)
    assert res.status_code == 422 and "not a valid key" in html and "Enter a name" in html and "access_token=" in html
    dingtalk = "https://oapi.dingtalk.com/robot/send?access_token=dt-secret-token"
    assert admin_post(client, "/admin/channels", {"key": "mrb", "kind": "dingtalk", "name": "MRB group",
                                                  "url": dingtalk, "secret": "SECsigning"}).status_code == 302
    page = client.get("/admin/channels").get_data(as_text=True)
    assert "MRB group" in page and "access_token=***" in page and "dt-secret-token" not in page and "SECsigning" not in page
    edit = client.get("/admin/channels?edit=mrb").get_data(as_text=True)
    assert "dt-secret-token" not in edit and "SECsigning" not in edit and "readonly" in edit
    assert admin_post(client, "/admin/channels", {"key": "mrb", "kind": "dingtalk", "name": "MRB board",
                                                  "url": "", "secret": "", "existing": "1"}).status_code == 302
    with session_scope(site.engine) as s:
        row = s.execute(select(notify_channels)).mappings().one()
    assert row["name"] == "MRB board" and row["url"] == dingtalk and row["secret_enc"]
    res = admin_post(client, "/admin/channels/mrb/test")
    assert res.status_code == 302 and "/admin/deliveries/" in res.headers["Location"]
    detail = client.get(res.headers["Location"]).get_data(as_text=True)
    assert "QMS test message" in detail and "dt-secret-token" not in detail
    assert admin_post(client, "/admin/channels/mrb/delete").status_code == 302
    assert "MRB board" not in client.get("/admin/channels").get_data(as_text=True)
    assert client.get("/admin/channels?edit=mrb").status_code == 404


def test_delivery_log_filters_detail_and_retry(site, jobs):
    world = acme_world(site)
    client = site.client(site.a)
    html = client.get("/admin/deliveries").get_data(as_text=True)
    assert "token=***" in html and "erp-tok" not in html and "key=***" in html and "wk-secret-123" not in html
    assert "acme_qe" not in client.get("/admin/deliveries?kind=webhook").get_data(as_text=True)
    assert client.get("/admin/deliveries?status=bogus&page=x").status_code == 200
    detail = client.get(f"/admin/deliveries/{world['hook']}").get_data(as_text=True)
    assert "{&#34;a&#34;:1}" in detail or '{"a":1}' in detail
    res = admin_post(client, f"/admin/deliveries/{world['hook']}/retry")
    assert res.status_code == 302


def test_another_company_never_sees_acme_things(site):
    world = acme_world(site)
    globex = site.client(site.b)
    for path in PAGES:
        html = globex.get(path).get_data(as_text=True)
        assert "Acme" not in html and "acme_qe" not in html and "erp.acme" not in html, path
    assert globex.get(f"/admin/deliveries/{world['hook']}").status_code == 404
    assert globex.get("/admin/channels?edit=acme_qe").status_code == 404
    for path in (f"/admin/mail/{world['mail']}/resend", f"/admin/deliveries/{world['hook']}/retry",
                 "/admin/channels/acme_qe/delete", "/admin/channels/acme_qe/test"):
        res = admin_post(globex, path)
        assert res.status_code in (302, 404), path
    # Globex saving a channel with Acme's key creates its own, never edits Acme's
    admin_post(globex, "/admin/channels", {"key": "acme_qe", "kind": "wecom", "name": "Globex", "url": WECOM + "x"})
    with session_scope(site.engine) as s:
        rows = {(r.tenant_id, r.name) for r in s.execute(select(notify_channels.c.tenant_id, notify_channels.c.name))}
        statuses = dict(s.execute(select(mail_outbox.c.id, mail_outbox.c.status)).all())
    assert rows == {(site.a.tenant_id, "Acme QE"), (site.b.tenant_id, "Globex")}
    assert statuses[world["mail"]] == "held"


def test_pages_answer_in_chinese_by_default(site):
    client = site.client(site.a)
    post(client, "/lang", {"lang": "zh-CN", "next": "/admin/mail"}, token_from="/admin/mail")
    html = client.get("/admin/mail").get_data(as_text=True)
    assert "发件箱" in html and re.search(r"SMTP 服务器", html)
