"""Reading uploaded spreadsheets (.xlsx, .csv) as a header plus a stream of rows.

Rows are streamed (openpyxl read-only mode, the csv module over an incremental decoder), so a
100,000-row file never becomes 100,000 Python lists at once. Anything that is not a readable
table raises :class:`FileError` with a bilingual message; no other exception escapes.
"""
from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from engine.errors import QMSError
from engine.i18n import msg

MAX_COLUMNS = 500
MAX_CELL_CHARS = 32_767          # Excel's own limit for one cell
MAX_ROWS = 200_000               # data rows of one import; a bigger sheet is refused while counting
MAX_UNPACKED_BYTES = 1 << 30     # an .xlsx unpacking to more than this is a zip bomb, refused unopened
CSV_ENCODINGS = ("utf-8-sig", "gb18030")    # gb18030: CSV saved by Excel on a Chinese Windows
DELIMITERS = (",", ";", "\t")
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"            # the old binary .xls format


class FileError(QMSError):
    """An uploaded file that cannot be read as a table (format, encoding, header)."""

    code = "invalid_file"


@dataclass
class Sheet:
    """One table: its name, the cleaned header, and ``rows()`` → (row number, values) pairs.

    Row numbers are what the user sees in Excel (the header is row 1). Fully blank rows are
    skipped; trailing blank cells are cut off, so a row may be shorter or longer than the header.
    """

    name: str
    header: list[str]
    _rows: Callable[[], Iterator[tuple[int, list]]]

    def rows(self) -> Iterator[tuple[int, list]]:
        return self._rows()

    def count(self) -> int:
        """Number of data rows (reads the sheet once); FileError beyond MAX_ROWS, without reading the rest."""
        n = 0
        for _ in self._rows():
            n += 1
            if n > MAX_ROWS:
                raise FileError(msg("文件的数据行超过 {m} 行，请分批导入", "The file has more than {m} data rows; "
                                    "import it in parts", m=MAX_ROWS))
        return n


@dataclass
class Workbook:
    """The sheets of an uploaded file, first sheet first (a CSV file has exactly one)."""

    kind: str                    # "xlsx" | "csv"
    sheets: list[Sheet]

    @property
    def main(self) -> Sheet:
        return self.sheets[0]

    def sheet(self, name: str) -> Sheet | None:
        return next((s for s in self.sheets if s.name == name), None)


def file_kind(data: bytes, filename: str | None) -> str:
    """"xlsx" or "csv" from the name and the first bytes; FileError for anything else."""
    ext = (filename or "").rsplit(".", 1)[-1].lower() if "." in (filename or "") else ""
    if data.startswith(_OLE_MAGIC) or ext == "xls":
        raise FileError(msg("不支持旧版 .xls 文件，请在 Excel 中另存为 .xlsx 后再导入",
                            "Old .xls files are not supported; save the file as .xlsx in Excel and import it again"))
    if ext == "xlsx" or (ext == "" and data.startswith(_ZIP_MAGIC)):
        return "xlsx"
    if ext in ("csv", "txt", "tsv") or ext == "":
        if data.startswith(_ZIP_MAGIC):
            raise FileError(msg("文件名是 .csv，但内容是 Excel 工作簿；请改名为 .xlsx",
                                "The file is named .csv but holds an Excel workbook; rename it to .xlsx"))
        return "csv"
    raise FileError(msg("只能导入 .xlsx 或 .csv 文件，收到“{n}”", "Only .xlsx or .csv files can be imported, got '{n}'",
                        n=(filename or "")[:80]))


def open_workbook(data: bytes, filename: str | None = None) -> Workbook:
    """Open ``data`` (the uploaded bytes) as a :class:`Workbook`; FileError when it cannot be read."""
    if not data or not data.strip():
        raise FileError(msg("文件是空的", "The file is empty"))
    kind = file_kind(data, filename)
    return _open_xlsx(data) if kind == "xlsx" else _open_csv(data)


# ---------------------------------------------------------------------------- header

def clean_header(cells: list[Any], sheet: str) -> list[str]:
    """Header texts with trailing blanks cut; FileError for blanks inside, duplicates, too many columns."""
    texts = ["" if c is None else str(c).strip() for c in cells]
    while texts and texts[-1] == "":
        texts.pop()
    if not texts:
        raise FileError(msg("工作表“{s}”第 1 行（表头）是空的", "Row 1 (the header) of sheet '{s}' is empty", s=sheet))
    if len(texts) > MAX_COLUMNS:
        raise FileError(msg("工作表“{s}”有 {n} 列，最多 {m} 列", "Sheet '{s}' has {n} columns; at most {m} are allowed",
                            s=sheet, n=len(texts), m=MAX_COLUMNS))
    blanks = [column_name(i) for i, t in enumerate(texts) if t == ""]
    if blanks:
        raise FileError(msg("工作表“{s}”表头的第 {c} 列没有列名", "Sheet '{s}': the header has no name in column(s) {c}",
                            s=sheet, c=", ".join(blanks[:10])))
    seen: dict[str, int] = {}
    for i, t in enumerate(texts):
        norm = normalize(t)
        if norm in seen:
            raise FileError(msg("工作表“{s}”表头重复：第 {a} 列和第 {b} 列都是“{t}”",
                                "Sheet '{s}': columns {a} and {b} have the same header '{t}'",
                                s=sheet, a=column_name(seen[norm]), b=column_name(i), t=t[:60]))
        seen[norm] = i
    return texts


_SPACE = re.compile(r"[\s\u3000]+")


def normalize(text: str) -> str:
    """Header comparison form: case-folded, without any spaces (also full-width ones)."""
    return _SPACE.sub("", str(text)).casefold()


def column_name(index: int) -> str:
    """0 → "A", 26 → "AA" (Excel column letters)."""
    name, index = "", index + 1
    while index:
        index, rem = divmod(index - 1, 26)
        name = chr(65 + rem) + name
    return name


def _trim(values) -> list:
    row = list(values)
    while row and (row[-1] is None or row[-1] == ""):
        row.pop()
    return row


# ---------------------------------------------------------------------------- xlsx

def _open_xlsx(data: bytes) -> Workbook:
    import zipfile
    from openpyxl import load_workbook

    try:
        unpacked = sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(data)).infolist())
    except Exception:   # not a zip at all (BadZipFile, truncated directory …)
        raise FileError(_CORRUPT_XLSX) from None
    if unpacked > MAX_UNPACKED_BYTES:
        raise FileError(msg("Excel 文件解压后超过 {m} MB，无法导入", "The Excel file unpacks to more than {m} MB; "
                            "it cannot be imported", m=MAX_UNPACKED_BYTES >> 20))
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheets = [_xlsx_sheet(book, ws) for ws in book.worksheets if ws.sheet_state == "visible"]
    except FileError:
        raise
    except Exception:   # openpyxl raises many kinds (BadZipFile, KeyError, XML errors…) for a damaged file
        raise FileError(_CORRUPT_XLSX) from None
    sheets = [s for s in sheets if s is not None]
    if not sheets:
        raise FileError(msg("工作簿里没有数据", "The workbook holds no data"))
    return Workbook("xlsx", sheets)


_CORRUPT_XLSX = msg("无法读取该 Excel 文件（文件损坏或不是 .xlsx 格式）",
                    "The Excel file cannot be read (it is damaged or not in .xlsx format)")


def _xlsx_sheet(book, ws) -> Sheet | None:
    first = next(_xlsx_rows(ws), None)
    if first is None:
        return None
    header = clean_header(first[1], ws.title)

    def rows() -> Iterator[tuple[int, list]]:
        it = _xlsx_rows(ws)
        next(it, None)
        yield from it
    return Sheet(ws.title, header, rows)


def _xlsx_rows(ws) -> Iterator[tuple[int, list]]:
    """Non-blank rows with their sheet row numbers; a damaged sheet → FileError."""
    try:
        for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
            row = _trim(values)
            if row:
                yield number, row
    except FileError:
        raise
    except Exception:
        raise FileError(_CORRUPT_XLSX) from None


# ---------------------------------------------------------------------------- csv

def detect_encoding(data: bytes) -> str:
    """The first of :data:`CSV_ENCODINGS` that decodes all of ``data``; FileError otherwise."""
    if b"\x00" in data:
        raise FileError(msg("这不是文本（CSV）文件", "This is not a text (CSV) file"))
    for encoding in CSV_ENCODINGS:
        decoder = codecs.getincrementaldecoder(encoding)("strict")
        try:
            for start in range(0, len(data), 1 << 20):   # chunked: no second full copy as str
                decoder.decode(data[start:start + (1 << 20)])
            decoder.decode(b"", final=True)
            return encoding
        except UnicodeDecodeError:
            continue
    raise FileError(msg("无法识别文件编码，请保存为 UTF-8 编码的 CSV",
                        "The file's text encoding is not recognised; save it as CSV UTF-8"))


def sniff_delimiter(first_line: str) -> str:
    """The delimiter among , ; tab that occurs most often in the header line (outside quotes)."""
    outside = re.sub(r'"[^"]*"', "", first_line)
    counts = {d: outside.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _open_csv(data: bytes) -> Workbook:
    encoding = detect_encoding(data)
    head = data[:65536].decode(encoding, errors="ignore").lstrip("\ufeff")
    delimiter = sniff_delimiter(head.splitlines()[0] if head.splitlines() else "")

    def records() -> Iterator[tuple[int, list]]:
        text = io.TextIOWrapper(io.BytesIO(data), encoding=encoding, newline="")
        reader = csv.reader(text, delimiter=delimiter, strict=False)
        number = 0
        try:
            for number, values in enumerate(reader, start=1):
                row = _trim(v.strip() if len(v) <= MAX_CELL_CHARS else _too_long(number) for v in values)
                if row:
                    yield number, row
        except csv.Error:
            raise FileError(msg("CSV 第 {r} 行格式错误，无法读取", "Row {r} of the CSV file is malformed",
                                r=number + 1)) from None

    first = next(records(), None)
    if first is None:
        raise FileError(msg("文件是空的", "The file is empty"))
    header = clean_header(first[1], "CSV")

    def rows() -> Iterator[tuple[int, list]]:
        it = records()
        next(it, None)
        yield from it
    return Workbook("csv", [Sheet("CSV", header, rows)])


def _too_long(row: int) -> str:
    raise FileError(msg("CSV 第 {r} 行有单元格超过 {n} 个字符", "Row {r} of the CSV file has a cell longer than {n} characters",
                        r=row, n=MAX_CELL_CHARS))


__all__ = ["FileError", "Sheet", "Workbook", "open_workbook", "file_kind", "clean_header", "normalize",
           "column_name", "detect_encoding", "sniff_delimiter", "MAX_COLUMNS"]
