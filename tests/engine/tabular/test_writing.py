"""Writing exports: bold frozen header, typed cells, UTF-8 BOM, formula injection escaped."""
import io
from datetime import date, datetime

from openpyxl import load_workbook

from engine.tabular import CsvWriter, XlsxWriter, open_workbook, safe_text, unescape_text
from engine.tabular.writing import sheet_title


def test_xlsx_typed_cells_bold_frozen_header_and_escaped_formulas():
    w = XlsxWriter()
    title = w.add_sheet("检验/记录", ["批号", "=危险"])
    w.write_row(["=HYPERLINK(\"http://x\")", 12.5, date(2026, 4, 17), datetime(2026, 4, 17, 8, 30), True, "-3", "@a", "ok"], title)
    out = io.BytesIO()
    w.save(out)
    book = load_workbook(io.BytesIO(out.getvalue()))
    ws = book.worksheets[0]
    assert ws.title == "检验_记录" and ws.freeze_panes == "A2" and ws["A1"].font.b
    assert ws["B1"].value == "'=危险"
    row = [c.value for c in ws[2]]
    assert row[0] == "'=HYPERLINK(\"http://x\")" and ws["A2"].data_type == "s"
    assert row[1:5] == [12.5, datetime(2026, 4, 17), datetime(2026, 4, 17, 8, 30), True]
    assert row[5:] == ["'-3", "'@a", "ok"]


def test_csv_has_bom_and_escapes_injection():
    out = io.BytesIO()
    w = CsvWriter(out)
    w.add_sheet("x", ["批号", "备注"])
    w.write_row(["L1", "+cmd|' /C calc'!A0"])
    w.write_row(["L2", None])
    w.save()
    data = out.getvalue()
    assert data.startswith(b"\xef\xbb\xbf")
    assert data.decode("utf-8-sig").splitlines()[1] == "L1,'+cmd|' /C calc'!A0"
    assert list(open_workbook(data, "x.csv").main.rows()) == [(2, ["L1", "'+cmd|' /C calc'!A0"]), (3, ["L2"])]


def test_escape_round_trip_and_sheet_titles():
    for text in ["=1+1", "+5", "-x", "@sum", "plain", "'quoted"]:
        assert unescape_text(safe_text(text)) == text
    taken: set[str] = set()
    assert sheet_title("a" * 40, taken) == "a" * 31
    assert sheet_title("a" * 40, taken) == "a" * 27 + " (2)"
