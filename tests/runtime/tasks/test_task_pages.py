"""The approval pages through the Flask test client (SQLite): the inbox's boxes and counts, the task
page (hidden fields stay hidden, editable ones are inputs), approving with the signature password
(wrong → 422 with the message at the password field in the user's language; right → redirect and
the signature on the record page), CSRF, another user's task, batch approval, reject / resubmit /
withdraw / transfer / comment."""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass

import pytest
from sqlalchemy import select

import app as app_module
from engine.services import accounts
from engine.storage.db import session_scope
from engine.storage.platform import users
from tests.engine.flows.support import PASSWORD, REVIEW, World, make_world

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
FLOW = copy.deepcopy(REVIEW)
FLOW["nodes"][1]["fields"] = {"disposition": "editable", "cost": "hidden"}    # the QE step hides the cost


@dataclass
class Web:
    app: object
    world: World
    emails: dict[int, str]

    def client(self, who: str):
        client = self.app.test_client()
        token = CSRF.search(client.get("/login").get_data(as_text=True)).group(1)
        res = client.post("/login", data={"company": "acme", "email": self.emails[self.world[who].user_id],
                                           "password": PASSWORD, "csrf_token": token})
        assert res.status_code == 302, res.get_data(as_text=True)[:300]
        return client


@pytest.fixture
def web(tmp_path):
    app = app_module.create_app({"QMS_DATA_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/qms.db",
                                 "TESTING": True, "SECRET_KEY": "test-secret"})
    engine = app.extensions["qms_db"]
    with session_scope(engine) as s:
        tenant = accounts.create_tenant(s, "acme", "Acme")
        admin = accounts.actor_for_user(s, accounts.create_user(s, tenant, "boss@acme.example", "Boss", PASSWORD,
                                                                is_admin=True, lang="en"))
    world = make_world(engine, admin, FLOW)
    with session_scope(engine) as s:
        emails = dict(s.execute(select(users.c.id, users.c.email).where(users.c.tenant_id == tenant)).all())
    return Web(app, world, emails)


def page(client, path: str) -> tuple[int, str]:
    res = client.get(path)
    return res.status_code, res.get_data(as_text=True)


def post(client, path: str, form: dict | None = None, csrf_from: str = "/tasks"):
    token = CSRF.search(client.get(csrf_from).get_data(as_text=True)).group(1)
    return client.post(path, data={"csrf_token": token, **(form or {})})


def lang(client, code: str) -> None:
    post(client, "/lang", {"lang": code, "next": "/tasks"})


# ---------------------------------------------------------------------------- inbox

def test_inbox_counts_tabs_filters_and_paging(web, monkeypatch):
    first, second = web.world.submit(), web.world.submit(subject="dent")
    quinn = web.client("quinn")
    status, html = page(quinn, "/tasks")
    assert status == 200
    assert re.search(r'aria-current="page">\s*To do <span class="count hot">2</span>', html)
    assert 'class="count hot"' in html and ">2</span></a>" in html         # the nav badge
    tasks = [web.world.open_task(r, "quinn") for r in (first, second)]
    for task_id in tasks:
        assert f'href="/tasks/{task_id}"' in html
    assert "NCR review" in html and "QE review" in html and "Sam" in html
    # the QE step needs a signature: no batch checkbox for it, and the page says why
    assert 'name="task"' not in html and "cannot be approved in a batch" in html
    assert "Nothing to do." in page(quinn, "/tasks?overdue=1")[1]
    assert f'href="/tasks/{tasks[0]}"' in page(quinn, "/tasks?form=ncr")[1]
    assert "No handled tasks yet." in page(quinn, "/tasks?box=done")[1]

    sam = web.client("sam")
    html = page(sam, "/tasks?box=mine")[1]
    assert f'href="/f/ncr/{first}"' in html and f'href="/f/ncr/{second}"' in html and "In approval" in html
    assert re.search(r"Started by me <span class=\"count[^\"]*\">2</span>", html)

    monkeypatch.setattr("runtime.tasks.views.PER_PAGE", 1)
    html = page(quinn, "/tasks")[1]
    assert "Page 1 / 2" in html and "page=2" in html
    assert "Page 2 / 2" in page(quinn, "/tasks?page=2")[1]


def test_inbox_needs_a_sign_in(web):
    res = web.app.test_client().get("/tasks")
    assert res.status_code == 302 and "/login" in res.headers["Location"]


# ---------------------------------------------------------------------------- the task page

def test_task_page_hides_hidden_fields_and_offers_editable_ones(web):
    record = web.world.submit(subject="<script>alert(1)</script>", cost=777)
    quinn = web.client("quinn")
    status, html = page(quinn, f"/tasks/{web.world.open_task(record, 'quinn')}")
    assert status == 200
    assert "Subject" in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html
    assert "Cost" not in html and "777" not in html                          # hidden at this step
    assert 'name="field_disposition"' in html and 'name="field_subject"' not in html
    assert "Meaning: <strong>Reviewed</strong>" in html and 'name="password"' in html
    assert '<dialog class="sheet" id="dlg-approve"' in html and 'id="dlg-reject"' in html
    assert re.search(r'name="to_node">\s*<option value="">The submitter</option>\s*</select>', html)
    assert "Quincy" in html                                                   # transfer picker: other users


def test_wrong_password_shows_the_error_at_the_field_in_the_users_language(web):
    record = web.world.submit()
    task = web.world.open_task(record, "quinn")
    quinn = web.client("quinn")
    res = post(quinn, f"/tasks/{task}/approve", {"password": "nope", "comment": "looks fine",
                                                   "field_disposition": "rework", "was_disposition": ""})
    html = res.get_data(as_text=True)
    assert res.status_code == 422
    assert re.search(r'id="dlg-approve"[^>]*open data-autoopen', html)
    assert re.search(r'has-error">\s*<p class="meaning">.*?Wrong password', html, re.S)
    assert '<option value="rework" selected>' in html and "looks fine" in html   # what was typed stays
    lang(quinn, "zh-CN")
    html = post(quinn, f"/tasks/{task}/approve", {"password": "nope"}).get_data(as_text=True)
    assert "密码不正确" in html
    assert web.world.tasks(record, id=task)[0]["status"] == "open"


def test_right_password_approves_and_the_record_timeline_shows_the_signature(web):
    record = web.world.submit()
    task = web.world.open_task(record, "quinn")
    quinn = web.client("quinn")
    res = post(quinn, f"/tasks/{task}/approve", {"password": PASSWORD, "comment": "ok by me",
                                                   "field_disposition": "scrap", "was_disposition": ""})
    assert res.status_code == 302 and res.headers["Location"].endswith("/tasks")
    assert "Approved" in page(quinn, "/tasks")[1]                             # the flash
    assert web.world.tasks(record, id=task)[0]["status"] == "approved"
    status, html = page(web.client("sam"), f"/f/ncr/{record}")
    assert status == 200
    assert "Electronic signatures" in html and "Quinn" in html and "Meaning: Reviewed" in html
    assert "✓ Verified" in html and "UTC" in html and "ok by me" in html
    assert re.search(r'class="state-badge approved">Approved', html)
    assert "Scrap" in html                                                    # the approver's change


def test_posts_without_the_csrf_token_are_refused(web):
    record = web.world.submit()
    task = web.world.open_task(record, "quinn")
    quinn = web.client("quinn")
    res = quinn.post(f"/tasks/{task}/approve", data={"password": PASSWORD})
    assert res.status_code == 400 and "CSRF" in res.get_data(as_text=True)
    assert quinn.post("/tasks/batch-approve", data={"task": str(task)}).status_code == 400
    assert web.world.tasks(record, id=task)[0]["status"] == "open"


def test_another_users_task_is_a_404(web):
    record = web.world.submit()
    task = web.world.open_task(record, "quinn")
    mia = web.client("mia")
    status, html = page(mia, f"/tasks/{task}")
    assert status == 404 and "Not found" in html and "burr" not in html
    assert post(mia, f"/tasks/{task}/approve", {"password": PASSWORD}).status_code == 404
    assert page(mia, "/tasks/999999")[0] == 404
    assert post(mia, f"/tasks/{task}/dance").status_code == 404
    assert web.world.tasks(record, id=task)[0]["status"] == "open"


# ---------------------------------------------------------------------------- batch

def test_batch_approve_takes_the_selected_tasks_without_a_signature(web):
    records = [web.world.submit(cost=5000), web.world.submit(cost=6000)]      # high cost: MRB step after QE
    for r in records:
        web.world.act(r, "quinn")
    mia = web.client("mia")
    html = page(mia, "/tasks")[1]
    tasks = [web.world.open_task(r, "mia") for r in records]
    for task_id in tasks:
        assert f'name="task" value="{task_id}"' in html
    assert "cannot be approved in a batch" not in html
    res = post(mia, "/tasks/batch-approve", {"task": [str(i) for i in tasks], "comment": "all fine"})
    assert res.status_code == 302
    html = page(mia, "/tasks")[1]
    assert "2 task(s) approved" in html and "Nothing to do." in html
    assert re.search(r"Done <span class=\"count[^\"]*\">2</span>", html)
    # a task that needs a signature is refused with the reason
    other = web.world.submit()
    quinn_task = web.world.open_task(other, "quinn")
    quinn = web.client("quinn")
    post(quinn, "/tasks/batch-approve", {"task": str(quinn_task)})
    assert web.world.tasks(other, id=quinn_task)[0]["status"] == "open"
    assert f"Task #{quinn_task} not approved" in page(quinn, "/tasks")[1]
    assert post(mia, "/tasks/batch-approve", {}).status_code == 302


# ---------------------------------------------------------------------------- the other actions

def test_reject_needs_a_reason_then_the_submitter_resubmits(web):
    record = web.world.submit()
    task = web.world.open_task(record, "quinn")
    quinn = web.client("quinn")
    res = post(quinn, f"/tasks/{task}/reject", {"comment": "  "})
    assert res.status_code == 422 and "Say why you send it back" in res.get_data(as_text=True)
    assert post(quinn, f"/tasks/{task}/reject", {"comment": "photo missing"}).status_code == 302
    sam = web.client("sam")
    html = page(sam, f"/f/ncr/{record}")[1]
    assert "Returned" in html and "photo missing" in html and "Resubmit" in html
    instance = web.world.instance(record)["id"]
    res = post(sam, f"/flows/instances/{instance}/resubmit", csrf_from=f"/f/ncr/{record}")
    assert res.status_code == 302 and res.headers["Location"].endswith(f"/f/ncr/{record}#flow")
    assert web.world.instance(record)["state"] == "running"
    assert post(quinn, f"/flows/instances/{instance}/withdraw").status_code == 403    # not the submitter


def test_withdraw_and_comment_from_the_record_page(web):
    record = web.world.submit()
    sam = web.client("sam")
    html = page(sam, f"/f/ncr/{record}")[1]
    assert "Withdraw" in html and "In approval" in html
    instance = web.world.instance(record)["id"]
    assert post(sam, f"/flows/instances/{instance}/comment", {"comment": " "}).status_code == 302
    assert "The comment is empty" in page(sam, f"/f/ncr/{record}")[1]
    assert post(sam, f"/flows/instances/{instance}/comment", {"comment": "please hurry"}).status_code == 302
    assert post(sam, f"/flows/instances/{instance}/withdraw", {"reason": "typo"}).status_code == 302
    assert web.world.instance(record)["state"] == "withdrawn"
    html = page(sam, f"/f/ncr/{record}")[1]
    assert "please hurry" in html and "withdrew it" in html and "Resubmit" in html
    assert post(web.client("eve"), f"/flows/instances/{instance}/comment", {"comment": "hi"}).status_code == 404


def test_transfer_add_approver_and_comment_on_a_task(web):
    record = web.world.submit()
    task = web.world.open_task(record, "quinn")
    quinn = web.client("quinn")
    res = post(quinn, f"/tasks/{task}/comment", {"comment": "checking"})
    assert res.status_code == 302 and res.headers["Location"].endswith(f"/tasks/{task}")
    res = post(quinn, f"/tasks/{task}/transfer", {"to_user": ""})
    assert res.status_code == 422 and "Choose another active user" in res.get_data(as_text=True)
    eve = web.world["eve"].user_id
    assert post(quinn, f"/tasks/{task}/transfer", {"to_user": str(eve)}).status_code == 302
    eve_client = web.client("eve")
    html = page(eve_client, f"/tasks/{task}")[1]
    assert "transferred the task" in html and "checking" in html
    dora = web.world["dora"].user_id
    assert post(eve_client, f"/tasks/{task}/add_before", {"to_user": str(dora)}).status_code == 302
    assert web.world.open_task(record, "dora")


def test_the_record_list_shows_each_records_approval_state(web):
    running = web.world.submit(subject="still running")
    done = web.world.submit(subject="approved one")
    web.world.act(done, "quinn")
    sam = web.client("sam")
    lang(sam, "en")
    status, html = page(sam, "/f/ncr")
    assert status == 200 and 'data-col="flow_state"' in html
    cells = re.findall(r'<td data-col="flow_state"[^>]*>([^<]*)<', html)
    assert sorted(c.strip() for c in cells) == ["Approved", "In approval"]      # one per record, newest first
    assert running != done


def test_the_record_page_marks_branches_and_the_branch_not_taken(web):
    cheap = web.world.submit(subject="cheap one", cost=500)
    web.world.act(cheap, "quinn")                          # cost ≤ 1000: the MRB branch is not taken
    sam = web.client("sam")
    lang(sam, "en")
    status, html = page(sam, f"/f/ncr/{cheap}")
    assert status == 200
    mrb = html[html.index('class="step skipped approval"'):]
    assert "branch not taken" in mrb[:600] and "High cost" in mrb[:900]


def test_a_record_is_sent_for_approval_from_its_page_when_the_flow_does_not_start_by_itself(tmp_path):
    app = app_module.create_app({"QMS_DATA_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/qms.db",
                                 "TESTING": True, "SECRET_KEY": "test-secret"})
    engine = app.extensions["qms_db"]
    with session_scope(engine) as s:
        tenant = accounts.create_tenant(s, "acme", "Acme")
        admin = accounts.actor_for_user(s, accounts.create_user(s, tenant, "boss@acme.example", "Boss", PASSWORD,
                                                                is_admin=True, lang="en"))
    manual = copy.deepcopy(FLOW)
    manual["auto_start"] = False
    world = make_world(engine, admin, manual)
    with session_scope(engine) as s:
        emails = dict(s.execute(select(users.c.id, users.c.email).where(users.c.tenant_id == tenant)).all())
    web = Web(app, world, emails)
    rid = world.submit(subject="manual one")
    sam = web.client("sam")
    lang(sam, "en")
    status, html = page(sam, f"/f/ncr/{rid}")
    assert status == 200 and "Send for approval" in html
    quinn = web.client("quinn")                            # may not even read it: the post is a 404
    assert post(quinn, f"/f/ncr/{rid}/flow", {"flow": "ncr_review"}).status_code == 404
    res = post(sam, f"/f/ncr/{rid}/flow", {"flow": "ncr_review"}, csrf_from=f"/f/ncr/{rid}")
    assert res.status_code == 302
    assert world.instance(rid)["state"] == "running"
    status, html = page(sam, f"/f/ncr/{rid}")
    assert "Send for approval" not in html and "In approval" in html
