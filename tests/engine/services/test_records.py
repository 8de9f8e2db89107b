"""Records end to end: publish the all-field-types form, create / get / update / delete, audit,
serial numbers, optimistic locking, tenant isolation. Re-run on PostgreSQL by tests/integration."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import inspect, text, update as sql_update

from engine.errors import Conflict, NotFound, RecordValidationError
from engine.fields.base import StorageKind
from engine.services import records as record_service
from engine.storage import audit, naming
from engine.storage.columns import reflected_spec
from engine.storage.db import session_scope
from engine.storage.platform import audit_log
from engine.types import Actor
from tests.engine.services.support import NOW, create, get, lot, publish_iqc, update

IQC = "iqc_inspection"


def test_all_field_types_publish_to_typed_columns(db_engine, actor):
    publish_iqc(db_engine, actor)
    top = naming.record_table_name(actor.tenant_id, IQC)
    insp = inspect(db_engine)

    def kinds(table):
        return {c["name"]: reflected_spec(c["name"], c["type"]) for c in insp.get_columns(table)}
    cols = kinds(top)
    expect = {"lot_no": (StorageKind.TEXT, 40), "inspection_no": (StorageKind.TEXT, 64),
              "supplier": (StorageKind.INTEGER, None), "supplier_name": (StorageKind.TEXT, 255),
              "part_no": (StorageKind.TEXT, 255), "lot_size": (StorageKind.INTEGER, None),
              "received_at": (StorageKind.DATETIME, None), "inspection_date": (StorageKind.DATE, None),
              "inspector": (StorageKind.INTEGER, None), "department": (StorageKind.INTEGER, None),
              "notified": (StorageKind.JSON, None), "defect_types": (StorageKind.JSON, None),
              "first_article": (StorageKind.BOOLEAN, None), "coc": (StorageKind.JSON, None),
              "photos": (StorageKind.JSON, None), "ng_count": (StorageKind.INTEGER, None),
              "lot_result": (StorageKind.TEXT, None), "remarks": (StorageKind.TEXT, None),
              "signature": (StorageKind.JSON, None)}
    assert {k: (cols[k].kind, cols[k].length) for k in expect} == expect
    assert cols["supplier_grade"].kind is StorageKind.TEXT and cols["aql"].kind is StorageKind.TEXT
    assert "characteristics" not in cols
    chars = kinds(f"{top}__characteristics")
    assert (chars["usl"].kind, chars["usl"].scale) == (StorageKind.DECIMAL, 3)
    assert (chars["mean"].kind, chars["mean"].scale) == (StorageKind.DECIMAL, 4)
    readings = kinds(f"{top}__characteristics__readings")
    assert readings["out_of_spec"].kind is StorageKind.BOOLEAN and readings["deviation"].scale == 3
    assert ["tenant_id", "lot_no"] in [i["column_names"] for i in insp.get_indexes(top)]


def test_a_record_with_every_type_and_nested_rows_round_trips(db_engine, actor):
    supplier = publish_iqc(db_engine, actor)
    made = create(db_engine, actor, IQC, lot(supplier.id))
    got = get(db_engine, actor, IQC, made.id)
    assert got == made and (got.version, got.def_version, got.status) == (1, 1, "active")
    d = got.data
    assert (got.serial_no, d["inspection_no"], got.title) == ("IQC-2026-0001", "IQC-2604-0001", "LOT-001 P-100")
    assert (d["supplier_name"], d["supplier_grade"]) == ("Acme Metals", "A")        # lookups pulled
    assert d["received_at"] == "2026-04-16T01:15:00+00:00" and d["inspection_date"] == "2026-04-17"
    assert (d["notified"], d["defect_types"], d["first_article"]) == ([7, 8], ["dimension"], True)
    assert d["coc"][0]["name"] == "coc.pdf" and d["lot_size"] == 500 and isinstance(d["lot_size"], int)
    first = d["characteristics"][0]
    assert [r["value"] for r in first["readings"]] == [10.01, 9.98, 10.04]          # row order kept
    assert all(isinstance(r["id"], int) for r in first["readings"])
    assert (first["mean"], first["result"], d["ng_count"], d["lot_result"]) == (10.01, "OK", 0, "ACCEPT")
    assert got.created_at == NOW and got.created_by == actor.user_id


def test_invalid_data_reports_every_error_and_writes_nothing(db_engine, actor):
    supplier = publish_iqc(db_engine, actor)
    bad = lot(supplier.id, lot_no="x", lot_size="many", inspector=None)
    bad["characteristics"][1]["readings"][0]["value"] = None
    with pytest.raises(RecordValidationError) as err:
        create(db_engine, actor, IQC, bad)
    fields = {e.field for e in err.value.errors}
    assert {"lot_no", "lot_size", "inspector", "characteristics[1].readings[0].value"} <= fields
    ok = create(db_engine, actor, IQC, lot(supplier.id))
    assert ok.serial_no == "IQC-2026-0001"                                          # no number was used up


def test_serial_numbers_are_gap_free_per_period(db_engine, actor):
    supplier = publish_iqc(db_engine, actor)
    jan, dec, next_year = (datetime(y, m, 5, tzinfo=timezone.utc) for y, m in ((2026, 1), (2026, 12), (2027, 1)))
    numbers = [create(db_engine, actor, IQC, lot(supplier.id), now=when).serial_no for when in (jan, jan, dec)]
    assert numbers == ["IQC-2026-0001", "IQC-2026-0002", "IQC-2026-0003"]
    with pytest.raises(RuntimeError):                          # a rolled-back create gives its number back
        with session_scope(db_engine) as s:
            record_service.create_record(s, actor, IQC, lot(supplier.id), now=next_year)
            raise RuntimeError("crash after the insert")
    again = create(db_engine, actor, IQC, lot(supplier.id), now=next_year)
    assert (again.serial_no, again.data["inspection_no"]) == ("IQC-2027-0001", "IQC-2701-0001")
    assert create(db_engine, actor, IQC, lot(supplier.id), now=dec).data["inspection_no"] == "IQC-2612-0002"


def test_update_is_optimistically_locked(db_engine, actor):
    supplier = publish_iqc(db_engine, actor)
    rec = create(db_engine, actor, IQC, lot(supplier.id))
    v2 = update(db_engine, actor, IQC, rec.id, 1, {"lot_size": 800})
    assert (v2.version, v2.data["lot_size"], v2.data["lot_no"]) == (2, 800, "LOT-001")   # partial: rest kept
    with pytest.raises(Conflict) as err:
        update(db_engine, actor, IQC, rec.id, 1, {"lot_size": 900})                   # stale version
    assert "version" in err.value.message.en and "版本" in err.value.message.zh
    assert get(db_engine, actor, IQC, rec.id).data["lot_size"] == 800


def test_the_version_check_holds_between_read_and_write(db_engine, actor):
    """Someone else commits after our read: the UPDATE … WHERE version=? matches no row → Conflict."""
    supplier = publish_iqc(db_engine, actor)
    rec = create(db_engine, actor, IQC, lot(supplier.id))
    table = naming.record_table_name(actor.tenant_id, IQC)
    real_read = record_service._read

    def read_then_concurrent_write(session, *args):
        record = real_read(session, *args)
        session.execute(text(f"UPDATE {table} SET version = version + 1 WHERE id = :i"), {"i": rec.id})
        return record
    record_service._read = read_then_concurrent_write
    try:
        with pytest.raises(Conflict):
            update(db_engine, actor, IQC, rec.id, 1, {"lot_size": 900})
    finally:
        record_service._read = real_read
    assert get(db_engine, actor, IQC, rec.id).data["lot_size"] == 500


def test_audit_records_old_and_new_values_including_sub_table_rows(db_engine, actor):
    supplier = publish_iqc(db_engine, actor)
    rec = create(db_engine, actor, IQC, lot(supplier.id), reason="incoming")
    chars = rec.data["characteristics"]
    length = dict(chars[0], readings=[dict(chars[0]["readings"][0], value=10.2), chars[0]["readings"][1]])
    changed = update(db_engine, actor, IQC, rec.id, 1, {
        "lot_size": 600, "characteristics": [length, {"name": "Height", "lsl": 1, "usl": 2, "nominal": 1.5,
                                                      "readings": [{"value": 1.5}]}]}, reason="re-measured")
    with session_scope(db_engine) as s:
        record_service.delete_record(s, actor, IQC, rec.id, expected_version=2, reason="duplicate", now=NOW)
        trail = audit.entries(s, actor.tenant_id, IQC, rec.id)
        assert audit.verify_chain(s, actor.tenant_id, IQC, rec.id) == []
    assert [(e["action"], e["reason"], e["actor_id"]) for e in trail] == [
        ("create", "incoming", actor.user_id), ("update", "re-measured", actor.user_id),
        ("delete", "duplicate", actor.user_id)]
    created, updated, deleted = (e["changes"] for e in trail)
    assert created["lot_no"] == {"old": None, "new": "LOT-001"} and len(created["characteristics"]["added"]) == 2
    assert updated["lot_size"] == {"old": 500, "new": 600}
    rows = updated["characteristics"]
    assert [r["name"] for r in rows["added"]] == ["Height"] and [r["name"] for r in rows["removed"]] == ["Width"]
    (row_change,) = rows["changed"]
    assert row_change["id"] == chars[0]["id"]
    readings = row_change["changes"]["readings"]
    assert readings["changed"] == [{"id": chars[0]["readings"][0]["id"], "changes": {
        "value": {"old": 10.01, "new": 10.2}, "deviation": {"old": 0.01, "new": 0.2},
        "out_of_spec": {"old": False, "new": True}}}]
    assert [r["value"] for r in readings["removed"]] == [10.04]
    assert deleted["lot_size"] == {"old": 600, "new": None}
    assert deleted["characteristics"]["removed"] == changed.data["characteristics"]       # every old value
    with pytest.raises(NotFound):
        get(db_engine, actor, IQC, rec.id)


def test_an_edited_audit_entry_breaks_the_chain(db_engine, actor):
    supplier = publish_iqc(db_engine, actor)
    rec = create(db_engine, actor, IQC, lot(supplier.id))
    update(db_engine, actor, IQC, rec.id, 1, {"lot_size": 700})
    with session_scope(db_engine) as s:
        first = audit.entries(s, actor.tenant_id, IQC, rec.id)[0]
        s.execute(sql_update(audit_log).where(audit_log.c.id == first["id"]).values(reason="forged"))
    with session_scope(db_engine) as s:
        assert audit.verify_chain(s, actor.tenant_id, IQC, rec.id) == [first["id"]]


def test_delete_removes_child_rows_and_checks_the_version(db_engine, actor):
    supplier = publish_iqc(db_engine, actor)
    rec = create(db_engine, actor, IQC, lot(supplier.id))
    with pytest.raises(Conflict):
        with session_scope(db_engine) as s:
            record_service.delete_record(s, actor, IQC, rec.id, expected_version=5)
    with session_scope(db_engine) as s:
        record_service.delete_record(s, actor, IQC, rec.id)
    top = naming.record_table_name(actor.tenant_id, IQC)
    with db_engine.connect() as conn:
        for table in (f"{top}__characteristics", f"{top}__characteristics__readings"):
            assert conn.execute(text(f"SELECT COUNT(*) FROM {table} WHERE record_id = :r"), {"r": rec.id}).scalar() == 0


def test_tenants_never_see_each_other(db_engine, actor, make_tenant):
    other = Actor(tenant_id=make_tenant(), user_id=actor.user_id + 1, is_admin=True)
    mine = create(db_engine, actor, IQC, lot(publish_iqc(db_engine, actor).id, lot_no="MINE-1"))
    theirs_supplier = publish_iqc(db_engine, other)                   # same form keys, other tenant
    theirs = create(db_engine, other, IQC, lot(theirs_supplier.id, lot_no="THEIRS-1"))
    assert naming.record_table_name(other.tenant_id, IQC) != naming.record_table_name(actor.tenant_id, IQC)
    with session_scope(db_engine) as s:
        mine_page = record_service.query_records(s, actor, IQC)
        theirs_page = record_service.query_records(s, other, IQC)
    assert [r.data["lot_no"] for r in mine_page.items] == ["MINE-1"]
    assert [r.data["lot_no"] for r in theirs_page.items] == ["THEIRS-1"]
    assert theirs.serial_no == "IQC-2026-0001"                        # counters are per tenant too
    # a stray row of another tenant inside my table is still invisible to me (every query is scoped)
    table = naming.record_table_name(actor.tenant_id, IQC)
    with session_scope(db_engine) as s:
        s.execute(text(f"UPDATE {table} SET tenant_id = :t WHERE id = :i"), {"t": other.tenant_id, "i": mine.id})
    with pytest.raises(NotFound):
        get(db_engine, actor, IQC, mine.id)
    with session_scope(db_engine) as s:
        assert record_service.query_records(s, actor, IQC).total == 0


def _in_threads(n, work):
    """Run work(i) in n threads started together; return (results, errors)."""
    import threading
    start, results, errors = threading.Barrier(n), [], []

    def run(i):
        start.wait()
        try:
            results.append(work(i))
        except Exception as exc:
            errors.append(exc)
    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, errors


def test_concurrent_creates_get_unique_gap_free_numbers(db_engine, actor):
    supplier = publish_iqc(db_engine, actor)
    made, errors = _in_threads(6, lambda i: create(db_engine, actor, IQC, lot(supplier.id, lot_no=f"LOT-{i}")))
    assert errors == []
    assert sorted(r.serial_no for r in made) == [f"IQC-2026-{n:04d}" for n in range(1, 7)]
    assert sorted(r.data["inspection_no"] for r in made) == [f"IQC-2604-{n:04d}" for n in range(1, 7)]


def test_concurrent_updates_of_one_version_let_exactly_one_win(db_engine, actor):
    supplier = publish_iqc(db_engine, actor)
    rec = create(db_engine, actor, IQC, lot(supplier.id))
    won, errors = _in_threads(4, lambda i: update(db_engine, actor, IQC, rec.id, 1, {"lot_size": 600 + i}))
    assert len(won) == 1 and len(errors) == 3 and all(isinstance(e, Conflict) for e in errors)
    final = get(db_engine, actor, IQC, rec.id)
    assert (final.version, final.data["lot_size"]) == (2, won[0].data["lot_size"])
