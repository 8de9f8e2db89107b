"""Detail page with sub-tables and timeline, delete with CSRF, export, import (dry run and job)."""
from __future__ import annotations

import csv
import io
import re
import time

from openpyxl import Workbook, load_workbook

from engine.services import records as record_service
from tests.runtime.records.conftest import csrf_of, login


def test_detail_shows_fields_subtable_files_and_timeline(world, admin_client):
    rid = world.create(world.admin, lot_no="L-9", supplier_name="<b>ACME</b>", result="NG", qty=3,
                       items=[{"code": "SCRATCH", "count": 2}, {"code": "DENT", "count": 1}],
                       docs=[{"id": 7, "name": "coa.pdf", "content_type": "application/pdf"},
                             {"id": 8, "name": "photo.jpg", "content_type": "image/jpeg"}])
    with world.session() as s:
        rec = record_service.get_record(s, world.admin, "lot", rid)
        record_service.update_record(s, world.admin, "lot", rid, rec.version, {"qty": 4}, reason="recount")
    html = admin_client.get(f"/f/lot/{rid}").get_data(as_text=True)
    assert "&lt;b&gt;ACME&lt;/b&gt;" in html and "Fail" in html
    assert html.index("SCRATCH") < html.index("DENT") and "Defect code" in html
    assert 'href="/files/7"' in html and 'src="/files/8"' in html
    timeline = html[html.index("Timeline"):]
    assert "Admin A" in timeline and "created the record" in timeline and "changed the record" in timeline
    assert "recount" in timeline and re.search(r"Quantity</span>:\s*3 → 4", timeline)
    assert admin_client.get(f"/f/lot/{rid + 1000}").status_code == 404


def test_detail_respects_read_scope(world):
    theirs = world.create(world.other, lot_no="THEIRS")
    client = login(world.app.test_client(), "alpha", "owner@a.example")
    assert client.get(f"/f/lot/{theirs}").status_code == 404


def test_delete_needs_csrf_and_current_version(world):
    world.app.config["WTF_CSRF_ENABLED"] = True
    client = login(world.app.test_client(), "alpha", "admin@a.example")
    rid = world.create(world.admin, lot_no="DEL-1")
    assert client.post(f"/f/lot/{rid}/delete", data={"version": 1}).status_code == 400
    page = client.get(f"/f/lot/{rid}").get_data(as_text=True)
    token = csrf_of(page)
    assert 'data-confirm=' in page
    res = client.post(f"/f/lot/{rid}/delete", data={"version": 7, "csrf_token": token})
    assert res.status_code == 302 and client.get(f"/f/lot/{rid}").status_code == 200     # stale: kept
    res = client.post(f"/f/lot/{rid}/delete", data={"version": 1, "csrf_token": token}, follow_redirects=True)
    assert res.status_code == 200 and f"Record {rid} deleted" in res.get_data(as_text=True)
    assert client.get(f"/f/lot/{rid}").status_code == 404


def test_delete_outside_delete_scope_is_refused(world):
    theirs = world.create(world.other, lot_no="THEIRS")
    client = login(world.app.test_client(), "alpha", "owner@a.example")
    page = client.get("/f/lot").get_data(as_text=True)
    res = client.post(f"/f/lot/{theirs}/delete", data={"version": 1, "csrf_token": csrf_of(page)})
    assert res.status_code == 404
    with world.session() as s:
        assert record_service.get_record(s, world.admin, "lot", theirs).id == theirs


def test_export_csv_and_xlsx_follow_the_list(world, admin_client):
    for lot, res in (("E-1", "OK"), ("E-2", "NG"), ("E-3", "NG")):
        world.create(world.admin, lot_no=lot, result=res, items=[{"code": "X", "count": 1}])
    res = admin_client.get("/f/lot/export.csv?f_result=NG&sort=lot_no")
    assert res.status_code == 200 and res.headers["Content-Disposition"].startswith("attachment")
    rows = list(csv.reader(io.StringIO(res.get_data(as_text=True).lstrip("\ufeff"))))
    lot_col = next(i for i, h in enumerate(rows[0]) if "lot_no" in h or "Lot" in h or "批号" in h)
    assert [r[lot_col] for r in rows[1:]] == ["E-2", "E-3"]
    res = admin_client.get("/f/lot/export.xlsx?q=E-1&cols=lot_no,result")
    book = load_workbook(io.BytesIO(res.data))
    sheet = book.worksheets[0]
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert len(values) == 2 and "E-1" in values[1] and len(values[0]) == 4      # id, serial, 2 chosen columns
    assert admin_client.get("/f/lot/export.pdf").status_code == 404


def _xlsx(rows: list[list]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _post_import(client, data: bytes, name: str, action: str, **extra):
    page = client.get("/f/lot/import").get_data(as_text=True)
    form = {"file": (io.BytesIO(data), name), "action": action, "csrf_token": csrf_of(page), **extra}
    return client.post("/f/lot/import", data=form, content_type="multipart/form-data")


def _wait(client, job_id: int, timeout: float = 30) -> dict:
    deadline = time.time() + timeout
    while time.time() < deadline:
        body = client.get(f"/jobs/{job_id}").get_json()
        if body["status"] in ("done", "failed"):
            return body
        time.sleep(0.05)
    raise AssertionError("job did not finish")


def _count(world, actor) -> int:
    with world.session() as s:
        return record_service.query_records(s, actor, "lot").total


def test_import_dry_run_lists_problems_and_error_workbook(world, admin_client):
    data = _xlsx([["lot_no", "qty", "result"], ["OK-1", 5, "OK"], [None, "many", "MAYBE"], ["OK-2", 1, "NG"]])
    res = _post_import(admin_client, data, "lots.xlsx", "check")
    html = res.get_data(as_text=True)
    assert res.status_code == 200 and "problem(s) in" in html
    assert re.search(r"<td>3</td>", html)                        # the bad row, numbered as in Excel
    link = re.search(r'href="(/f/lot/import/[0-9a-f]{32}/errors\.xlsx[^"]*)"', html).group(1).replace("&amp;", "&")
    book = load_workbook(io.BytesIO(admin_client.get(link).data))
    rows = [[c.value for c in r] for r in book.worksheets[0].iter_rows()]
    assert rows[2][-1] and not rows[1][-1]                     # error column filled for row 3 only
    assert _count(world, world.admin) == 0                       # a dry run writes nothing
    other = login(world.app.test_client(), "alpha", "owner@a.example")
    assert other.get(link).status_code == 404                    # someone else's upload


def test_import_job_runs_with_progress_and_upsert_rerun_creates_no_duplicates(world, admin_client, monkeypatch):
    from runtime import jobs as runner
    seen = []
    real_report = runner.report_live
    monkeypatch.setattr(runner, "report_live", lambda j, d, t: (seen.append((d, t)), real_report(j, d, t)))
    data = _xlsx([["lot_no", "qty", "supplier_name"]] + [[f"IMP-{i:03d}", i, "ACME"] for i in range(120)])
    res = _post_import(admin_client, data, "lots.xlsx", "run", mode="upsert", key_field="lot_no")
    assert res.status_code == 302
    job_id = int(res.headers["Location"].rstrip("/").split("/")[-1])
    page = admin_client.get(res.headers["Location"]).get_data(as_text=True)
    assert f'data-job-url="/jobs/{job_id}"' in page
    body = _wait(admin_client, job_id)
    assert body["status"] == "done" and body["result"]["created"] == 120 and body["total"] > 0
    assert body["done"] == body["total"] == 240                 # check pass + write pass
    assert len(seen) > 10 and [d for d, _ in seen] == sorted(d for d, _ in seen) and seen[-1] == (240, 240)
    assert _count(world, world.admin) == 120
    again = _post_import(admin_client, data, "lots.xlsx", "run", mode="upsert", key_field="lot_no")
    body = _wait(admin_client, int(again.headers["Location"].split("/")[-1]))
    assert body["status"] == "done" and body["result"]["created"] == 0 and body["result"]["unchanged"] == 120
    assert _count(world, world.admin) == 120
    # the job is private to its owner and tenant
    assert login(world.app.test_client(), "alpha", "owner@a.example").get(f"/jobs/{job_id}").status_code == 404
    assert login(world.app.test_client(), "beta", "admin@b.example").get(f"/jobs/{job_id}").status_code == 404


def test_failing_import_writes_nothing(world, admin_client):
    rows = [["lot_no", "qty"]] + [[f"F-{i}", i] for i in range(50)] + [[None, "x"]]
    res = _post_import(admin_client, _xlsx(rows), "lots.xlsx", "run")
    body = _wait(admin_client, int(res.headers["Location"].split("/")[-1]))
    assert body["status"] == "failed" and "nothing was imported" in body["error"]
    assert body["result"]["problems"] and body["result"]["problems"][0]["row"] == 52
    assert _count(world, world.admin) == 0


def test_import_failure_while_writing_rolls_back_everything(world, admin_client, monkeypatch):
    calls = {"n": 0}
    real = record_service.create_record

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 30:
            raise RuntimeError("disk full")
        return real(*args, **kwargs)
    monkeypatch.setattr(record_service, "create_record", flaky)
    rows = [["lot_no"]] + [[f"W-{i}"] for i in range(40)]
    res = _post_import(admin_client, _xlsx(rows), "lots.csv".replace("csv", "xlsx"), "run", key_field="lot_no")
    body = _wait(admin_client, int(res.headers["Location"].split("/")[-1]))
    assert body["status"] == "failed" and "disk full" in body["error"]
    assert _count(world, world.admin) == 0
    monkeypatch.setattr(record_service, "create_record", real)
    res = _post_import(admin_client, _xlsx(rows), "lots.xlsx", "run", key_field="lot_no")
    assert _wait(admin_client, int(res.headers["Location"].split("/")[-1]))["status"] == "done"
    assert _count(world, world.admin) == 40


def test_import_csv_and_bad_files(world, admin_client):
    res = _post_import(admin_client, "lot_no,qty\nC-1,3\n".encode(), "lots.csv", "check")
    assert "No problems found" in res.get_data(as_text=True)
    res = _post_import(admin_client, b"hello", "lots.txt", "check")
    assert res.status_code == 422 and ".xlsx" in res.get_data(as_text=True)
    res = _post_import(admin_client, b"\x00\x01garbage", "lots.xlsx", "check")
    assert res.status_code == 422


def test_import_page_needs_create_or_update(world):
    with world.session() as s:
        from engine.services import accounts
        accounts.create_role(s, world.tenant_a, "viewer", {"zh-CN": "查看", "en": "Viewer"})
        accounts.set_permissions(s, world.tenant_a, "viewer", "form:lot", {"read": "all"})
        accounts.create_user(s, world.tenant_a, "viewer@a.example", "Vera", "correct-horse-9", roles=["viewer"])
    client = login(world.app.test_client(), "alpha", "viewer@a.example")
    assert client.get("/f/lot/import").status_code == 403
    assert client.get("/f/lot").status_code == 200
