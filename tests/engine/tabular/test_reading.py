"""Reading uploads: xlsx/csv into header + rows, encodings, delimiters, and clear refusals."""
import io

import pytest
from hypothesis import given, settings, strategies as st
from openpyxl import Workbook

from engine.tabular import FileError, open_workbook
from engine.tabular.reading import MAX_COLUMNS, sniff_delimiter


def xlsx(rows) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def rows_of(sheet):
    return list(sheet.rows())


def test_xlsx_header_and_rows_with_row_numbers_and_blank_rows_skipped():
    book = open_workbook(xlsx([["批号", "数量"], ["L1", 5], [None, None], ["L2", 7.5]]), "a.xlsx")
    assert book.kind == "xlsx" and book.main.header == ["批号", "数量"]
    assert rows_of(book.main) == [(2, ["L1", 5]), (4, ["L2", 7.5])]
    assert book.main.count() == 2


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_chinese_in_utf8_with_or_without_bom_and_gb18030(encoding):
    data = "批号,供应商\nL1,华东金属\n".encode(encoding)
    sheet = open_workbook(data, "a.csv").main
    assert sheet.header == ["批号", "供应商"] and rows_of(sheet) == [(2, ["L1", "华东金属"])]


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_csv_delimiter_is_sniffed(delimiter):
    data = delimiter.join(["a", "b", "c"]) + "\n" + delimiter.join(["1", '"x, y"', "3"]) + "\n"
    sheet = open_workbook(data.encode(), "a.csv").main
    assert sheet.header == ["a", "b", "c"] and rows_of(sheet)[0][1] == ["1", "x, y", "3"]
    assert sniff_delimiter('"a;b",c') == ","


@pytest.mark.parametrize("data, name, words", [
    (b"", "a.csv", "empty"),
    (b"   \n", "a.csv", "empty"),
    (b"PK\x03\x04garbage-not-a-zip", "a.xlsx", "cannot be read"),
    (b"\x00\x01\x02\xff\xfe", "a.csv", "not a text"),
    (b"\xd0\xcf\x11\xe0old", "a.xls", ".xls"),
    (b"hello", "a.pdf", "Only .xlsx or .csv"),
    (b"\x81\x30\xff\xff\x80\n", "a.csv", "encoding"),
    ("a,,b\n1,2,3\n".encode(), "a.csv", "no name in column"),
    ("批号,Lot No,批 号\n".encode(), "a.csv", "same header"),
])
def test_bad_files_are_refused_in_both_languages(data, name, words):
    with pytest.raises(FileError) as err:
        open_workbook(data, name)
    assert words in err.value.message.en and err.value.message.zh


def test_too_many_columns_and_a_corrupt_zip_named_xlsx():
    wide = ",".join(f"c{i}" for i in range(MAX_COLUMNS + 1)).encode()
    with pytest.raises(FileError, match="columns"):
        open_workbook(wide, "a.csv")
    broken = xlsx([["a"], [1]])
    with pytest.raises(FileError):
        open_workbook(broken[: len(broken) // 2], "a.xlsx")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_csv_reader_fuzz_raises_only_file_errors(data):
    try:
        sheet = open_workbook(data, "fuzz.csv").main
        for _ in sheet.rows():
            pass
    except FileError:
        pass
