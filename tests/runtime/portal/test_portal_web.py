"""The supplier portal over HTTP: A's user sees only A's records — on the portal page, the record
pages, the REST API, a dashboard, exports and trace — answers the D3 step of A's 8D with a file
so the flow moves on, and B's user can neither see nor act on it. Plus the admin's portal-user page."""
from __future__ import annotations

import io
import re

from sqlalchemy import select

from engine.services import dashboards
from engine.services import records as record_service
from engine.storage.db import session_scope
from engine.storage.platform import files
from tests.runtime.web_support import csrf_from, sign_in

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _csrf(client, path: str) -> str:
    return CSRF.search(client.get(path).get_data(as_text=True)).group(1)


# ---------------------------------------------------------------------------- what A's user sees

def test_portal_page_shows_only_the_users_own_supplier(site):
    w = site.world
    html = site.client("A").get("/portal").get_data(as_text=True)
    assert "Supplier A Castings" in html and "Supplier B" not in html
    get = record_service.get_record
    with session_scope(site.app.extensions["qms_db"]) as s:
        a_no, b_no = (get(s, w.admin, "eight_d", w.eight_ds[k]).serial_no for k in "AB")
        a_ncr, b_ncr = (get(s, w.admin, "ncr", w.ncrs[k]).serial_no for k in "AB")
    assert a_no in html and b_no not in html and a_ncr in html and b_ncr not in html
    assert f'/portal/tasks/{w.task_of("A")["id"]}' in html and f'/portal/tasks/{w.task_of("B")["id"]}' not in html
    assert "D1–D2" in html                                         # the discipline waiting for them
    assert 'class="cert expired"' in html and 'class="cert due"' in html and 'class="cert valid"' in html
    assert "▼" in html                                             # the second month scored lower
    assert 'name="viewport"' in html                               # phone-friendly layout


def test_portal_is_bilingual(site):
    client = site.client("A")
    client.post("/lang", data={"lang": "zh-CN", "csrf_token": _csrf(client, "/portal"), "next": "/portal"})
    html = client.get("/portal").get_data(as_text=True)
    assert "待处理的 8D 请求" in html and "资质证书" in html and "已过期" in html


def test_internal_users_get_no_portal_page(site):
    assert site.client().get("/portal").status_code == 404               # the admin
    assert site.client("qe").get("/portal").status_code == 404


def test_record_pages_and_api_answer_only_the_own_suppliers_records(site):
    w, client = site.world, site.client("A")
    listing = client.get("/f/ncr").get_data(as_text=True)
    assert "supplier A" in listing and "supplier B" not in listing
    assert client.get(f"/f/ncr/{w.ncrs['A']}").status_code == 200
    assert client.get(f"/f/ncr/{w.ncrs['B']}").status_code == 404
    assert client.get(f"/f/eight_d/{w.eight_ds['B']}").status_code == 404
    api = client.get("/api/v1/forms/ncr/records").get_json()
    assert [r["id"] for r in api["items"]] == [w.ncrs["A"]]
    assert "rework_cost" not in api["items"][0]["data"]                  # costs are hidden from suppliers
    assert client.get(f"/api/v1/forms/ncr/records/{w.ncrs['B']}").status_code == 404
    assert client.get(f"/api/v1/forms/eight_d/records/{w.eight_ds['B']}").status_code == 404
    cards = client.get("/api/v1/forms/supplier_scorecard/records").get_json()["items"]
    assert sorted(r["id"] for r in cards) == sorted(w.scorecards["A"])
    assert all("comments" not in r["data"] for r in cards)
    suppliers = client.get("/api/v1/forms/supplier/records").get_json()["items"]
    assert [r["id"] for r in suppliers] == [w.suppliers["A"]]
    definition = client.get("/api/v1/forms/ncr").get_json()
    assert "rework_cost" not in [f["key"] for f in definition["fields"]]      # nor the hidden field's name


def test_a_dashboard_run_by_the_supplier_counts_only_its_records(site):
    w = site.world
    with session_scope(site.app.extensions["qms_db"]) as s:
        dashboards.publish_dashboard(s, w.admin, {
            "format": 1, "key": "portal_check", "label": {"zh-CN": "检查", "en": "Check"},
            "items": [{"report": "ncr_by_responsibility", "x": 0, "y": 0, "w": 6, "h": 4},
                      {"report": "supplier_score_trend", "x": 6, "y": 0, "w": 6, "h": 4}]})
    internal = site.client("qe").get("/api/v1/dashboards/portal_check/data").get_json()
    mine = site.client("A").get("/api/v1/dashboards/portal_check/data").get_json()
    assert _ncr_count(internal) == 2 and _ncr_count(mine) == 1
    report = site.client("A").get("/api/v1/reports/ncr_by_responsibility/data").get_json()
    assert sum(row[-1] for row in report["data"]["rows"]) == 1


def _ncr_count(dashboard: dict) -> int:
    cell = next(i for i in dashboard["items"] if i["report"] == "ncr_by_responsibility")
    return sum(row[-1] for row in cell["result"]["data"]["rows"])


def test_exports_trace_and_admin_pages_are_closed_to_the_supplier(site):
    w, client = site.world, site.client("A")
    assert client.get("/f/ncr/export.csv").status_code == 403           # the role has no export right
    assert client.get("/f/ncr/export.xlsx").status_code == 403
    assert client.get(f"/trace/ncr/{w.ncrs['B']}").status_code == 404
    assert client.get(f"/trace/ncr/{w.ncrs['A']}").status_code == 200
    for path in ("/admin/apps", "/admin/rules", "/admin/mail", f"/admin/suppliers/{w.suppliers['A']}/portal-users"):
        assert client.get(path).status_code == 403, path


# ---------------------------------------------------------------------------- answering a discipline

def test_supplier_answers_d3_with_a_file_and_the_flow_moves_on(site):
    w = site.world
    w.answer_d1_d2("A")
    task = w.task_of("A")
    assert task["node_id"] == "d3"
    client = site.client("A")
    page = client.get(f"/portal/tasks/{task['id']}").get_data(as_text=True)
    assert 'name="sub_d3_actions_0_action"' in page and 'name="field_d3_clean_point"' in page
    assert 'name="field_d4_occurrence_cause"' not in page                # D4 is not open yet
    res = client.post(f"/portal/tasks/{task['id']}", content_type="multipart/form-data", data={
        "csrf_token": CSRF.search(page).group(1), "tz_offset": "480",
        "sub_d3_actions_0_action": "100 % X-ray of stock", "sub_d3_actions_0_scope": "warehouse",
        "sub_d3_actions_0_qty_checked": "3400", "sub_d3_actions_0_qty_found": "12",
        "sub_d3_actions_1_action": "",
        "field_d3_clean_point": "Date code 2026-W12", "was_d3_clean_point": "",
        "field_d3_completed_at": "2026-01-05T09:30", "was_d3_completed_at": "",
        "comment": "Containment in place",
        "evidence": (io.BytesIO(b"%PDF-1.4 sorting report"), "sorting-report.pdf")})
    assert res.status_code == 302, res.get_data(as_text=True)[:2000]
    assert res.headers["Location"].endswith("/portal")
    with session_scope(site.app.extensions["qms_db"]) as s:
        report = record_service.get_record(s, w.admin, "eight_d", w.eight_ds["A"]).values
        stored = s.execute(select(files).where(files.c.name == "sorting-report.pdf")).mappings().one()
    assert report["d3_actions"][0]["action"] == "100 % X-ray of stock" and report["d3_actions"][0]["qty_found"] == 12
    assert report["d3_clean_point"] == "Date code 2026-W12"
    assert report["d3_completed_at"].isoformat().startswith("2026-01-05T01:30")     # 09:30 at UTC+8
    assert [t["node_id"] for t in w.open_tasks("eight_d", w.eight_ds["A"])] == ["d4_d5"]
    assert stored["record_id"] == w.eight_ds["A"] and stored["form_key"] == "eight_d"
    assert site.client("qe").get(f"/files/{stored['id']}").status_code == 200     # the QE opens the evidence
    assert site.client("B").get(f"/files/{stored['id']}").status_code == 404
    next_page = client.get(f"/portal/tasks/{w.task_of('A')['id']}").get_data(as_text=True)
    assert "Containment in place" in next_page and "sorting-report.pdf" in next_page     # the message thread
    assert 'name="field_d4_occurrence_cause"' in next_page


def test_a_bad_answer_shows_the_problem_and_keeps_the_task(site):
    w = site.world
    w.answer_d1_d2("A")
    task, client = w.task_of("A"), site.client("A")
    page = client.get(f"/portal/tasks/{task['id']}").get_data(as_text=True)
    res = client.post(f"/portal/tasks/{task['id']}", data={
        "csrf_token": CSRF.search(page).group(1), "sub_d3_actions_0_qty_checked": "many"})
    assert res.status_code == 422
    assert "d3_actions" in res.get_data(as_text=True)
    assert w.task_of("A")["node_id"] == "d3"


def test_the_other_supplier_cannot_see_or_act_on_the_task(site):
    w = site.world
    w.answer_d1_d2("A")
    task = w.task_of("A")
    b = site.client("B")
    assert b.get(f"/portal/tasks/{task['id']}").status_code == 404
    assert b.get(f"/tasks/{task['id']}", follow_redirects=True).status_code == 404
    token = _csrf(b, "/portal")
    assert b.post(f"/portal/tasks/{task['id']}", data={"csrf_token": token,
                                                         "field_d3_clean_point": "x"}).status_code == 404
    assert b.post(f"/tasks/{task['id']}/approve", data={"csrf_token": token}).status_code == 404
    assert w.task_of("A")["id"] == task["id"]                             # still open, untouched


# ---------------------------------------------------------------------------- admin side

def test_admin_creates_and_deactivates_a_portal_user(site):
    w, admin = site.world, site.client()
    path = f"/admin/suppliers/{w.suppliers['B']}/portal-users"
    page = admin.get(path).get_data(as_text=True)
    assert w.emails["B"] in page and w.emails["A"] not in page
    res = admin.post(path, data={"csrf_token": CSRF.search(page).group(1), "email": "second@supplierb.cn",
                                 "name": "Second B"})
    html = res.get_data(as_text=True)
    assert res.status_code == 201 and "second@supplierb.cn" in html
    password = re.search(r'<div class="secret">([^<]+)</div>', html).group(1).strip()
    fresh = site.app.test_client()
    assert sign_in(fresh, "second@supplierb.cn", password).status_code == 302
    assert "Supplier B Castings" in fresh.get("/portal").get_data(as_text=True)
    user_id = int(re.findall(r"/portal-users/(\d+)/deactivate", html)[-1])
    res = admin.post(f"{path}/{user_id}/deactivate", data={"csrf_token": csrf_from(admin, path)})
    assert res.status_code == 302
    assert fresh.get("/portal").status_code == 302                      # signed out: the login page
    assert sign_in(site.app.test_client(), "second@supplierb.cn", password).status_code == 401


def test_admin_page_reports_a_taken_email(site):
    w, admin = site.world, site.client()
    path = f"/admin/suppliers/{w.suppliers['A']}/portal-users"
    res = admin.post(path, data={"csrf_token": csrf_from(admin, path), "email": w.emails["B"], "name": "Dup"})
    assert res.status_code == 422 and "已被使用" in res.get_data(as_text=True)     # the admin reads Chinese


def test_home_and_task_links_send_supplier_users_to_the_portal(site):
    client = site.client("A")
    res = client.get("/")
    assert res.status_code == 302 and res.headers["Location"].endswith("/portal")
    task_id = site.world.task_of("A")["id"]
    res = client.get(f"/tasks/{task_id}")                  # the inbox's and the notification's link
    assert res.status_code == 302 and res.headers["Location"].endswith(f"/portal/tasks/{task_id}")
    assert site.client("qe").get("/").status_code == 200
