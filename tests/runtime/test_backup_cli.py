"""``qms backup`` / ``qms restore`` on SQLite: a round trip loses nothing; a bad archive or target is refused
and leaves everything as it was."""
from __future__ import annotations

import io
import shutil
import sqlite3
import tarfile
from contextlib import closing
from pathlib import Path

import pytest
from click.testing import CliRunner

import app as app_module
from engine.services import accounts
from engine.services import forms as form_service
from engine.services import records as record_service
from engine.services.backup_db import parse_target, search_path_schema
from engine.services.files import save_file
from engine.services import audit_verify
from engine.storage.audit import verify_chain
from engine.storage.db import session_scope
from tests.runtime.web_support import make_app, sign_in

FORM = {
    "format": 1, "key": "lot", "label": {"zh-CN": "来料批次", "en": "Incoming lot"}, "numbering": "LOT-{0000}",
    "fields": [
        {"key": "lot_no", "type": "text", "label": {"zh-CN": "批号", "en": "Lot no"}, "required": True},
        {"key": "qty", "type": "number", "label": {"zh-CN": "数量", "en": "Quantity"}, "precision": 0},
        {"key": "docs", "type": "attachment", "label": {"zh-CN": "附件", "en": "Documents"}},
        {"key": "items", "type": "subtable", "label": {"zh-CN": "缺陷", "en": "Defects"}, "fields": [
            {"key": "code", "type": "text", "label": {"zh-CN": "代码", "en": "Code"}},
            {"key": "count", "type": "number", "label": {"zh-CN": "数量", "en": "Count"}, "precision": 0}]},
    ],
}
PDF = b"%PDF-1.4\n% certificate of conformance \x00\x01\x02\n"


class Site:
    """A deployment in ``directory`` with records, sub-table rows, an upload, audit entries and users."""

    def __init__(self, directory: Path, database_url: str | None = None):
        self.dir, self.db_path = directory, directory / "qms.db"
        self.app = make_app(directory, **({"DATABASE_URL": database_url} if database_url else {}))

    def populate(self) -> "Site":
        with self.session() as s:
            tenant = accounts.tenant_id_by_key(s, "default")
            admin = accounts.actor_for_user(s, accounts.user_id_by_email(s, tenant, "admin@example.com"))
            accounts.create_user(s, tenant, "ivan@example.com", "Ivan", "ivan-pass-123")
            form_service.publish_form(s, admin, FORM)
            upload = save_file(s, admin, self.dir / "uploads", PDF, "coc.pdf", max_bytes=1_000_000)
            first = record_service.create_record(s, admin, "lot", {
                "lot_no": "L-1", "qty": 500, "docs": [upload.descriptor()],
                "items": [{"code": "SCR", "count": 2}, {"code": "DENT", "count": 1}]})
            second = record_service.create_record(s, admin, "lot", {"lot_no": "L-2", "qty": 80,
                                                                    "items": [{"code": "BUR", "count": 4}]})
            record_service.update_record(s, admin, "lot", second.id, second.version, {"qty": 90}, "recount")
        self.admin, self.ids, self.upload_id, self.upload_key = admin, (first.id, second.id), upload.id, upload.path.name
        return self

    def copy(self, directory: Path, monkeypatch) -> "Site":
        """The same deployment copied to ``directory``, which the ``qms`` commands then use."""
        self.stop()
        shutil.copytree(self.dir, directory)
        site = Site(directory)
        site.admin, site.ids, site.upload_id, site.upload_key = self.admin, self.ids, self.upload_id, self.upload_key
        monkeypatch.setenv("DATABASE_URL", f"sqlite:///{site.db_path}")
        monkeypatch.setenv("QMS_DATA_DIR", str(directory))
        monkeypatch.setenv("FLASK_RUN_FROM_CLI", "false")
        return site

    def session(self):
        return session_scope(self.app.extensions["qms_db"])

    def stop(self) -> None:
        """Like stopping the server before a restore: no open connection to the database."""
        self.app.extensions["qms_db"].dispose()

    def snapshot(self) -> tuple[dict, dict]:
        """Every table's rows (sorted) and every file of the data directory's uploads."""
        self.stop()
        with closing(sqlite3.connect(self.db_path)) as conn:
            names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            tables = {n: sorted(map(repr, conn.execute(f'SELECT * FROM "{n}"'))) for n in names}
        uploads = self.dir / "uploads"
        files = {p.relative_to(uploads).as_posix(): p.read_bytes() for p in uploads.rglob("*") if p.is_file()}
        return tables, files


def qms(*args: str):
    return CliRunner().invoke(app_module.cli, list(args))


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Built once per module (migrations and publishing are the slow part); each test gets a copy."""
    return Site(tmp_path_factory.mktemp("built") / "site").populate()


@pytest.fixture
def site(built, tmp_path, monkeypatch):
    return built.copy(tmp_path / "site", monkeypatch)



def damage(site) -> None:
    """What a restore must undo: a record deleted, one changed, one added, the upload lost."""
    first, second = site.ids
    with site.session() as s:
        record_service.delete_record(s, site.admin, "lot", first, reason="mistake")
        rec = record_service.get_record(s, site.admin, "lot", second)
        record_service.update_record(s, site.admin, "lot", second, rec.version, {"qty": 1, "items": []}, "oops")
        record_service.create_record(s, site.admin, "lot", {"lot_no": "L-3", "qty": 7})
    (site.dir / "uploads" / site.upload_key).unlink()
    site.stop()

def test_round_trip_restores_every_row_and_file(site, tmp_path):
    before = site.snapshot()
    archive = tmp_path / "nightly.tar.gz"
    made = qms("backup", "--output", str(archive))
    assert made.exit_code == 0, made.output
    assert "uploaded files" in made.output and archive.is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]      # no partial file left

    first, second = site.ids
    damage(site)

    refused = qms("restore", str(archive))
    assert refused.exit_code == 1 and "--force" in refused.output

    restored = qms("restore", str(archive), "--force")
    assert restored.exit_code == 0, restored.output
    assert "MISMATCH" not in restored.output and "previous data kept" in restored.output
    assert site.snapshot() == before
    assert list(site.dir.glob("qms.db.before-restore-*"))     # (the emptied uploads dir is not kept)
    assert not list(site.dir.glob(".restore-*"))

    client = site.app.test_client()
    sign_in(client)
    assert client.get(f"/f/lot/{first}").status_code == 200
    assert client.get(f"/files/{site.upload_id}").data == PDF
    with site.session() as s:
        for record_id in site.ids:
            assert verify_chain(s, site.admin.tenant_id, "lot", record_id) == []
        assert audit_verify.verify_tenant(s, site.admin.tenant_id).ok        # the whole tenant's chain
        assert record_service.get_record(s, site.admin, "lot", second).data["qty"] == 90


def _rewrite(archive: Path, dest: Path, change) -> None:
    """Copy ``archive`` to ``dest`` with ``change(name, data) -> data`` applied to each member."""
    with tarfile.open(archive, "r:gz") as src, tarfile.open(dest, "w:gz") as out:
        for member in src:
            data = change(member.name, src.extractfile(member).read())
            member.size = len(data)
            out.addfile(member, io.BytesIO(data))


def test_bad_archives_and_targets_are_refused_and_change_nothing(site, tmp_path, monkeypatch):
    archive = tmp_path / "good.tar.gz"
    assert qms("backup", "-o", str(archive)).exit_code == 0
    before = site.snapshot()
    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    altered = tmp_path / "altered.tar.gz"
    _rewrite(archive, altered, lambda name, data: data.replace(b"conformance", b"CONFORMANCE"))
    foreign = tmp_path / "foreign.tar.gz"
    with tarfile.open(foreign, "w:gz") as tar:
        tar.addfile(tarfile.TarInfo("notes.txt"), io.BytesIO(b""))
    not_tar = tmp_path / "plain.tar.gz"
    not_tar.write_text("hello")

    cases = [(truncated, "truncated"), (altered, "checksum mismatch"), (foreign, "not part of a QMS backup"),
             (not_tar, "not a complete tar.gz"), (tmp_path / "missing.tar.gz", "does not exist")]
    for bad, phrase in cases:
        result = qms("restore", str(bad), "--force")
        assert result.exit_code == 1, (bad, result.output)
        assert phrase in result.output and "错误：" in result.output and "Traceback" not in result.output

    refused = qms("restore", str(archive))           # the site holds data: --force is required
    assert refused.exit_code == 1 and "already holds data" in refused.output

    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    wrong = qms("restore", str(archive), "--force")
    assert wrong.exit_code == 1 and "backup of a SQLite database" in wrong.output and "PostgreSQL" in wrong.output

    assert site.snapshot() == before
    assert not list(site.dir.glob("*before-restore*")) and not list(site.dir.glob(".restore-*"))


def test_restore_into_an_empty_site_needs_no_force(site, tmp_path, monkeypatch):
    archive = tmp_path / "a.tar.gz"
    assert qms("backup", "-o", str(archive)).exit_code == 0
    assert qms("backup", "-o", str(archive)).exit_code == 1       # an existing file is never overwritten
    before = site.snapshot()
    fresh = tmp_path / "fresh"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{fresh}/qms.db")
    monkeypatch.setenv("QMS_DATA_DIR", str(fresh))
    result = qms("restore", str(archive))
    assert result.exit_code == 0, result.output
    with closing(sqlite3.connect(fresh / "qms.db")) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        assert {n: sorted(map(repr, conn.execute(f'SELECT * FROM "{n}"'))) for n in names} == before[0]
    assert {p.name: p.read_bytes() for p in (fresh / "uploads").iterdir()} == before[1]
    assert (fresh / "secret_key").read_text() == (site.dir / "secret_key").read_text()


def test_postgres_urls_become_libpq_connections():
    target = parse_target("postgresql+psycopg://qms:s3cr'et@db.local:6543/prod?sslmode=require"
                          "&options=-csearch_path%3Dtenant_a")
    assert target.dialect == "postgresql" and target.schema == "tenant_a"
    assert target.env == {"PGPASSWORD": "s3cr'et"} and "s3cr" not in target.conninfo
    assert "host='db.local'" in target.conninfo and "port='6543'" in target.conninfo
    assert "dbname='prod'" in target.conninfo and "sslmode='require'" in target.conninfo
    assert parse_target("postgres://u@h/d").conninfo == "host='h' user='u' dbname='d'"
    assert search_path_schema("-c search_path=qa,public") == "qa"
    with pytest.raises(Exception, match="not valid"):
        search_path_schema("-csearch_path=x;drop")
