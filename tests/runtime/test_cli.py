"""The ``qms`` admin commands: tenants, users, passwords, API tokens, app packages (Flask's CliRunner)."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from sqlalchemy import select

import app as app_module
from engine.auth.passwords import verify_password
from engine.services import accounts
from engine.services import apps as app_service
from engine.storage.db import session_scope
from engine.storage.platform import api_tokens, apps as apps_table, tenants, users
from engine.types import Actor

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "definitions"


def definition(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def package(version: str = "1.0.0") -> dict:
    return {"format": 1, "key": "iqc", "version": version, "label": {"zh-CN": "来料检验", "en": "Incoming inspection"},
            "forms": [definition("all_field_types"), definition("supplier")]}


@pytest.fixture()
def app(tmp_path):
    flask_app = app_module.create_app({"QMS_DATA_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/qms.db",
                                       "TESTING": True})
    app_module.prepare_first_start(flask_app.extensions["qms_db"], flask_app.config["QMS_SETTINGS"])
    return flask_app


@pytest.fixture()
def qms(app, monkeypatch):
    """Run a ``qms`` command against the test app: ``qms("create-tenant", "acme", "Acme")``."""
    # FlaskGroup sets FLASK_RUN_FROM_CLI=true in os.environ, which makes app.run() a no-op in
    # every later `python app.py` subprocess; monkeypatch removes it again after the test.
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "false")
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(app_module.cli, list(args))


def rows(app, statement):
    with session_scope(app.extensions["qms_db"]) as s:
        return s.execute(statement).mappings().all()


def user_row(app, email: str):
    return rows(app, select(users).where(users.c.email == email))[0]


def printed_password(output: str) -> str:
    """The generated password the command printed (``Password / 密码: <pw>  (shown once …)``)."""
    line = next(x for x in output.splitlines() if x.startswith("Password / 密码:"))
    return line.split(":", 1)[1].split()[0]


def assert_clean_failure(result, *phrases: str) -> None:
    """Exit status 1, a bilingual message naming the problem, and no traceback."""
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert "错误：" in result.output and "Error: " in result.output
    for phrase in phrases:
        assert phrase in result.output


# ---------------------------------------------------------------------------- tenants and users

def test_create_tenant_then_a_duplicate_is_refused(app, qms):
    result = qms("create-tenant", "acme", "Acme Precision")
    assert result.exit_code == 0, result.output
    assert [(r["key"], r["name"]) for r in rows(app, select(tenants).where(tenants.c.key == "acme"))] == [
        ("acme", "Acme Precision")]
    assert_clean_failure(qms("create-tenant", "acme", "Again"), "'acme' already exists", "已存在")


def test_create_tenant_rejects_a_bad_key(app, qms):
    assert_clean_failure(qms("create-tenant", "Bad Key", "x"), "Invalid", "Bad Key")
    assert rows(app, select(tenants).where(tenants.c.name == "x")) == []


def test_create_user_with_password_roles_and_admin(app, qms):
    qms("create-tenant", "acme", "Acme")
    with session_scope(app.extensions["qms_db"]) as s:
        tenant_id = accounts.tenant_id_by_key(s, "acme")
        accounts.create_role(s, tenant_id, "inspector", {"zh-CN": "检验员", "en": "Inspector"})
    result = qms("create-user", "--tenant", "acme", "--email", "QE@Acme.example", "--name", "Li Wei",
                 "--password", "s3cret-pass", "--admin", "--role", "inspector")
    assert result.exit_code == 0, result.output
    assert "s3cret-pass" not in result.output                      # a given password is never echoed
    row = user_row(app, "qe@acme.example")
    assert row["tenant_id"] == tenant_id and row["name"] == "Li Wei" and row["is_admin"]
    assert verify_password(row["password_hash"], "s3cret-pass")
    with session_scope(app.extensions["qms_db"]) as s:
        assert accounts.actor_for_user(s, row["id"]).roles == ("inspector",)


def test_create_user_generates_and_prints_a_password(app, qms):
    result = qms("create-user", "--email", "op@example.com", "--name", "Operator")
    assert result.exit_code == 0, result.output
    generated = printed_password(result.output)
    row = user_row(app, "op@example.com")
    assert not row["is_admin"] and verify_password(row["password_hash"], generated)


@pytest.mark.parametrize("args, phrases", [
    (["--tenant", "nope", "--email", "a@example.com"], ["Tenant 'nope' does not exist"]),
    (["--email", "not-an-email"], ["Invalid email"]),
    (["--email", "a@example.com", "--password", "short"], ["at least 10 characters"]),
    (["--email", "a@example.com", "--role", "ghost"], ["Role 'ghost' does not exist"]),
    (["--email", "admin@example.com"], ["already in use"]),
])
def test_create_user_mistakes_fail_cleanly_and_write_nothing(app, qms, args, phrases):
    before = len(rows(app, select(users)))
    assert_clean_failure(qms("create-user", *args), *phrases)
    assert len(rows(app, select(users))) == before


def test_create_user_needs_an_email(qms):
    result = qms("create-user", "--name", "x")
    assert result.exit_code == 2 and "--email" in result.output


# ---------------------------------------------------------------------------- passwords and tokens

def test_reset_password_with_given_and_generated_password(app, qms):
    qms("create-user", "--email", "op@example.com", "--password", "first-pass")
    assert qms("reset-password", "--email", "OP@example.com", "--password", "second-pass").exit_code == 0
    assert verify_password(user_row(app, "op@example.com")["password_hash"], "second-pass")
    result = qms("reset-password", "--email", "op@example.com")
    generated = printed_password(result.output)
    stored = user_row(app, "op@example.com")["password_hash"]
    assert verify_password(stored, generated) and not verify_password(stored, "second-pass")


def test_reset_password_of_an_unknown_user_or_too_short(app, qms):
    assert_clean_failure(qms("reset-password", "--email", "ghost@example.com"), "ghost@example.com")
    before = user_row(app, "admin@example.com")["password_hash"]
    assert_clean_failure(qms("reset-password", "--email", "admin@example.com", "--password", "1234"), "10")
    assert user_row(app, "admin@example.com")["password_hash"] == before


def test_create_token_prints_a_working_token_once(app, qms):
    result = qms("create-token", "--email", "admin@example.com", "--name", "ERP sync")
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[-1]
    assert token.startswith("qms_")
    stored = rows(app, select(api_tokens))
    assert [r["name"] for r in stored] == ["ERP sync"] and token not in json.dumps([dict(r) for r in stored],
                                                                                   default=str)
    with session_scope(app.extensions["qms_db"]) as s:
        actor = accounts.verify_api_token(s, token)
    assert actor is not None and actor.user_id == user_row(app, "admin@example.com")["id"]
    res = app.test_client().get("/api/v1/health", headers={"Authorization": f"Bearer {token}"})
    assert res.status_code == 200


def test_create_token_for_a_user_of_another_tenant_is_not_found(app, qms):
    qms("create-tenant", "acme", "Acme")
    assert_clean_failure(qms("create-token", "--tenant", "acme", "--email", "admin@example.com", "--name", "x"),
                         "admin@example.com")
    assert rows(app, select(api_tokens)) == []


# ---------------------------------------------------------------------------- app packages

def test_import_app_prints_the_published_forms_and_reimport_is_unchanged(app, qms, tmp_path):
    path = tmp_path / "iqc.json"
    path.write_text(json.dumps(package(), ensure_ascii=False), encoding="utf-8")
    result = qms("import-app", str(path), "--yes")
    assert result.exit_code == 0, result.output
    assert "Installed iqc 1.0.0" in result.output and "version set by the template to 1.0.0" in result.output
    assert "supplier v1" in result.output and "iqc_inspection v1" in result.output
    again = qms("import-app", str(path), "--yes")
    assert again.exit_code == 0 and "nothing to update" in again.output
    assert [r["key"] for r in rows(app, select(apps_table))] == ["iqc"]


def test_import_app_lists_every_problem_and_writes_nothing(app, qms, tmp_path):
    bad = package()
    bad["forms"][1]["fields"][0]["type"] = "no_such_type"
    bad["forms"][0]["key"] = "Bad Key"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad), encoding="utf-8")
    result = qms("import-app", str(path))
    assert_clean_failure(result, "$.forms[0].key", "$.forms[1].fields[0].type")
    assert rows(app, select(apps_table)) == []


@pytest.mark.parametrize("content, phrase", [
    ("{not json", "not valid JSON: line 1"),
    ("[1, 2]", "must hold a JSON object"),
    (None, "Cannot read"),
])
def test_import_app_unreadable_files_fail_cleanly(qms, tmp_path, content, phrase):
    path = tmp_path / "pkg.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    assert_clean_failure(qms("import-app", str(path)), phrase)


def test_import_into_another_tenant(app, qms, tmp_path):
    qms("create-tenant", "acme", "Acme")
    path = tmp_path / "iqc.json"
    path.write_text(json.dumps(package()), encoding="utf-8")
    assert qms("import-app", str(path), "--tenant", "acme", "--yes").exit_code == 0
    tenant_of = {r["id"]: r["key"] for r in rows(app, select(tenants))}
    assert [tenant_of[r["tenant_id"]] for r in rows(app, select(apps_table))] == ["acme"]


def test_export_app_to_stdout_and_file_round_trips(app, qms, tmp_path):
    with session_scope(app.extensions["qms_db"]) as s:
        tenant_id = accounts.tenant_id_by_key(s, "default")
        app_service.import_app(s, Actor.system(tenant_id), copy.deepcopy(package()))
    result = qms("export-app", "iqc")
    assert result.exit_code == 0, result.output
    exported = json.loads(result.stdout)
    assert exported["key"] == "iqc" and [f["key"] for f in exported["forms"]] == ["iqc_inspection", "supplier"]
    assert "来料检验" in result.stdout                               # UTF-8, not \u escapes
    out = tmp_path / "out"
    out.mkdir()
    assert qms("export-app", "iqc", "-o", str(out / "iqc.json")).exit_code == 0
    assert json.loads((out / "iqc.json").read_text(encoding="utf-8")) == exported
    assert_clean_failure(qms("export-app", "nope"), "'nope' does not exist")
    assert_clean_failure(qms("export-app", "iqc", "--tenant", "ghost"), "Tenant 'ghost' does not exist")
