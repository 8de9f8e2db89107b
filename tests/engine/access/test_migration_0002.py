"""Migration 0002 upgrades a database at 0001 that already holds data, keeping every row."""
from datetime import datetime, timezone

from sqlalchemy import inspect, text

from engine.storage.db import upgrade_database


def upgrade_keeps_data(engine) -> None:
    """Migrate ``engine`` (an empty schema) to 0001, add data, upgrade to head, check it."""
    upgrade_database(engine, "0001")
    now = datetime(2026, 4, 1, tzinfo=timezone.utc)
    with engine.begin() as conn:
        tenant = conn.execute(text("INSERT INTO tenants (key, name, created_at) VALUES ('acme', 'Acme', :n) "
                                   "RETURNING id"), {"n": now}).scalar_one()
        conn.execute(text("INSERT INTO users (tenant_id, email, name, password_hash, is_active, is_admin, lang, "
                          "created_at) VALUES (:t, 'qa@acme.com', 'QA', 'h', true, true, 'en', :n)"),
                     {"t": tenant, "n": now})
    upgrade_database(engine)
    with engine.begin() as conn:
        row = conn.execute(text("SELECT email, name, is_admin, lang, department_id, attributes, is_external "
                                "FROM users WHERE tenant_id = :t"), {"t": tenant}).one()
        assert (row.email, row.name, bool(row.is_admin), row.lang) == ("qa@acme.com", "QA", True, "en")
        assert row.department_id is None and row.attributes is None and not row.is_external
        dept = conn.execute(text("INSERT INTO departments (tenant_id, key, name) VALUES (:t, 'qa', '{}') "
                                 "RETURNING id"), {"t": tenant}).scalar_one()
        conn.execute(text("UPDATE users SET department_id = :d"), {"d": dept})
    names = set(inspect(engine).get_table_names())
    assert {"departments", "roles", "user_roles", "permissions", "api_tokens", "login_attempts"} <= names
    fks = {fk["referred_table"] for fk in inspect(engine).get_foreign_keys("users")}
    assert fks == {"tenants", "departments"}


def test_upgrade_from_0001_keeps_data_on_sqlite(tmp_path):
    from engine.storage.db import make_engine
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        upgrade_keeps_data(engine)
    finally:
        engine.dispose()
