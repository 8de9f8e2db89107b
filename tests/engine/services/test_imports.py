"""Imports: round trip, Chinese headers, per-row errors, all-or-nothing, dry run, upsert,
duplicate keys, re-runs without duplicates, progress and the error workbook."""
import io

import pytest
from openpyxl import Workbook, load_workbook

from engine.errors import PermissionDenied
from engine.services.exports import export_records
from engine.services.imports import ImportSetupError, error_workbook, import_records
from engine.storage.db import session_scope
from engine.tabular import FileError
from engine.types import Actor
from tests.engine.services.support import create, publish, query
from tests.engine.services.tabular_support import INSPECTION, NOW, row


def xlsx(rows) -> bytes:
    book = Workbook()
    for r in rows:
        book.active.append(r)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def run(engine, actor, data: bytes, name="x.xlsx", **kw):
    with session_scope(engine) as s:
        return import_records(s, actor, "inspection", data, name, now=NOW, **kw)


def stored(engine, actor):
    return {r.data["lot_no"]: r for r in query(engine, actor, "inspection", per_page=500, sort="lot_no").items}


@pytest.fixture
def form(db_engine, actor):
    publish(db_engine, actor, INSPECTION)


def test_export_then_upsert_changes_nothing(db_engine, actor, form):
    for i in range(3):
        create(db_engine, actor, "inspection", row(i))
    before = stored(db_engine, actor)
    for fmt in ("xlsx", "csv"):
        with session_scope(db_engine) as s:
            data = export_records(s, actor, "inspection", fmt, lang="zh-CN")
        report = run(db_engine, actor, data, f"x.{fmt}", mode="upsert", key_field="lot_no")
        assert report.ok and (report.unchanged, report.updated, report.created) == (3, 0, 0), report.to_dict("en")
        assert "记录 ID" in report.ignored_columns and "不良率" in report.ignored_columns
    after = stored(db_engine, actor)
    assert {k: (r.version, r.data) for k, r in after.items()} == {k: (r.version, r.data) for k, r in before.items()}


def test_chinese_and_english_headers_labels_codes_and_loose_values(db_engine, actor, form):
    data = xlsx([["批号", "Sample Size", "不 良 数", "判定", "缺陷代码", "检验时间", "inspector", "备注列"],
                 ["L1", 50, 2, "不合格", "尺寸不良，D02", "2026-04-16 09:15", "7", "x"],
                 ["L2", "40", None, "ok", None, None, 8.0, None]])
    report = run(db_engine, actor, data)
    assert report.ok and report.created == 2 and report.unknown_columns == ["备注列"], report.to_dict("en")
    got = stored(db_engine, actor)
    assert got["L1"].data["result"] == "NG" and got["L1"].data["defect_code"] == ["D01", "D02"]
    assert got["L1"].data["inspected_at"] == "2026-04-16T09:15:00+00:00" and got["L1"].data["defect_rate"] == 0.04
    assert got["L2"].data["result"] == "OK" and got["L2"].data["inspector"] == 8


def test_per_row_errors_with_row_numbers_and_nothing_written(db_engine, actor, form):
    data = xlsx([["批号", "样本量", "判定"], ["L1", 50, "合格"], ["L2", "many", "maybe"], ["L3", 10, "OK"],
                 [None, None, "OK"]])
    report = run(db_engine, actor, data)
    assert not report.ok and not report.written and report.created == 0
    found = {(p.row, p.field) for p in report.problems}
    assert {(3, "sample_size"), (3, "result"), (5, "lot_no"), (5, "sample_size")} <= found
    assert all(p.row in (3, 5) for p in report.problems)
    assert next(p for p in report.problems if p.field == "sample_size").column == "样本量"
    assert stored(db_engine, actor) == {}


def test_a_failure_while_writing_rolls_back_every_row(db_engine, actor, form, monkeypatch):
    from engine.services import records as record_service
    real, calls = record_service.create_record, []

    def flaky(*a, **kw):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("disk full")
        return real(*a, **kw)
    monkeypatch.setattr(record_service, "create_record", flaky)
    data = xlsx([["lot_no", "sample_size"]] + [[f"L{i}", 5] for i in range(4)])
    with session_scope(db_engine) as s:
        with pytest.raises(RuntimeError):
            import_records(s, actor, "inspection", data, "x.xlsx")
        assert s.in_transaction()       # the caller's transaction survives; only the import was undone
    assert stored(db_engine, actor) == {}


def test_dry_run_validates_and_writes_nothing(db_engine, actor, form):
    data = xlsx([["lot_no", "sample_size"], ["L1", 5], ["L2", 6]])
    report = run(db_engine, actor, data, dry_run=True)
    assert report.ok and not report.written and report.created == 0 and report.total_rows == 2
    assert stored(db_engine, actor) == {}


def test_upsert_by_key_updates_creates_and_reruns_create_no_duplicates(db_engine, actor, form):
    create(db_engine, actor, "inspection", row(1))
    data = xlsx([["批号", "样本量", "不良数"], ["L00001", 80, 4], ["L00002", 10, 0]])
    report = run(db_engine, actor, data, mode="upsert", key_field="lot_no")
    assert (report.updated, report.created) == (1, 1)
    got = stored(db_engine, actor)
    assert got["L00001"].version == 2 and got["L00001"].data["defect_rate"] == 0.05
    assert got["L00001"].data["supplier"] == "华东金属"           # columns not in the file keep their value
    again = run(db_engine, actor, data, mode="upsert", key_field="lot_no")
    assert (again.unchanged, again.created) == (2, 0)
    rerun = run(db_engine, actor, data, mode="insert", key_field="lot_no")
    assert (rerun.skipped, rerun.created) == (2, 0) and len(stored(db_engine, actor)) == 2


def test_duplicate_and_blank_keys_in_the_file(db_engine, actor, form):
    data = xlsx([["lot_no", "sample_size"], ["L1", 5], ["L2", 5], ["L1", 6], [None, 3]])
    report = run(db_engine, actor, data, mode="upsert", key_field="lot_no")
    messages = {(p.row, p.message.en) for p in report.problems if p.field == "lot_no"}
    assert (4, "The key 'L1' repeats row 2") in messages
    assert (5, "The business key must not be blank") in messages
    assert stored(db_engine, actor) == {}


def test_bad_requests_and_files(db_engine, actor, form):
    good = xlsx([["lot_no", "sample_size"], ["L1", 5]])
    with pytest.raises(ImportSetupError):
        run(db_engine, actor, good, mode="upsert")
    with pytest.raises(ImportSetupError):
        run(db_engine, actor, good, mode="upsert", key_field="defect_code")     # not a scalar key
    with pytest.raises(ImportSetupError):
        run(db_engine, actor, good, mode="merge")
    for data, name in [(xlsx([["lot_no", "sample_size"]]), "x.xlsx"), (b"\x00garbage", "x.csv"),
                       (xlsx([["who", "what"], [1, 2]]), "x.xlsx"), (b"PK\x03\x04broken", "x.xlsx"),
                       ("lot_no\nL1\n".encode("utf-16"), "x.csv")]:
        with pytest.raises(FileError):
            run(db_engine, actor, data, name)
    with pytest.raises(PermissionDenied):
        run(db_engine, Actor(tenant_id=actor.tenant_id, user_id=999), good)


def test_progress_is_reported_at_most_every_percent(db_engine, actor, form):
    data = xlsx([["lot_no", "sample_size"]] + [[f"L{i}", 5] for i in range(300)])
    calls = []
    report = run(db_engine, actor, data, progress=lambda done, total: calls.append((done, total)))
    assert report.created == 300 and calls[-1] == (600, 600)
    assert len(calls) <= 101 and all(b[0] > a[0] for a, b in zip(calls, calls[1:]))


def test_error_workbook_has_the_original_rows_and_an_error_column(db_engine, actor, form):
    data = xlsx([["批号", "样本量"], ["L1", 5], ["L2", 0]])
    report = run(db_engine, actor, data)
    ws = load_workbook(io.BytesIO(error_workbook(report, "zh-CN"))).worksheets[0]
    rows = [[c.value for c in r] for r in ws.iter_rows()]
    assert rows[0] == ["批号", "样本量", "导入错误"] and rows[1] == ["L1", 5, None]
    assert rows[2][:2] == ["L2", 0] and rows[2][2].startswith("样本量: ")
    fixed = xlsx([r[:2] for r in rows[:2]] + [["L2", 3]] + [])
    assert run(db_engine, actor, fixed).created == 2
