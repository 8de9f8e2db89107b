"""Uploads: refused by size (clear 413) and type (allow-list, sniffed images, never pages or
programs), never executable when served, stored under generated names."""
from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from engine.services import accounts
from engine.services import forms as form_service
from engine.storage.db import session_scope
from tests.runtime.entry.conftest import PNG
from tests.runtime.web_support import csrf_from, make_app, sign_in

FORM = {"format": 1, "key": "evidence", "label": {"zh-CN": "证据", "en": "Evidence"}, "fields": [
    {"key": "subject", "type": "text", "label": {"zh-CN": "标题", "en": "Title"}},
    {"key": "photo", "type": "image", "label": {"zh-CN": "照片", "en": "Photo"}},
    # A careless designer allowed pages and scripts: they are refused all the same
    {"key": "docs", "type": "attachment", "label": {"zh-CN": "附件", "en": "Documents"},
     "accept": [".pdf", ".txt", ".html", ".svg", ".js", ".exe"]},
]}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("uploads")
    app = make_app(tmp, QMS_MAX_UPLOAD_MB="1", MAX_CONTENT_LENGTH=2 * 1024 * 1024)
    with session_scope(app.extensions["qms_db"]) as s:
        form_service.publish_form(s, accounts.actor_for_user(s, 1), FORM)
    client = app.test_client()
    sign_in(client)
    client.csrf = csrf_from(client, "/")
    return app, client


def upload(client, data: bytes, name: str, field: str = "docs"):
    return client.post("/files", data={"file": (io.BytesIO(data), name), "form": "evidence", "field": field},
                       headers={"X-CSRFToken": client.csrf}, content_type="multipart/form-data")


def test_too_large_is_a_clear_413_from_the_view_and_from_the_body_cap(site):
    _, client = site
    over_field = upload(client, b"a" * (1024 * 1024 + 10), "big.txt")
    assert over_field.status_code == 413 and "1.0 MB" in over_field.get_json()["error"]["message"]
    over_cap = upload(client, b"a" * (3 * 1024 * 1024), "huge.txt")       # refused before it is read
    assert over_cap.status_code == 413
    assert over_cap.get_json()["error"]["message"] == "上传内容太大"      # the admin's language, not werkzeug's page


@pytest.mark.parametrize("name, data", [
    ("page.html", b"<html><script>alert(1)</script></html>"),
    ("PAGE.HTM", b"<script>alert(1)</script>"),
    ("logo.svg", b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>"),
    ("app.js", b"alert(1)"),
    ("tool.exe", b"MZ\x90\x00"),
])
def test_pages_scripts_and_programs_are_refused_even_when_the_field_allows_them(site, name, data):
    _, client = site
    refused = upload(client, data, name)
    assert refused.status_code == 422 and "出于安全原因不接受" in refused.get_json()["error"]["message"]


def test_images_are_checked_by_their_bytes(site):
    _, client = site
    assert upload(client, b"<html><script>alert(1)</script>", "fake.png", field="photo").status_code == 422
    assert upload(client, b"%PDF-1.4 not an image", "scan.pdf", field="photo").status_code == 422
    assert upload(client, PNG, "defect.png", field="photo").status_code == 201


def test_served_files_never_run(site):
    _, client = site
    text = upload(client, b"<html><script>alert(1)</script></html>", "notes.txt").get_json()
    got = client.get(text["url"])
    assert got.headers["Content-Type"].startswith("text/plain")
    assert got.headers["Content-Disposition"].startswith("attachment")
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert got.headers["Content-Security-Policy"] == "default-src 'none'; img-src 'self'; sandbox"   # kept, not replaced
    image = client.get(upload(client, PNG, "defect.png", field="photo").get_json()["url"])
    assert image.headers["Content-Disposition"].startswith("inline") and image.headers["Content-Type"] == "image/png"
    assert "sandbox" in image.headers["Content-Security-Policy"]


@pytest.mark.parametrize("name, shown", [
    ("../../../etc/passwd.txt", "passwd.txt"),
    ("..\\..\\windows\\evil.pdf", "evil.pdf"),
    ("a<b>:|?*.txt", "a_b_.txt"),
])
def test_names_never_reach_the_file_system(site, name, shown):
    app, client = site
    response = upload(client, b"%PDF-1.4 x" if name.endswith(".pdf") else b"text", name)
    body = response.get_json()
    assert response.status_code == 201, body
    assert body["name"] == shown
    folder = Path(app.config["QMS_SETTINGS"].uploads_dir)
    assert all(re.fullmatch(r"[0-9a-f]{48}", p.name) for p in folder.iterdir())
    assert not (folder.parent.parent / "etc").exists()
