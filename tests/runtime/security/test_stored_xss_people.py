"""Stored XSS, the strings people write while working: flow comments, approval opinions, reject and
withdraw reasons, uploaded file names, user and department names, the tenant name, notification
texts (in-app, after the deferred jobs ran) and e-mails as the outbox builds them. Each comes back
escaped on the pages that show it: record detail and its timeline, the task inbox and task page,
the notification centre, the mail outbox, the print HTML. Checks reuse :mod:`test_stored_xss`."""
from __future__ import annotations

import copy
import html
import io
import re
import time

import pytest
from sqlalchemy import select, update

import app as app_module
from engine.jobs import queue
from engine.services import accounts
from engine.services import mail as mail_service
from engine.services import printing, rule_defs
from engine.services import smtp
from engine.storage.db import session_scope
from engine.storage.notify_tables import mail_outbox
from engine.storage.platform import departments, users
from tests.engine.flows.support import NCR_FORM, PASSWORD, REVIEW, make_world
from tests.runtime.security.test_stored_xss import html_problems, p

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
FORM = copy.deepcopy(NCR_FORM) | {"title_template": "{subject}"}        # notices name records by title
FORM["fields"] += [{"key": "docs", "type": "attachment", "label": {"zh-CN": "附件", "en": "Documents"}},
                   {"key": "dept", "type": "department", "label": {"zh-CN": "部门", "en": "Department"}}]
FLOW = copy.deepcopy(REVIEW)
FLOW["nodes"][1].pop("signature")                    # no e-signature: the task page approves with a comment
RULE = {"format": 1, "key": "ping_admin", "label": {"zh-CN": "通知", "en": "Ping"}, "form": "ncr",
        "trigger": {"type": "record_created"},
        "actions": [{"type": "notify", "to": {"users": []}, "channels": ["in_app", "email"],
                     "subject": "{{ record.subject }} " + p(3), "body": "{{ record.subject }}\n" + p(2)}]}
# Upload names lose <>:"/\|?* (engine.services.files.sanitize_name); quotes, = and ( ) stay
FILE_NAME = "x' onmouseover=xss(9) '.txt"


class Site:
    def __init__(self, app, world, emails, jobs):
        self.app, self.world, self.emails, self.jobs = app, world, emails, jobs
        self._clients: dict[str, object] = {}
        self.records: dict[str, int] = {}
        self.tasks: dict[str, int] = {}
        self.file_name = ""
        self.names: dict[str, str] = {}

    def client(self, who: str):
        if who not in self._clients:
            client = self.app.test_client()
            token = CSRF.search(client.get("/login").get_data(as_text=True)).group(1)
            email = "boss@acme.example" if who == "boss" else self.emails[self.world[who].user_id]
            res = client.post("/login", data={"company": "acme", "email": email, "password": PASSWORD,
                                               "csrf_token": token})
            assert res.status_code == 302, res.get_data(as_text=True)[:300]
            client.post("/lang", data={"lang": "en", "next": "/", "csrf_token": token})
            self._clients[who] = client
        return self._clients[who]

    def post(self, who: str, path: str, form: dict, csrf_from: str = "/tasks"):
        client = self.client(who)
        token = CSRF.search(client.get(csrf_from).get_data(as_text=True)).group(1)
        res = client.post(path, data={"csrf_token": token, **form})
        assert res.status_code == 302, (path, res.status_code, res.get_data(as_text=True)[:300])
        return res


def _rename_people(engine, tenant_id: int) -> dict[int, str]:
    """Every user and department of the tenant gets a payload name (setup only; names are plain text)."""
    names = {}
    with session_scope(engine) as s:
        ids = s.execute(select(users.c.id).where(users.c.tenant_id == tenant_id).order_by(users.c.id)).scalars()
        for n, uid in enumerate(ids, start=1):
            names[uid] = p(n, f" u{uid}")
            s.execute(update(users).where(users.c.id == uid).values(name=names[uid]))
        s.execute(update(departments).where(departments.c.tenant_id == tenant_id)
                  .values(name={"zh-CN": p(3, " dept"), "en": p(2, " dept")}))
    return names


def _upload(site: Site) -> dict:
    client = site.client("sam")
    token = CSRF.search(client.get("/f/ncr/new").get_data(as_text=True)).group(1)
    res = client.post("/files", data={"file": (io.BytesIO(b"evidence"), FILE_NAME), "form": "ncr", "field": "docs"},
                      headers={"X-CSRFToken": token}, content_type="multipart/form-data")
    assert res.status_code == 201, res.get_data(as_text=True)
    return res.get_json()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("xss-people")
    app = app_module.create_app({"QMS_DATA_DIR": str(tmp), "DATABASE_URL": f"sqlite:///{tmp}/qms.db",
                                 "TESTING": True, "SECRET_KEY": "test-secret"})
    jobs = queue.DeferredBackend()
    previous = queue.use(jobs)                       # after create_app, which configures its own pool
    try:
        yield _populate(app, jobs)
    finally:
        queue.use(previous)


def _populate(app, jobs) -> Site:
    """Tenant, people, form, flow and rule; four records taken through approve / reject / withdraw."""
    engine = app.extensions["qms_db"]
    with session_scope(engine) as s:
        tenant = accounts.create_tenant(s, "acme", p(1, " tenant"))
        admin = accounts.actor_for_user(s, accounts.create_user(s, tenant, "boss@acme.example", "Boss", PASSWORD,
                                                                is_admin=True, lang="en"))
    world = make_world(engine, admin, FLOW, FORM)
    with session_scope(engine) as s:
        rule = copy.deepcopy(RULE)
        rule["actions"][0]["to"]["users"] = [admin.user_id]
        rule_defs.publish_rule(s, admin, rule)
        emails = dict(s.execute(select(users.c.id, users.c.email).where(users.c.tenant_id == tenant)).all())
    names = _rename_people(engine, tenant)
    site = Site(app, world, emails, jobs)
    site.names = {who: names[world[who].user_id] for who in world.people}
    stored = _upload(site)
    site.file_name = stored["name"]
    w = world
    with session_scope(engine) as s:
        dept = s.execute(select(departments.c.id).where(departments.c.tenant_id == tenant)).scalar()
    site.records["approved"] = w.submit(subject=p(1), docs=[stored], dept=dept)
    site.records["rejected"] = w.submit(subject=p(2))
    site.records["withdrawn"] = w.submit(subject=p(3))
    site.records["open"] = w.submit(subject=p(4))
    jobs.run_all()
    task = w.open_task(site.records["approved"], "quinn")
    site.post("quinn", f"/tasks/{task}/comment", {"comment": p(5, " task comment")})
    site.post("quinn", f"/tasks/{task}/approve", {"comment": p(1, " opinion"), "field_disposition": "scrap",
                                                  "was_disposition": ""})
    task = w.open_task(site.records["rejected"], "quinn")
    site.post("quinn", f"/tasks/{task}/reject", {"comment": p(2, " reason")})
    instance = w.instance(site.records["withdrawn"])["id"]
    rid = site.records["withdrawn"]
    site.post("sam", f"/flows/instances/{instance}/comment", {"comment": p(3, " flow comment")}, f"/f/ncr/{rid}")
    site.post("sam", f"/flows/instances/{instance}/withdraw", {"reason": p(4, " withdraw")}, f"/f/ncr/{rid}")
    site.tasks["open"] = w.open_task(site.records["open"], "quinn")
    site.post("quinn", f"/tasks/{site.tasks['open']}/comment", {"comment": p(6, " pending")})
    jobs.run_all()
    return site


def _check(client, urls: list[str]) -> dict[str, str]:
    """{url: body} of each page (200 text/html); asserts none shows an unescaped payload."""
    found, bodies = {}, {}
    for url in urls:
        res = client.get(url)
        assert res.status_code == 200 and res.mimetype == "text/html", (url, res.status_code)
        bodies[url] = body = res.get_data(as_text=True)
        if problems := html_problems(body):
            found[url] = problems[:3]
    assert not found, found
    return bodies


def shows(body: str, text: str) -> bool:
    """The page shows ``text`` (as text: html_problems already proved it is no markup)."""
    return text in html.unescape(body)


def test_record_pages_and_timelines_show_comments_reasons_and_names_escaped(site):
    started, r = time.perf_counter(), site.records
    pages = [f"/f/ncr/{r[k]}" for k in r] + [f"/f/ncr/{r['approved']}/edit", "/f/ncr/new", "/f/ncr", "/"]
    bodies = _check(site.client("boss"), pages)
    approved, rejected, withdrawn = (bodies[f"/f/ncr/{r[k]}"] for k in ("approved", "rejected", "withdrawn"))
    assert shows(approved, p(1, " opinion")) and shows(approved, p(5, " task comment"))
    assert shows(approved, p(1)) and shows(approved, site.file_name)           # subject and file name
    assert shows(approved, site.names["quinn"]) and shows(approved, p(2, " dept"))   # approver, department
    assert shows(bodies[f"/f/ncr/{r['approved']}/edit"], p(2, " dept"))
    assert shows(rejected, p(2, " reason"))
    assert shows(withdrawn, p(3, " flow comment")) and shows(withdrawn, p(4, " withdraw"))
    assert shows(bodies["/f/ncr"], p(4))
    assert time.perf_counter() - started < 5


def test_task_inbox_and_task_page_show_the_payloads_escaped(site):
    quinn, task = site.client("quinn"), site.tasks["open"]
    bodies = _check(quinn, ["/tasks", f"/tasks/{task}", "/tasks?box=done", "/tasks?box=cc"])
    inbox, page = bodies["/tasks"], bodies[f"/tasks/{task}"]
    assert f'href="/tasks/{task}"' in inbox and shows(inbox, p(4))              # the payload task is listed
    assert shows(page, p(6, " pending")) and shows(page, p(4))
    assert shows(page, site.names["sam"]) and shows(page, site.names["quincy"])   # submitter, transfer picker
    assert shows(bodies["/tasks?box=done"], p(1))


def test_notification_centre_shows_flow_and_rule_notices_escaped(site):
    bodies = _check(site.client("boss"), ["/notifications", "/admin/mail", "/admin/rules/runs"])
    centre = html.unescape(bodies["/notifications"])
    assert all(f"{p(n)} {p(3)}" in centre for n in (1, 2, 3, 4))      # one rule notice per record
    sam = html.unescape(_check(site.client("sam"), ["/notifications"])["/notifications"])
    assert f"Sent back: {p(2)}" in sam and f"Approved: {p(1)}" in sam        # flow notices name the record
    quinn = html.unescape(_check(site.client("quinn"), ["/notifications"])["/notifications"])
    assert f"Waiting for you: {p(4)}" in quinn                           # the new task, by the record's title


def test_print_html_shows_tenant_people_opinions_and_files_escaped(site):
    with session_scope(site.app.extensions["qms_db"]) as s:
        doc = printing.record_html(s, site.world.admin, "ncr", site.records["approved"], lang="en")
    assert not html_problems(doc), html_problems(doc)[:3]
    assert shows(doc, p(1, " tenant")) and shows(doc, p(1, " opinion"))
    assert shows(doc, site.names["quinn"])


def test_mail_is_plain_text_with_one_line_subjects(site):
    config = smtp.SmtpConfig(host="mail.example", port=25, security="none", username=None, password=None,
                             from_addr="qms@example.com", origin="env")
    with session_scope(site.app.extensions["qms_db"]) as s:
        rows = [dict(r) for r in s.execute(select(mail_outbox).where(mail_outbox.c.tenant_id ==
                                                                     site.world.admin.tenant_id)).mappings()]
    assert len(rows) >= 4 and all(r["html"] is None for r in rows)           # no HTML part is ever made
    assert any(p(2) in r["body"] for r in rows)
    for row in rows:
        message = mail_service.build_message(row, config)
        assert message.get_content_type() == "text/plain" and not message.is_multipart()
        assert "\n" not in row["subject"] and "\r" not in row["subject"]
    with session_scope(site.app.extensions["qms_db"]) as s:
        ids = mail_service.queue_mail(s, site.world.admin.tenant_id, ["a@example.com"],
                                      "hi\r\nBcc: victim@example.com\r\n\r\n" + p(1), p(1))
        row = dict(s.execute(select(mail_outbox).where(mail_outbox.c.id == ids[0])).mappings().one())
    message = mail_service.build_message(row, config)
    assert message["Bcc"] is None and "victim" in message["Subject"]
    wire = message.as_bytes()
    assert b"\nBcc:" not in wire and wire.count(b"\nSubject:") == 1


# ---------------------------------------------------------------------------- the supplier portal

@pytest.fixture(scope="module")
def portal(tmp_path_factory):
    from engine.services import flow_actions
    from engine.services import records as record_service
    from tests.runtime.portal.support import build
    from tests.runtime.web_support import make_app
    app = make_app(tmp_path_factory.mktemp("xss-portal"))
    engine = app.extensions["qms_db"]
    with session_scope(engine) as s:
        tenant = accounts.tenant_id_by_key(s, "default")
        admin = accounts.actor_for_user(s, accounts.user_id_by_email(s, tenant, "admin@example.com"), lang="en")
    world = build(engine, admin)
    with session_scope(engine) as s:
        supplier = record_service.get_record(s, admin, "supplier", world.suppliers["A"])
        record_service.update_record(s, admin, "supplier", supplier.id, supplier.version, {"name": p(2, " supplier")})
        s.execute(update(users).where(users.c.id == world.users["A"]).values(name=p(3, " portal user")))
    with session_scope(engine) as s:
        flow_actions.act(s, world.actor("A"), world.task_of("A")["id"], "approve", flow_actions.TaskAction(
            comment=p(1, " answer"), data={"d1_team": [{"name": p(5, " member"), "department": p(2, " team"),
                                                        "team_role": "supplier"}], "d2_statement": p(4, " d2")}))
    return app, world


def test_portal_pages_show_supplier_names_and_answers_escaped(portal):
    from tests.runtime.web_support import sign_in
    from tests.runtime.portal.support import PASSWORD as PORTAL_PASSWORD
    app, world = portal
    supplier, admin = app.test_client(), app.test_client()
    assert sign_in(supplier, world.emails["A"], PORTAL_PASSWORD).status_code == 302
    assert sign_in(admin).status_code == 302
    d3 = world.task_of("A")["id"]
    record = f"/f/eight_d/{world.eight_ds['A']}"
    mine = _check(supplier, ["/portal", f"/portal/tasks/{d3}", record])
    assert shows(mine["/portal"], p(2, " supplier"))
    assert shows(mine[record], p(4, " d2")) and shows(mine[record], p(1, " answer"))
    assert shows(mine[record], p(5, " member")) and shows(mine[record], p(3, " portal user"))
    theirs = _check(admin, [record, f"/admin/suppliers/{world.suppliers['A']}/portal-users", "/f/supplier",
                            f"/f/supplier/{world.suppliers['A']}"])
    assert shows(theirs[f"/admin/suppliers/{world.suppliers['A']}/portal-users"], p(3, " portal user"))
    assert shows(theirs["/f/supplier"], p(2, " supplier")) and shows(theirs[record], p(4, " d2"))
