"""Uploads and downloads: limits, sniffed types, sanitised names, who may read, tenant isolation, CSRF."""
from __future__ import annotations

import io
from pathlib import Path

from engine.services import records
from tests.runtime.entry.conftest import PNG, post_json


def upload(client, data: bytes, name: str, form: str | None = "note", field: str | None = "photo", csrf=True):
    fields = {"file": (io.BytesIO(data), name)}
    if form:
        fields["form"] = form
    if field:
        fields["field"] = field
    headers = {"X-CSRFToken": client.csrf} if csrf else {}
    return client.post("/files", data=fields, headers=headers, content_type="multipart/form-data")


def test_upload_keeps_the_bytes_outside_the_web_root(world, as_clerk):
    res = upload(as_clerk, PNG, "defect.png")
    assert res.status_code == 201, res.get_json()
    body = res.get_json()
    assert body["content_type"] == "image/png" and body["size"] == len(PNG) and body["url"] == f"/files/{body['id']}"
    stored = list((Path(world.app.config["QMS_SETTINGS"].uploads_dir)).iterdir())
    assert len(stored) == 1 and stored[0].read_bytes() == PNG and "defect" not in stored[0].name
    static = Path(world.app.static_folder).resolve()
    assert static not in stored[0].resolve().parents
    got = as_clerk.get(body["url"])
    assert got.status_code == 200 and got.data == PNG
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert got.headers["Content-Type"] == "image/png" and got.headers["Content-Disposition"].startswith("inline")


def test_documents_download_as_attachments_with_clean_names(world, as_clerk):
    res = upload(as_clerk, b"hello", "../../etc/<evil>.txt", field="docs")
    assert res.status_code == 201, res.get_json()
    assert res.get_json()["name"] == "_evil_.txt"
    got = as_clerk.get(res.get_json()["url"])
    assert got.headers["Content-Disposition"].startswith("attachment") and "_evil_.txt" in got.headers["Content-Disposition"]
    assert got.headers["X-Content-Type-Options"] == "nosniff"


def test_type_and_size_limits(world, as_clerk):
    assert upload(as_clerk, b"<html><script>alert(1)</script>", "fake.png").status_code == 422   # not an image
    assert upload(as_clerk, PNG, "x.csv", field="docs").status_code == 422              # field accepts .pdf/.txt
    assert upload(as_clerk, b"MZ\x90\x00", "tool.exe", form=None, field=None).status_code == 422  # safe default list
    assert upload(as_clerk, b"<svg onload=alert(1)>", "logo.svg", form=None, field=None).status_code == 422
    big = upload(as_clerk, b"a" * (1024 * 1024 + 10), "big.txt", field="docs")           # QMS_MAX_UPLOAD_MB = 1
    assert big.status_code == 413 and "1.0 MB" in big.get_json()["error"]["message"]
    assert upload(as_clerk, b"", "empty.txt", field="docs").status_code == 422
    assert upload(as_clerk, PNG, "x.png", field="subject").status_code == 404            # not a file field
    assert upload(as_clerk, PNG, "x.png", form="iqc_inspection", field="photos").status_code == 403  # no right to fill it


def test_only_the_uploader_reads_a_file_before_the_record_is_saved(world, as_clerk, as_other, as_admin):
    url = upload(as_clerk, PNG, "a.png").get_json()["url"]
    assert as_clerk.get(url).status_code == 200
    assert as_other.get(url).status_code == 404
    assert as_admin.get(url).status_code == 404


def test_after_saving_everyone_who_can_read_the_record_reads_its_files(world, as_clerk, as_other, as_admin,
                                                                     as_admin_b):
    photo = upload(as_clerk, PNG, "a.png").get_json()
    res = post_json(as_clerk, "/f/note/new", {"data": {"subject": "With photo", "photo": [photo]}}, as_clerk.csrf)
    assert res.status_code == 201, res.get_json()
    assert as_admin.get(photo["url"]).status_code == 200       # may read the record
    assert as_clerk.get(photo["url"]).status_code == 200
    assert as_other.get(photo["url"]).status_code == 404       # reads own records only
    assert as_admin_b.get(photo["url"]).status_code == 404     # another tenant
    with world.session() as s:
        record = records.get_record(s, world.admin, "note", res.get_json()["id"])
    assert record.data["photo"][0]["id"] == photo["id"]


def test_a_record_cannot_take_someone_elses_file(world, as_clerk, as_other):
    theirs = upload(as_clerk, PNG, "a.png").get_json()
    res = post_json(as_other, "/f/note/new", {"data": {"subject": "Grab", "photo": [theirs]}}, as_other.csrf)
    assert res.status_code == 422
    assert [e["field"] for e in res.get_json()["errors"]] == ["photo"]
    assert as_other.get(theirs["url"]).status_code == 404


def test_tenant_b_gets_404_for_tenant_a_files(world, as_admin, as_admin_b):
    url = upload(as_admin, PNG, "a.png").get_json()["url"]
    assert as_admin_b.get(url).status_code == 404
    assert as_admin_b.get("/files/999999").status_code == 404


def test_upload_needs_csrf_and_a_signed_in_user(world, as_clerk):
    assert upload(as_clerk, PNG, "a.png", csrf=False).status_code == 400
    anonymous = world.app.test_client()
    res = anonymous.post("/files", data={"file": (io.BytesIO(PNG), "a.png")}, content_type="multipart/form-data")
    assert res.status_code in (302, 400)
    assert not (Path(world.app.config["QMS_SETTINGS"].uploads_dir)).exists() or \
        not list(Path(world.app.config["QMS_SETTINGS"].uploads_dir).iterdir())
