"""Fuzzing the record import from Excel/CSV with malformed files.

Random bytes, truncated or garbled zips, workbooks whose sheet XML is corrupt, a CSV renamed
.xlsx, and real workbooks with wrong headers, wrong cell types, formulas, merged cells, NaN,
dates as text and oversized cells. The importer raises only its own errors (FileError,
ImportSetupError) with both languages, or returns a report: when it lists problems, each names
its row (and column where there is one), and — all or nothing — no table changed at all.
An xlsx bomb (a tiny file that unpacks to a huge sheet) is refused by the row limit, quickly.
"""
from __future__ import annotations

import io
import time
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from engine.errors import QMSError
from engine.services.imports import import_records
from engine.storage.db import session_scope
from engine.tabular import reading
from tests.engine.fuzz.support import db_snapshot
from tests.engine.services.tabular_support import INSPECTION, NOW
from tests.runtime.api.support import add_tenant
from tests.runtime.web_support import make_app

HEADERS = ["批号", "lot_no", "Sample Size", "样本量", "判定", "result", "检验时间", "inspector", "缺陷代码", "measured",
           "不良数", "", None, "批号", "=A1", "x" * 300, "__class__", "id"]
CELLS = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**20), 10**20), st.floats(allow_nan=True, allow_infinity=False),
    st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=20),
    st.sampled_from(["=1/0", "=SUM(A1:A9)", "=HYPERLINK(\"http://x\")", "2026-02-30", "2026-04-16 09:15",
                     "NaN", "OK", "合格", "D01,D09", "x" * 33_000]),
    st.datetimes(), st.dates())
CASES = {"files": 0, "refused_file": 0, "refused_rows": 0, "written": 0}


def _xlsx(header: list, rows: list[list], merge: bool = False) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for r in rows:
        sheet.append(r)
    if merge:
        sheet.merge_cells("A2:B3")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


VALID = _xlsx(["批号", "样本量", "判定"], [["L1", 5, "OK"], ["L2", 6, "NG"]])


def _replace_member(data: bytes, member: str, content: bytes) -> bytes:
    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info.filename, content if info.filename == member else source.read(info.filename))
    return out.getvalue()


def _flip(data: bytes, at: int, byte: int) -> bytes:
    at %= len(data)
    return data[:at] + bytes([byte]) + data[at + 1:]


_cells = st.lists(st.lists(CELLS, max_size=6), max_size=6)
FILES = st.one_of(
    st.tuples(st.binary(max_size=300), st.sampled_from(["x.xlsx", "x.csv", "x", "x.xls", "x.txt"])),
    st.integers(0, len(VALID)).map(lambda n: (VALID[:n], "x.xlsx")),
    st.tuples(st.integers(0, 10**6), st.integers(0, 255)).map(lambda t: (_flip(VALID, *t), "x.xlsx")),
    st.binary(max_size=200).map(lambda b: (_replace_member(VALID, "xl/worksheets/sheet1.xml", b), "x.xlsx")),
    st.sampled_from([b"<worksheet><sheetData><row><c r='A1' t='s'><v>99</v></c></row>",
                     b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'aaaa'>]><x>&a;&a;</x>"]).map(
        lambda b: (_replace_member(VALID, "xl/worksheets/sheet1.xml", b), "x.xlsx")),
    st.just(("批号,样本量\nL1,5\n".encode(), "x.xlsx")),                   # a CSV renamed .xlsx
    st.tuples(st.lists(st.sampled_from(HEADERS), min_size=1, max_size=6), _cells, st.booleans()).map(
        lambda t: (_xlsx(*t), "x.xlsx")),
    st.tuples(st.lists(st.sampled_from(["批号", "样本量", "判定", "inspector"]), min_size=2, max_size=4,
                       unique=True), _cells).map(lambda t: (_xlsx(t[0], t[1]), "x.xlsx")),
    _cells.map(lambda rows: ("\n".join(",".join("" if c is None else str(c).replace(",", " ") for c in r)
                                       for r in [["批号", "样本量", "判定"], *rows]).encode(), "x.csv")),
)


@pytest.fixture(scope="module")
def plant(tmp_path_factory):
    app = make_app(tmp_path_factory.mktemp("xlsx"))
    tenant = add_tenant(app, "default")
    tenant.publish(INSPECTION)
    return app.extensions["qms_db"], tenant.admin


def _import(engine, actor, data: bytes, name: str):
    with session_scope(engine) as s:
        return import_records(s, actor, "inspection", data, name, now=NOW)


@settings(max_examples=60, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
@given(upload=FILES)
def test_malformed_files_are_refused_cleanly_and_all_or_nothing(plant, upload):
    engine, actor = plant
    data, name = upload
    before = db_snapshot(engine)
    CASES["files"] += 1
    started = time.perf_counter()
    try:
        report = _import(engine, actor, data, name)
    except QMSError as exc:
        CASES["refused_file"] += 1
        assert type(exc).__name__ in ("FileError", "ImportSetupError"), repr(exc)
        assert exc.message.zh and exc.message.en
        assert db_snapshot(engine) == before
    else:
        if report.ok:
            CASES["written"] += 1
            assert report.written and report.created + report.updated + report.unchanged + report.skipped \
                == report.total_rows
        else:
            CASES["refused_rows"] += 1
            assert not report.written and db_snapshot(engine) == before
            for p in report.problems:
                assert p.row >= 2 and p.message.zh and p.message.en, p      # the row, in both languages
    assert time.perf_counter() - started < 10


def test_nan_and_infinite_numbers_are_row_problems(plant):
    engine, actor = plant
    before = db_snapshot(engine)
    data = "批号,样本量,判定\nN1,NaN,OK\nN2,inf,OK\n".encode()
    report = _import(engine, actor, data, "x.csv")
    assert not report.ok and {p.row for p in report.problems} == {2, 3}
    assert all(p.column == "样本量" for p in report.problems)
    assert db_snapshot(engine) == before


def _bomb(rows: int) -> tuple[bytes, bytes]:
    body = "".join(f'<row r="{i}"><c r="A{i}" t="inlineStr"><is><t>L</t></is></c></row>' for i in range(2, rows + 2))
    sheet = ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
             'spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>批号</t></is></c></row>'
             f'{body}</sheetData></worksheet>').encode()
    return _replace_member(VALID, "xl/worksheets/sheet1.xml", sheet), sheet


def test_an_xlsx_bomb_is_refused_by_the_row_limit(plant, monkeypatch):
    engine, actor = plant
    monkeypatch.setattr(reading, "MAX_ROWS", 2_000)       # the same check as at 200,000 rows, in a fraction
    bomb, sheet = _bomb(50_000)
    assert len(bomb) < len(sheet) / 10              # highly compressible
    before = db_snapshot(engine)
    started = time.perf_counter()
    with pytest.raises(QMSError) as info:
        _import(engine, actor, bomb, "bomb.xlsx")
    assert type(info.value).__name__ == "FileError" and "2000" in info.value.message.en
    assert time.perf_counter() - started < 5 and db_snapshot(engine) == before


def test_an_xlsx_unpacking_beyond_the_size_limit_is_refused_unopened(plant, monkeypatch):
    engine, actor = plant
    monkeypatch.setattr(reading, "MAX_UNPACKED_BYTES", 1 << 20)
    bomb, sheet = _bomb(30_000)
    assert len(sheet) > 1 << 20
    with pytest.raises(QMSError) as info:
        _import(engine, actor, bomb, "bomb.xlsx")
    assert type(info.value).__name__ == "FileError" and "1 MB" in info.value.message.en


def test_report_fuzz_case_counts():
    """Runs last in this module: the number of fuzz cases (for the CI log)."""
    print(f"excel import fuzz: {CASES}")
