"""Record tables: created from a definition, migrated on republish, unsafe changes refused.

Runs on SQLite here and on PostgreSQL in tests/integration (same functions).
"""
import pytest
from sqlalchemy import inspect, insert, select, text

from engine.errors import DefinitionError
from engine.fields.base import StorageKind
from engine.storage import naming
from engine.storage.columns import reflected_spec
from engine.storage.db import session_scope
from engine.storage.record_tables import SYSTEM_COLUMNS, TableSpec, publish_tables, sa_tables
from tests.engine.storage.support import field, form


def publish(engine, definition, tenant_id, stored=None):
    with session_scope(engine) as s:
        return publish_tables(s.connection(), definition, tenant_id, stored)


def columns(engine, table):
    return {c["name"]: c for c in inspect(engine).get_columns(table)}


def kinds(engine, table):
    return {name: reflected_spec(name, c["type"]) for name, c in columns(engine, table).items()}


def lot_form(**overrides):
    readings = field("readings", "subtable", fields=[field("value", "number", precision=3)])
    chars = field("characteristics", "subtable", fields=[
        field("name", "text", max_length=40), field("usl", "number", precision=2), readings])
    fields = {"lot_no": field("lot_no", "text", max_length=40, indexed=True),
              "lot_size": field("lot_size", "number", precision=0),
              "passed": field("passed", "boolean"), "received": field("received", "date"),
              "inspected_at": field("inspected_at", "datetime"),
              "defects": field("defects", "multiselect", choices=[{"code": "a", "label": {"en": "A"}}]),
              "characteristics": chars}
    fields.update(overrides)
    return form("iqc", *[f for f in fields.values() if f is not None])


def test_publish_creates_typed_tables_with_system_columns_and_indexes(db_engine, make_tenant):
    tenant = make_tenant()
    plan = publish(db_engine, lot_form(), tenant)
    top = naming.record_table_name(tenant, "iqc")
    chars, readings = f"{top}__characteristics", f"{top}__characteristics__readings"
    assert [t.name for t in plan.spec.walk()] == [top, chars, readings]
    got = kinds(db_engine, top)
    assert set(SYSTEM_COLUMNS) <= set(got)
    assert (got["lot_no"].kind, got["lot_no"].length) == (StorageKind.TEXT, 40)
    assert got["lot_size"].kind is StorageKind.INTEGER
    assert got["passed"].kind is StorageKind.BOOLEAN
    assert got["received"].kind is StorageKind.DATE
    assert got["inspected_at"].kind is StorageKind.DATETIME
    assert got["defects"].kind is StorageKind.JSON
    assert "characteristics" not in got                       # a sub-table is a child table, not a column
    usl = kinds(db_engine, chars)["usl"]
    assert (usl.kind, usl.precision, usl.scale) == (StorageKind.DECIMAL, 20, 2)
    assert {"record_id", "parent_id", "row_order", "value"} <= set(kinds(db_engine, readings))
    indexes = {tuple(i["column_names"]) for i in inspect(db_engine).get_indexes(top)}
    assert ("tenant_id",) in indexes          # and every other index leads with tenant_id
    assert {("tenant_id", c) for c in ("created_at", "created_by", "updated_at", "status", "serial_no",
                                       "lot_no")} <= indexes
    fks = inspect(db_engine).get_foreign_keys(readings)
    assert {(fk["referred_table"], fk["constrained_columns"][0]) for fk in fks} == {(chars, "parent_id"), (top, "record_id")}
    assert all(fk["options"].get("ondelete", "").upper() == "CASCADE" for fk in fks)


def test_child_rows_cascade_when_the_parent_row_goes(db_engine, make_tenant):
    tenant = make_tenant()
    tables = sa_tables(publish(db_engine, lot_form(), tenant).spec)
    with session_scope(db_engine) as s:
        rid = s.execute(insert(tables[()]).values(
            tenant_id=tenant, created_at=text("CURRENT_TIMESTAMP"), updated_at=text("CURRENT_TIMESTAMP"),
            version=1, status="active", def_version=1).returning(tables[()].c.id)).scalar_one()
        cid = s.execute(insert(tables[("characteristics",)]).values(
            tenant_id=tenant, record_id=rid, parent_id=rid, row_order=0).returning(tables[("characteristics",)].c.id)).scalar_one()
        s.execute(insert(tables[("characteristics", "readings")]).values(
            tenant_id=tenant, record_id=rid, parent_id=cid, row_order=0, value=1.5))
    with session_scope(db_engine) as s:
        s.execute(tables[()].delete().where(tables[()].c.id == rid))
    with session_scope(db_engine) as s:
        assert s.execute(select(tables[("characteristics", "readings")])).first() is None


def test_republish_adds_widens_and_keeps_removed_columns(db_engine, make_tenant):
    tenant = make_tenant()
    first = publish(db_engine, lot_form(), tenant)
    top = first.spec.name
    changed = lot_form(lot_no=field("lot_no", "text", max_length=80, indexed=True),   # widen text
                       lot_size=field("lot_size", "number", precision=2),            # integer → decimal
                       passed=None,                                                  # removed
                       supplier=field("supplier", "text", max_length=100),            # added
                       defects=field("defect_rows", "subtable", fields=[field("code", "text")]))  # new child
    plan = publish(db_engine, changed, tenant, first.spec)
    ops = {(c["op"], c.get("column") or c["table"]) for c in plan.changes(db_engine.dialect.name)}
    assert ("add_column", "supplier") in ops and ("create_table", f"{top}__defect_rows") in ops
    assert ("widen_column", "lot_no") in ops and ("widen_column", "lot_size") in ops
    spec = plan.spec
    assert (spec.column("lot_no").length, spec.column("lot_size").kind) == (80, StorageKind.DECIMAL)
    assert spec.column("passed") is not None and spec.column("defects") is not None   # removed: kept
    real = kinds(db_engine, top)
    assert {"passed", "defects", "supplier"} <= set(real)
    if db_engine.dialect.name == "postgresql":   # SQLite's affinity takes wider values without ALTER
        assert real["lot_no"].length == 80 and real["lot_size"].kind is StorageKind.DECIMAL
    with session_scope(db_engine) as s:          # the widened columns take the wider values
        t = sa_tables(spec)[()]
        s.execute(insert(t).values(tenant_id=tenant, created_at=text("CURRENT_TIMESTAMP"),
                                   updated_at=text("CURRENT_TIMESTAMP"), version=1, status="a", def_version=2,
                                   lot_no="L" * 80, lot_size=12.25))
    with session_scope(db_engine) as s:
        assert s.execute(select(t.c.lot_no, t.c.lot_size)).one() == ("L" * 80, 12.25)


def test_republish_plans_from_the_real_table_not_only_the_stored_spec(db_engine, make_tenant):
    tenant = make_tenant()
    publish(db_engine, lot_form(), tenant)
    plan = publish(db_engine, lot_form(extra=field("extra", "number")), tenant, stored=None)  # spec lost
    assert [c["op"] for c in plan.changes(db_engine.dialect.name)] == ["add_column"]
    with pytest.raises(DefinitionError):   # still sees the existing text column
        publish(db_engine, lot_form(lot_no=field("lot_no", "number")), tenant, stored=None)


@pytest.mark.parametrize("change, path, words", [
    ({"lot_no": field("lot_no", "number")}, "$.fields[0]", "text(40)"),
    ({"characteristics": field("characteristics", "text")}, "$.fields[6]", "sub-table"),
    ({"passed": field("passed", "subtable", fields=[field("x")])}, "$.fields[2]", "single-value"),
])
def test_unsafe_change_is_refused_and_nothing_changes(db_engine, make_tenant, change, path, words):
    tenant = make_tenant()
    first = publish(db_engine, lot_form(), tenant)
    before = {t: sorted(columns(db_engine, t)) for t in inspect(db_engine).get_table_names()}
    with pytest.raises(DefinitionError) as err:
        publish(db_engine, lot_form(added=field("added"), **change), tenant, first.spec)
    problem = err.value.problems[0]
    assert problem.path.startswith(path) and words in problem.message.en and "字段" in problem.message.zh
    after = {t: sorted(columns(db_engine, t)) for t in inspect(db_engine).get_table_names()}
    assert after == before   # not even the harmless "added" column


def test_marking_a_field_indexed_adds_its_index(db_engine, make_tenant):
    tenant = make_tenant()
    first = publish(db_engine, lot_form(), tenant)
    plan = publish(db_engine, lot_form(lot_size=field("lot_size", "number", indexed=True)), tenant, first.spec)
    indexes = {tuple(i["column_names"]) for i in inspect(db_engine).get_indexes(plan.spec.name)}
    assert ("tenant_id", "lot_size") in indexes
    again = publish(db_engine, lot_form(lot_size=field("lot_size", "number", indexed=True)), tenant, plan.spec)
    assert again.add_indexes == []            # the composite index is recognised when reflected


def test_long_names_are_truncated_with_hash_and_work(db_engine, make_tenant):
    tenant = make_tenant()
    long_form = form("f" * 40, field("g" * 40, "subtable", fields=[
        field("h" * 40, "subtable", fields=[field("v", "number")])]))
    plan = publish(db_engine, long_form, tenant)
    names = [t.name for t in plan.spec.walk()]
    assert all(len(n) <= 63 for n in names) and len(set(names)) == 3
    assert names[2] == naming.shorten(f"t{tenant}_{'f' * 40}__{'g' * 40}__{'h' * 40}") and len(names[2]) == 63
    assert set(names) <= set(inspect(db_engine).get_table_names())


def test_spec_round_trips_through_json(db_engine, make_tenant):
    plan = publish(db_engine, lot_form(), make_tenant())
    assert TableSpec.from_json(plan.spec.to_json()) == plan.spec


def test_date_columns_get_bucket_columns_at_every_level_but_never_in_the_spec(db_engine, make_tenant):
    tenant = make_tenant()
    dated = field("characteristics", "subtable", fields=[field("checked_on", "date"), field("name", "text")])
    plan = publish(db_engine, lot_form(characteristics=dated), tenant)
    top = plan.spec.name
    got = kinds(db_engine, top)
    assert {f"received__{s}" for s in "wmqy"} <= set(got) and "received__d" not in set(got)   # a DATE is its day
    assert got["inspected_at__d"].kind is StorageKind.DATE and got["inspected_at__m"].kind is StorageKind.INTEGER
    assert {f"created_at__{s}" for s in "dwmqy"} <= set(got)
    child = kinds(db_engine, f"{top}__characteristics")
    assert {"checked_on__w", "checked_on__m"} <= set(child) and not any(c.startswith("name__") for c in child)
    indexes = {tuple(i["column_names"]) for i in inspect(db_engine).get_indexes(top)}
    assert {("tenant_id", "received__m"), ("tenant_id", "inspected_at__d"), ("tenant_id", "inspected_at__m"),
            ("tenant_id", "created_at__d"), ("tenant_id", "created_at__m")} <= indexes
    assert ("tenant_id", "received__w") not in indexes
    assert ("tenant_id", "checked_on__m") in {tuple(i["column_names"])
                                              for i in inspect(db_engine).get_indexes(f"{top}__characteristics")}
    assert "__" not in str([c["name"] for t in plan.spec.to_json()["children"] for c in t["columns"]])
    assert not any("__" in c.name for t in plan.spec.walk() for c in t.columns)


def test_reflection_skips_bucket_columns_so_republishing_changes_nothing(db_engine, make_tenant):
    from engine.storage.record_tables import current_spec, form_spec
    tenant = make_tenant()
    first = publish(db_engine, lot_form(), tenant)
    with session_scope(db_engine) as s:
        seen = current_spec(s.connection(), form_spec(lot_form(), tenant), None)
    assert [c.name for c in seen.columns] == [c.name for c in first.spec.columns]
    again = publish(db_engine, lot_form(), tenant, first.spec)
    assert again.changes(db_engine.dialect.name) == [] and again.spec == first.spec
