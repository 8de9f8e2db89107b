"""Date buckets: encodings, the same buckets in SQL, the write path, republishing, indexes, migration 0008.

The database tests run on SQLite here and on PostgreSQL in tests/integration/test_buckets_pg.py.
"""
import random
import uuid
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Column, Date, DateTime, Integer, MetaData, Table, event, inspect, insert, select, text

from engine.errors import DefinitionError
from engine.fields.base import StorageKind
from engine.services import forms as form_service
from engine.services import records as record_service
from engine.storage import buckets
from engine.storage.buckets import (BucketError, bucket_column, bucket_label, bucket_of, bucket_range, bucket_specs,
                                    bucket_start, bucket_values, sql_bucket)
from engine.storage.columns import ColumnSpec
from engine.storage.db import session_scope
from engine.storage.flow_tables import work_calendars
from engine.storage.record_tables import ensure_index, sa_tables
from engine.storage import form_store

DATE, DATETIME = StorageKind.DATE, StorageKind.DATETIME
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 4, 16, 30, tzinfo=timezone.utc)     # 2026-03-05 00:30 in Shanghai


# ---------------------------------------------------------------------------- encodings

@pytest.mark.parametrize("day, week", [(date(2020, 12, 31), 202053), (date(2021, 1, 3), 202053),
                                       (date(2021, 1, 4), 202101), (date(2024, 12, 30), 202501),
                                       (date(2027, 1, 1), 202653), (date(2026, 1, 29), 202605)])
def test_iso_weeks_across_year_ends(day, week):
    assert bucket_of("week", day) == week


def test_month_quarter_year_and_day():
    d = date(2026, 3, 5)
    assert (bucket_of("day", d), bucket_of("month", d), bucket_of("quarter", d), bucket_of("year", d)) == \
        (d, 202603, 20261, 2026)
    assert [bucket_of("quarter", date(2026, m, 1)) % 10 for m in range(1, 13)] == [1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4]


def test_a_datetime_near_midnight_lands_on_the_local_day():
    late = datetime(2026, 12, 31, 16, 30, tzinfo=timezone.utc)           # 2027-01-01 00:30 in Shanghai
    got = bucket_values("inspected_at", DATETIME, late, SHANGHAI)
    assert got == {"inspected_at__d": date(2027, 1, 1), "inspected_at__w": 202653, "inspected_at__m": 202701,
                   "inspected_at__q": 20271, "inspected_at__y": 2027}
    assert bucket_values("inspected_at", DATETIME, late, ZoneInfo("UTC"))["inspected_at__y"] == 2026
    naive = datetime(2026, 12, 31, 16, 30)                                # as SQLite returns it: UTC
    assert bucket_values("inspected_at", DATETIME, naive, SHANGHAI) == got


def test_dates_have_no_day_column_and_none_clears_every_bucket():
    assert bucket_values("received", DATE, date(2026, 3, 5), SHANGHAI) == {
        "received__w": 202610, "received__m": 202603, "received__q": 20261, "received__y": 2026}
    assert bucket_values("received", DATE, None, SHANGHAI) == dict.fromkeys(
        ["received__w", "received__m", "received__q", "received__y"])
    assert bucket_column("received", DATE, "day") == "received"
    assert bucket_column("inspected_at", DATETIME, "day") == "inspected_at__d"
    specs = bucket_specs(ColumnSpec("inspected_at", DATETIME))
    assert [(s.name, s.kind, s.indexed) for s in specs] == [
        ("inspected_at__d", DATE, True), ("inspected_at__w", StorageKind.INTEGER, False),
        ("inspected_at__m", StorageKind.INTEGER, True), ("inspected_at__q", StorageKind.INTEGER, False),
        ("inspected_at__y", StorageKind.INTEGER, False)]
    assert bucket_specs(ColumnSpec("lot_no", StorageKind.TEXT)) == ()


@pytest.mark.parametrize("grain, key, label, start, end", [
    ("day", date(2026, 3, 5), "2026-03-05", date(2026, 3, 5), date(2026, 3, 6)),
    ("week", 202605, "2026-W05", date(2026, 1, 26), date(2026, 2, 2)),
    ("week", 202053, "2020-W53", date(2020, 12, 28), date(2021, 1, 4)),
    ("month", 202612, "2026-12", date(2026, 12, 1), date(2027, 1, 1)),
    ("quarter", 20264, "2026-Q4", date(2026, 10, 1), date(2027, 1, 1)),
    ("year", 2026, "2026", date(2026, 1, 1), date(2027, 1, 1)),
    ("month", "202603", "2026-03", date(2026, 3, 1), date(2026, 4, 1)),     # keys from a URL
])
def test_labels_and_drill_down_ranges(grain, key, label, start, end):
    assert bucket_label(grain, key) == label
    assert bucket_start(grain, key) == start
    assert bucket_range(grain, key) == (start, end)


def test_every_day_lies_in_its_own_bucket_range():
    day = date(2019, 12, 20)
    for _ in range(800):
        for grain in buckets.GRAINS:
            start, end = bucket_range(grain, bucket_of(grain, day))
            assert start <= day < end and bucket_of(grain, start) == bucket_of(grain, day) != bucket_of(grain, end)
        day += timedelta(days=1)


@pytest.mark.parametrize("call, words", [
    (lambda: bucket_of("fortnight", date(2026, 1, 1)), "fortnight"),
    (lambda: bucket_label("week", 202654), "202654"),          # 2026 has 53 ISO weeks
    (lambda: bucket_label("month", 202613), "202613"),
    (lambda: bucket_start("quarter", 20265), "20265"),
    (lambda: bucket_start("day", "yesterday"), "yesterday"),
    (lambda: bucket_label("year", True), "True"),
    (lambda: bucket_values("lot_no", StorageKind.TEXT, "x", SHANGHAI), "lot_no"),
    (lambda: sql_bucket(Column("d", Date), DATE, "month", "mysql", "UTC"), "mysql"),
    (lambda: sql_bucket(Column("d", DateTime), DATETIME, "month", "sqlite", "Mars/Olympus"), "Mars/Olympus"),
])
def test_bad_input_is_a_clear_bilingual_error(call, words):
    with pytest.raises(BucketError) as err:
        call()
    assert words in err.value.message.en and err.value.message.zh != err.value.message.en


# ---------------------------------------------------------------------------- SQL equals Python

ZONES = ("UTC", "Asia/Shanghai", "Europe/Berlin", "America/New_York", "Asia/Kolkata")


def random_values(seed: int = 7, n: int = 300):
    """Dates and datetimes 1975–2060, with a share right at midnight / DST changes (the hard cases)."""
    rnd, out = random.Random(seed), []
    for i in range(n):
        day = date(1975, 1, 1) + timedelta(days=rnd.randrange(31_000))
        if i % 3 == 0:     # near a Berlin / New York DST change or a local midnight
            day = date(rnd.randrange(1985, 2055), rnd.choice((1, 3, 10, 11, 12)), rnd.choice((1, 2, 3, 25, 26, 27, 28)))
        seconds = rnd.choice((rnd.randrange(86_400), 0, 86_399, 16 * 3600 + rnd.randrange(-90, 90),
                              3600 + rnd.randrange(-5, 5), 7 * 3600 + rnd.randrange(-120, 120)))
        out.append((day, datetime(day.year, day.month, day.day, tzinfo=timezone.utc) + timedelta(seconds=seconds,
                                                                                                 microseconds=i)))
    return out


def test_sql_bucket_equals_bucket_of(db_engine):
    values = random_values()
    table = Table(f"bucket_probe_{uuid.uuid4().hex[:8]}", MetaData(), Column("id", Integer, primary_key=True),
                  Column("d", Date), Column("t", DateTime(timezone=True)))
    with db_engine.begin() as conn:
        table.create(conn)
        conn.execute(insert(table), [{"id": i, "d": d, "t": t} for i, (d, t) in enumerate(values)])
    dialect = db_engine.dialect.name
    try:
        with db_engine.connect() as conn:
            for zone_name in ZONES:
                zone = ZoneInfo(zone_name)
                exprs = [sql_bucket(table.c.d, DATE, g, dialect, zone_name) for g in buckets.GRAINS] + \
                        [sql_bucket(table.c.t, DATETIME, g, dialect, zone_name) for g in buckets.GRAINS]
                rows = conn.execute(select(table.c.id, *exprs).order_by(table.c.id)).all()
                for row in rows:
                    d, t = values[row[0]]
                    want = [bucket_of(g, d) for g in buckets.GRAINS] + \
                           [bucket_of(g, t.astimezone(zone).date()) for g in buckets.GRAINS]
                    assert list(row[1:]) == want, (zone_name, d, t)
    finally:
        with db_engine.begin() as conn:
            table.drop(conn)


# ---------------------------------------------------------------------------- write path

def definition(*extra):
    readings = {"key": "readings", "type": "subtable", "label": {"zh-CN": "Readings", "en": "Readings"}, "fields": [
        {"key": "measured_on", "type": "date", "label": {"zh-CN": "Measured on", "en": "Measured on"}},
        {"key": "taken_at", "type": "datetime", "label": {"zh-CN": "Taken at", "en": "Taken at"}},
        {"key": "value", "type": "number", "label": {"zh-CN": "Value", "en": "Value"}}]}
    return {"format": 1, "key": "lots", "label": {"zh-CN": "Lots", "en": "Lots"}, "fields": [
        {"key": "lot_no", "type": "text", "label": {"zh-CN": "Lot", "en": "Lot"}},
        {"key": "received", "type": "date", "label": {"zh-CN": "Received", "en": "Received"}},
        {"key": "inspected_at", "type": "datetime", "label": {"zh-CN": "Inspected at", "en": "Inspected at"}},
        readings, *extra]}


def set_zone(engine, tenant_id, zone_name):
    with session_scope(engine) as s:
        s.execute(insert(work_calendars).values(tenant_id=tenant_id, data={"timezone": zone_name},
                                                updated_at=datetime.now(timezone.utc)))


def publish(engine, actor, defn):
    with session_scope(engine) as s:
        form_service.publish_form(s, actor, defn)
        return form_store.load_published(s, actor.tenant_id, defn["key"]).spec


def stored(engine, spec, path=()):
    with engine.connect() as conn:
        table = sa_tables(spec)[path]
        return [dict(r) for r in conn.execute(select(table).order_by(table.c.id)).mappings()]


LOT = {"lot_no": "L1", "received": "2026-12-31", "inspected_at": "2026-12-31T16:30:00Z",
       "readings": [{"measured_on": "2021-01-03", "taken_at": "2021-01-03T15:59:59Z", "value": 1},
                    {"measured_on": None, "taken_at": "2021-01-03T16:00:00Z", "value": 2}]}


def test_create_and_update_fill_the_buckets_in_the_tenant_zone(db_engine, actor):
    set_zone(db_engine, actor.tenant_id, "Asia/Shanghai")
    spec = publish(db_engine, actor, definition())
    with session_scope(db_engine) as s:
        made = record_service.create_record(s, actor, "lots", LOT, now=NOW)
    row = stored(db_engine, spec)[0]
    assert (row["received__w"], row["received__m"], row["received__q"], row["received__y"]) == \
        (202653, 202612, 20264, 2026)
    assert (row["inspected_at__d"], row["inspected_at__w"], row["inspected_at__y"]) == (date(2027, 1, 1), 202653, 2027)
    assert (row["created_at__d"], row["created_at__m"]) == (date(2026, 3, 5), 202603)       # set at insert
    readings = stored(db_engine, spec, ("readings",))
    assert [(r["measured_on__w"], r["taken_at__d"], r["taken_at__w"]) for r in readings] == [
        (202053, date(2021, 1, 3), 202053), (None, date(2021, 1, 4), 202101)]
    assert not any("__" in key for key in made.to_json()["data"]) and "created_at__d" not in made.to_json()

    later = datetime(2026, 6, 1, tzinfo=timezone.utc)
    with session_scope(db_engine) as s:
        changed = record_service.update_record(s, actor, "lots", made.id, 1, {
            "received": None, "inspected_at": "2026-06-30T15:00:00Z",
            "readings": [{"id": made.data["readings"][0]["id"], "measured_on": "2021-01-04", "taken_at": None,
                          "value": 1}]}, now=later)
    row = stored(db_engine, spec)[0]
    assert [row[f"received__{s}"] for s in "wmqy"] == [None] * 4                            # cleared
    assert (row["inspected_at__d"], row["inspected_at__q"]) == (date(2026, 6, 30), 20262)
    assert (row["created_at__d"], row["created_at__m"]) == (date(2026, 3, 5), 202603)       # unchanged
    readings = stored(db_engine, spec, ("readings",))
    assert [(r["measured_on__w"], r["taken_at__d"]) for r in readings] == [(202101, None)]
    assert set(changed.data) == {"lot_no", "received", "inspected_at", "readings"}


def test_a_tenant_without_a_calendar_buckets_in_the_calendar_default_zone(db_engine, actor):
    """No work calendar means the calendar default (Asia/Shanghai), as for flow deadlines."""
    spec = publish(db_engine, actor, definition())
    with session_scope(db_engine) as s:
        record_service.create_record(s, actor, "lots", LOT, now=NOW)
    row = stored(db_engine, spec)[0]
    assert (row["inspected_at__d"], row["created_at__d"]) == (date(2027, 1, 1), date(2026, 3, 5))


def _statements(engine, fn):
    seen = []

    def listen(_conn, _cur, statement, *_):
        seen.append(" ".join(statement.split()))
    event.listen(engine, "before_cursor_execute", listen)
    try:
        fn()
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    return seen


def _zone_queries(seen: list[str]) -> int:
    """Statements that ask for the zone on their own (not inside the form lookup a write makes anyway)."""
    return sum(q.startswith("SELECT") and "FROM work_calendars" in q and "form_versions" not in q for q in seen)


def test_the_zone_costs_no_query_of_its_own(db_engine, actor):
    set_zone(db_engine, actor.tenant_id, "Asia/Shanghai")
    publish(db_engine, actor, definition())
    made = []

    def three_creates():
        with session_scope(db_engine) as s:
            made.extend(record_service.create_record(s, actor, "lots", LOT, now=NOW) for _ in range(3))
    seen = _statements(db_engine, three_creates)
    assert _zone_queries(seen) == 0 and sum("form_versions" in q for q in seen) == 1
    assert made[0].data["inspected_at"] is not None

    def date_only_update():
        with session_scope(db_engine) as s:
            record_service.update_record(s, actor, "lots", made[0].id, 1, {"received": "2026-01-01",
                                                                           "inspected_at": None, "readings": []})
    assert _zone_queries(_statements(db_engine, date_only_update)) == 0


# ---------------------------------------------------------------------------- republish, refill, indexes

def _drop_buckets(engine, table, *sources):
    """Make a table look as it did before buckets existed (columns and their indexes gone)."""
    with engine.begin() as conn:
        insp = inspect(conn)
        for index in insp.get_indexes(table):
            if any(c.split("__")[0] in sources and "__" in c for c in index["column_names"]):
                conn.execute(text(f'DROP INDEX "{index["name"]}"'))
        for col in insp.get_columns(table):
            if "__" in col["name"] and col["name"].split("__")[0] in sources:
                conn.execute(text(f'ALTER TABLE "{table}" DROP COLUMN "{col["name"]}"'))


def test_republish_adds_buckets_for_a_new_date_field_and_refills_only_what_lacks_them(db_engine, actor):
    set_zone(db_engine, actor.tenant_id, "Asia/Shanghai")
    spec = publish(db_engine, actor, definition())
    with session_scope(db_engine) as s:
        record_service.create_record(s, actor, "lots", LOT, now=NOW)
    before = stored(db_engine, spec)[0]
    _drop_buckets(db_engine, spec.name, "inspected_at")      # as if made before buckets existed
    with session_scope(db_engine) as s:
        s.execute(sa_tables(spec)[()].update().values(received__m=199901))   # must stay: not refilled
    shipped = {"key": "shipped", "type": "date", "label": {"zh-CN": "Shipped", "en": "Shipped"}}
    with session_scope(db_engine) as s:
        form_service.publish_form(s, actor, definition(shipped))
        changes = form_store.version_row(s, actor.tenant_id, "lots")["storage"]["changes"]
        spec = form_store.load_published(s, actor.tenant_id, "lots").spec
    added = {c["column"] for c in changes if c["op"] == "add_bucket"}
    assert added == {"shipped__w", "shipped__m", "shipped__q", "shipped__y", "inspected_at__d", "inspected_at__w",
                     "inspected_at__m", "inspected_at__q", "inspected_at__y"}
    assert [(c["table"], c["column"]) for c in changes if c["op"] == "refill_buckets"] == [(spec.name, "inspected_at")]
    row = stored(db_engine, spec)[0]
    assert all(row[f"inspected_at__{s}"] == before[f"inspected_at__{s}"] for s in "dwmqy")
    assert row["received__m"] == 199901 and row["shipped__m"] is None
    indexes = {tuple(i["column_names"]) for i in inspect(db_engine).get_indexes(spec.name)}
    assert {("tenant_id", "shipped__m"), ("tenant_id", "inspected_at__d"), ("tenant_id", "inspected_at__m")} <= indexes
    assert ("tenant_id", "created_at__m") in indexes and ("tenant_id", "shipped__w") not in indexes
    with session_scope(db_engine) as s:
        form_service.publish_form(s, actor, definition(shipped))            # nothing left to do
        changes = form_store.version_row(s, actor.tenant_id, "lots")["storage"]["changes"]
    assert not [c for c in changes if "bucket" in c["op"]]


def test_ensure_index_is_idempotent_and_checks_its_input(db_engine, actor):
    spec = publish(db_engine, actor, definition())
    with session_scope(db_engine) as s:
        conn = s.connection()
        assert ensure_index(conn, spec.name, ("tenant_id", "received__y", "lot_no")) is True
        assert ensure_index(conn, spec.name, ("tenant_id", "received__y", "lot_no")) is False
        assert ensure_index(conn, spec.name, ("tenant_id", "received__y")) is False     # a prefix is served
        assert ensure_index(conn, spec.name, ("tenant_id", "inspected_at__m")) is False  # made with the table
    indexes = {tuple(i["column_names"]) for i in inspect(db_engine).get_indexes(spec.name)}
    assert ("tenant_id", "received__y", "lot_no") in indexes
    for table, cols, words in [(spec.name, ("nope",), "nope"), ("no_such_table", ("id",), "no_such_table"),
                               (spec.name, ("id; drop",), "id; drop"), (spec.name, (), "column")]:
        with session_scope(db_engine) as s, pytest.raises(DefinitionError) as err:
            ensure_index(s.connection(), table, cols)
        problem = err.value.problems[0]
        assert words in problem.message.en and problem.message.zh


# ---------------------------------------------------------------------------- migration 0008

@pytest.fixture
def sqlite_at_0007(tmp_path):
    """A database of its own (records are written at head, then it is taken down to 0007)."""
    from engine.storage.db import make_engine, upgrade_database
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade_database(engine)
    yield engine
    engine.dispose()


def _downgrade(engine, revision: str) -> None:
    from alembic import command
    from engine.storage.db import alembic_config
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def check_migration_backfills(engine, make_actor):
    """Records written with today's code, the database taken down to 0007 (buckets dropped), upgraded
    to head again: every bucket as written."""
    from engine.storage.db import upgrade_database
    shanghai, utc = make_actor(), make_actor()
    set_zone(engine, shanghai.tenant_id, "Asia/Shanghai")
    set_zone(engine, utc.tenant_id, "UTC")
    written = {}
    for who in (shanghai, utc):
        spec = publish(engine, who, definition())
        with session_scope(engine) as s:
            for i in range(5):
                record_service.create_record(s, who, "lots", LOT | {"received": f"2026-0{i + 1}-15"},
                                             now=NOW + timedelta(hours=7 * i))
        written[who.tenant_id] = (spec, stored(engine, spec), stored(engine, spec, ("readings",)))
    _downgrade(engine, "0007")
    assert not any("__" in c["name"] for c in inspect(engine).get_columns(spec.name))
    upgrade_database(engine)
    for spec, top, readings in written.values():
        assert stored(engine, spec) == top and stored(engine, spec, ("readings",)) == readings
        indexes = {tuple(i["column_names"]) for i in inspect(engine).get_indexes(spec.name)}
        assert {("tenant_id", "created_at__d"), ("tenant_id", "received__m")} <= indexes
    assert written[shanghai.tenant_id][1][0]["inspected_at__d"] == date(2027, 1, 1)
    assert written[utc.tenant_id][1][0]["inspected_at__d"] == date(2026, 12, 31)


def test_migration_0008_adds_and_backfills_the_buckets_of_existing_records(sqlite_at_0007):
    from tests.engine.storage.support import create_tenant
    from engine.types import Actor

    def make_actor():
        return Actor(tenant_id=create_tenant(sqlite_at_0007), user_id=1, lang="en", name="T", is_admin=True)
    check_migration_backfills(sqlite_at_0007, make_actor)


def test_migration_0008_downgrade_drops_the_buckets(db_engine, actor):
    from engine.storage.db import upgrade_database
    from alembic import command
    from engine.storage.db import alembic_config
    spec = publish(db_engine, actor, definition())
    cfg = alembic_config()
    with db_engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0007")
    assert not any("__" in c["name"] for c in inspect(db_engine).get_columns(spec.name))
    upgrade_database(db_engine)
    assert "created_at__m" in {c["name"] for c in inspect(db_engine).get_columns(spec.name)}
