"""``qms backup`` / ``qms restore`` on PostgreSQL (pg_dump / pg_restore): a round trip into a second
fresh database and back over the damaged original loses nothing."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import inspect, text

from engine.services import audit_verify
from engine.storage.audit import verify_chain
from engine.storage.db import make_engine
from tests.integration.conftest import PG_URL, _reachable, services_required
from tests.runtime.test_backup_cli import PDF, Site, damage, qms
from tests.runtime.web_support import sign_in

pytestmark = pytest.mark.integration


@pytest.fixture
def databases():
    """A factory of fresh databases (``qms_bk_<random>``), all dropped WITH (FORCE) at the end."""
    admin = make_engine(PG_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    problem = _reachable(admin)
    if problem:
        admin.dispose()
        (pytest.fail if services_required() else pytest.skip)(f"PostgreSQL is not reachable: {problem}")
    made: list[str] = []

    def create() -> str:
        name = f"qms_bk_{uuid.uuid4().hex[:10]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        made.append(name)
        return PG_URL.rsplit("/", 1)[0] + "/" + name

    yield create
    with admin.connect() as conn:
        for name in made:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def dump_all(url: str) -> dict[str, list[str]]:
    """Every table's rows, sorted."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return {n: sorted(map(repr, conn.execute(text(f'SELECT * FROM "{n}"'))))
                    for n in inspect(conn).get_table_names()}
    finally:
        engine.dispose()


def use(monkeypatch, url: str, directory) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("QMS_DATA_DIR", str(directory))
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "false")


def test_postgres_round_trip_into_a_fresh_and_the_damaged_database(databases, tmp_path, monkeypatch):
    url = databases()
    site = Site(tmp_path / "site", url).populate()
    site.stop()
    before = dump_all(url)
    uploads = {p.name: p.read_bytes() for p in (site.dir / "uploads").iterdir()}
    use(monkeypatch, url, site.dir)
    archive = tmp_path / "pg.tar.gz"
    made = qms("backup", "-o", str(archive))
    assert made.exit_code == 0, made.output

    # into a second, fresh database and data directory: no --force needed
    other = databases()
    use(monkeypatch, other, tmp_path / "other")
    restored = qms("restore", str(archive))
    assert restored.exit_code == 0, restored.output
    assert dump_all(other) == before
    assert {p.name: p.read_bytes() for p in (tmp_path / "other" / "uploads").iterdir()} == uploads

    # damage the original, then restore over it
    first, second = site.ids
    damage(site)
    use(monkeypatch, url, site.dir)
    assert qms("restore", str(archive)).exit_code == 1          # holds data: --force required
    restored = qms("restore", str(archive), "--force")
    assert restored.exit_code == 0, restored.output
    assert "MISMATCH" not in restored.output
    assert dump_all(url) == before
    assert (site.dir / "uploads" / site.upload_key).read_bytes() == PDF

    client = site.app.test_client()
    sign_in(client)
    assert client.get(f"/f/lot/{first}").status_code == 200
    with site.session() as s:
        for record_id in site.ids:
            assert verify_chain(s, site.admin.tenant_id, "lot", record_id) == []
        assert audit_verify.verify_tenant(s, site.admin.tenant_id).ok        # the whole tenant's chain

    # a PostgreSQL backup is not restored into SQLite
    use(monkeypatch, f"sqlite:///{tmp_path}/x.db", tmp_path / "x")
    wrong = qms("restore", str(archive), "--force")
    assert wrong.exit_code == 1 and "backup of a PostgreSQL database" in wrong.output
    assert not (tmp_path / "x.db").exists()
