"""Fast paths of record writes: one INSERT per sub-table level, the created record built from
what was written (equal to reading it back), published forms reused only while current, and
the audit chain of a new record. Re-run on PostgreSQL by tests/integration."""
from sqlalchemy import event

from engine.services import records as record_service
from engine.storage import audit, form_store, naming
from engine.storage.db import make_engine, session_scope
from tests.engine.services.support import create, definition, field_of, get, lot, publish, publish_iqc, update

IQC = "iqc_inspection"


def _inserts_into(engine, fn):
    """Run fn(); return the INSERT statements it sent, grouped by table name (executemany = one)."""
    seen = []

    def listen(_conn, _cur, statement, _params, _ctx, _many):
        if statement.lstrip().upper().startswith("INSERT"):
            seen.append(statement.split()[2].strip('"'))
    event.listen(engine, "before_cursor_execute", listen)
    try:
        result = fn()
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    return result, seen


def test_each_sub_table_level_is_inserted_with_one_statement(db_engine, actor):
    supplier = publish_iqc(db_engine, actor)
    data = lot(supplier.id)
    data["characteristics"] = [dict(data["characteristics"][0], name=f"C{i}") for i in range(4)]
    made, inserts = _inserts_into(db_engine, lambda: create(db_engine, actor, IQC, data))
    top = naming.record_table_name(actor.tenant_id, IQC)
    assert inserts.count(f"{top}__characteristics") == 1                # 4 rows, one statement
    assert inserts.count(f"{top}__characteristics__readings") == 1      # 12 rows under 4 parents
    assert made == get(db_engine, actor, IQC, made.id)                   # what was written is what is read
    chars = made.data["characteristics"]
    assert [c["name"] for c in chars] == ["C0", "C1", "C2", "C3"]
    assert [[r["value"] for r in c["readings"]] for c in chars] == [[10.01, 9.98, 10.04]] * 4
    ids = [r["id"] for c in chars for r in c["readings"]]
    assert len(set(ids)) == 12


def test_update_mixing_kept_new_and_removed_rows_keeps_order_and_parents(db_engine, actor):
    supplier = publish_iqc(db_engine, actor)
    made = create(db_engine, actor, IQC, lot(supplier.id))
    first, second = made.data["characteristics"]
    new_first = dict(first, readings=[first["readings"][2], {"value": 10.0}, first["readings"][0]])
    added = {"name": "Height", "nominal": 2, "lsl": 1.9, "usl": 2.1, "readings": [{"value": 2.0}, {"value": 2.05}]}
    changed = update(db_engine, actor, IQC, made.id, 1, {"characteristics": [added, new_first]})
    assert changed == get(db_engine, actor, IQC, made.id)
    chars = changed.data["characteristics"]
    assert [c["name"] for c in chars] == ["Height", "Length"]          # "Width" removed
    assert chars[1]["id"] == first["id"] and second["id"] not in {c["id"] for c in chars}
    assert [r["value"] for r in chars[1]["readings"]] == [10.04, 10.0, 10.01]
    assert chars[1]["readings"][0]["id"] == first["readings"][2]["id"]
    assert [r["value"] for r in chars[0]["readings"]] == [2.0, 2.05]


def test_a_newly_published_version_is_used_at_once(db_engine, actor):
    publish(db_engine, actor, definition("supplier"))
    with session_scope(db_engine) as s:
        assert form_store.load_published(s, actor.tenant_id, "supplier").form.version == 1
    changed = definition("supplier")
    field_of(changed, "name")["max_length"] = 77
    publish(db_engine, actor, changed)              # as another process would: only the database knows
    with session_scope(db_engine) as s:
        pub = form_store.load_published(s, actor.tenant_id, "supplier")
        old = form_store.load_published(s, actor.tenant_id, "supplier", 1)
    assert (pub.form.version, pub.current_version) == (2, 2)
    assert pub.form.field("name").max_length == 77 and old.form.field("name").max_length != 77
    assert old.form.version == 1 and old.spec is pub.spec                 # old definition, newest layout


def test_forms_of_different_databases_are_never_mixed(db_engine, actor, tmp_path):
    publish(db_engine, actor, definition("supplier"))
    elsewhere = make_engine(f"sqlite:///{tmp_path / 'other.db'}")
    try:
        from engine.storage.db import upgrade_database
        from tests.engine.storage.support import create_tenant
        upgrade_database(elsewhere)
        while create_tenant(elsewhere) < actor.tenant_id:
            pass
        changed = definition("supplier")
        field_of(changed, "name")["max_length"] = 55
        publish(elsewhere, actor, changed)
        with session_scope(elsewhere) as s:
            assert form_store.load_published(s, actor.tenant_id, "supplier").form.field("name").max_length == 55
        with session_scope(db_engine) as s:
            assert form_store.load_published(s, actor.tenant_id, "supplier").form.field("name").max_length != 55
    finally:
        elsewhere.dispose()


def test_a_deleted_records_id_is_never_handed_out_again_so_new_timelines_start_fresh(db_engine, actor):
    supplier = publish_iqc(db_engine, actor)
    made = create(db_engine, actor, IQC, lot(supplier.id, "LOT-A"))
    with session_scope(db_engine) as s:
        record_service.delete_record(s, actor, IQC, made.id, 1)
    again = create(db_engine, actor, IQC, lot(supplier.id, "LOT-B"))
    assert again.id > made.id           # SQLite too: record tables are AUTOINCREMENT
    with session_scope(db_engine) as s:
        assert audit.verify_chain(s, actor.tenant_id, IQC, made.id) == []
        assert audit.verify_chain(s, actor.tenant_id, IQC, again.id) == []
        entries = audit.entries(s, actor.tenant_id, IQC, again.id)
    assert [e["action"] for e in entries] == ["create"]


def test_an_older_sqlite_table_that_may_reuse_ids_keeps_chaining_from_the_ids_history(tmp_path):
    from sqlalchemy import text
    from engine.storage.db import make_engine
    from engine.storage.record_tables import TableSpec
    from engine.storage.records import ids_never_reused
    engine = make_engine(f"sqlite:///{tmp_path}/old.db")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t9_old (id INTEGER PRIMARY KEY, tenant_id INTEGER)"))
        conn.execute(text("CREATE TABLE t9_new (id INTEGER PRIMARY KEY AUTOINCREMENT, tenant_id INTEGER)"))
    with session_scope(engine) as s:
        assert ids_never_reused(s, TableSpec("t9_old", ())) is False
        assert ids_never_reused(s, TableSpec("t9_new", ())) is True
    engine.dispose()


def _statements(engine, fn):
    seen = []

    def listen(_conn, _cur, statement, _params, _ctx, _many):
        seen.append(" ".join(statement.split()))
    event.listen(engine, "before_cursor_execute", listen)
    try:
        fn()
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    return seen


def test_a_create_asks_for_the_newest_version_once_and_skips_the_audit_lookup(db_engine, actor):
    supplier = publish_iqc(db_engine, actor)
    create(db_engine, actor, IQC, lot(supplier.id, "LOT-W"))     # warm: tables known

    def twice_in_one_unit_of_work():
        with session_scope(db_engine) as s:
            form_store.load_published(s, actor.tenant_id, IQC)
            record_service.create_record(s, actor, IQC, lot(supplier.id, "LOT-X"))
    seen = _statements(db_engine, twice_in_one_unit_of_work)
    assert sum("FROM form_versions" in q for q in seen) == 2     # the form, and the supplier form it references
    assert not any(q.startswith("SELECT audit_log.entry_hash") for q in seen)


def test_a_version_published_in_the_session_is_seen_there_and_forgotten_on_rollback(db_engine, actor):
    publish(db_engine, actor, definition("supplier"))
    changed = definition("supplier")
    field_of(changed, "name")["max_length"] = 66
    from engine.services import forms as form_service
    from sqlalchemy.orm import Session
    with Session(db_engine) as s:
        assert form_store.load_published(s, actor.tenant_id, "supplier").form.version == 1
        form_service.publish_form(s, actor, changed)
        assert form_store.load_published(s, actor.tenant_id, "supplier").form.field("name").max_length == 66
        s.rollback()
        assert form_store.load_published(s, actor.tenant_id, "supplier").form.version == 1
