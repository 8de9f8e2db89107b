"""Exports: the filtered list to xlsx/csv, labels in the user's language, typed cells, sub-table
sheets, injection escaped, the export permission."""
import io
from datetime import datetime

import pytest
from openpyxl import load_workbook

from engine.errors import PermissionDenied
from engine.services.exports import ExportError, export_records
from engine.storage.db import session_scope
from engine.tabular import open_workbook
from engine.types import Actor
from tests.engine.services.support import create, lot, publish, publish_iqc
from tests.engine.services.tabular_support import INSPECTION, NOW, row


def export(engine, actor, form="inspection", **kw):
    with session_scope(engine) as s:
        return export_records(s, actor, form, now=NOW, **kw)


def test_xlsx_export_has_chinese_labels_typed_cells_and_escaped_formulas(db_engine, actor):
    publish(db_engine, actor, INSPECTION)
    made = create(db_engine, actor, "inspection", row(1, part_no="=1+2", defect_qty=1))
    ws = load_workbook(io.BytesIO(export(db_engine, actor, lang="zh-CN"))).worksheets[0]
    header = [c.value for c in ws[1]]
    assert header[:4] == ["记录 ID", "编号", "批号", "供应商"] and "不良率" in header and ws.freeze_panes == "A2"
    values = dict(zip(header, [c.value for c in ws[2]]))
    assert values["记录 ID"] == made.id and values["物料编码"] == "'=1+2"
    assert values["检验时间"] == datetime(2026, 4, 16, 1, 15) and values["样本量"] == 50
    assert values["缺陷代码"] == "尺寸不良, 外观不良" and values["判定"] == "不合格" and values["检验员"] == 7
    assert values["不良率"] == pytest.approx(0.02)


def test_csv_export_in_english_follows_filter_and_sort_across_pages(db_engine, actor):
    publish(db_engine, actor, INSPECTION)
    for i in range(3):
        create(db_engine, actor, "inspection", row(i))
    data = export(db_engine, actor, fmt="csv", lang="en", filter='result = "NG"', sort="-lot_no",
                  columns=["lot_no", "result"])
    assert data.startswith(b"\xef\xbb\xbf")
    sheet = open_workbook(data, "x.csv").main
    assert sheet.header == ["Record ID", "Serial no.", "Lot number", "Result"]
    assert [r[2:] for _, r in sheet.rows()] == [["L00002", "Fail"], ["L00001", "Fail"]]


def test_many_records_are_exported_page_by_page(db_engine, actor, monkeypatch):
    from engine.services import exports
    monkeypatch.setattr(exports, "PAGE", 2)
    publish(db_engine, actor, INSPECTION)
    for i in range(5):
        create(db_engine, actor, "inspection", row(i))
    sheet = open_workbook(export(db_engine, actor, fmt="csv", sort="lot_no"), "x.csv").main
    assert [r[2] for _, r in sheet.rows()] == [f"L{i:05d}" for i in range(5)]


def test_sub_tables_get_their_own_sheets_linked_to_the_record(db_engine, actor):
    supplier = publish_iqc(db_engine, actor)
    made = create(db_engine, actor, "iqc_inspection", lot(supplier.id))
    book = open_workbook(export(db_engine, actor, form="iqc_inspection", lang="en"), "x.xlsx")
    assert [s.name for s in book.sheets][1:] == ["Characteristics", "Characteristics-Readings"]
    chars = list(book.sheets[1].rows())
    assert [r[:2] for _, r in chars] == [[made.id, made.serial_no]] * 2 and chars[0][1][3] == "Length"
    readings = book.sheets[2]
    assert readings.header[:4] == ["Record ID", "Serial no.", "Parent row ID", "Row ID"]
    assert [r[4] for _, r in readings.rows()] == [10.01, 9.98, 10.04, 5]


def test_export_needs_the_permission_and_a_known_format(db_engine, actor):
    publish(db_engine, actor, INSPECTION)
    clerk = Actor(tenant_id=actor.tenant_id, user_id=999, lang="en")
    with pytest.raises(PermissionDenied):
        export(db_engine, clerk)
    with pytest.raises(ExportError):
        export(db_engine, actor, fmt="pdf")
    with pytest.raises(ExportError):
        export(db_engine, actor, columns=["nope"])
