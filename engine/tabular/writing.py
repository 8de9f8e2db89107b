"""Writing tables to .xlsx (openpyxl write-only, streamed) and .csv (UTF-8 with BOM).

Both writers take already-converted cell values (str, int, float, bool, date, datetime, None)
and protect against formula injection: a text starting with ``= + - @`` (or a tab / carriage
return) gets a leading apostrophe, so Excel shows it as text instead of running it.
"""
from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime
from typing import Any, BinaryIO, Iterable

INJECTION_STARTS = ("=", "+", "-", "@", "\t", "\r")
ESCAPE = "'"
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def safe_text(value: str) -> str:
    """``value`` with an apostrophe in front when Excel would read it as a formula."""
    return ESCAPE + value if value.startswith(INJECTION_STARTS) else value


def unescape_text(value: str) -> str:
    """Undo :func:`safe_text` on import (``'=A1`` → ``=A1``); other texts are unchanged."""
    if value.startswith(ESCAPE) and value[1:2] and value[1:].startswith(INJECTION_STARTS):
        return value[1:]
    return value


def sheet_title(text: str, taken: set[str]) -> str:
    """A valid, unique Excel sheet name (at most 31 characters, no ``[]:*?/\\``)."""
    base = _BAD_SHEET_CHARS.sub("_", text).strip("' ") or "Sheet"
    title, n = base[:31], 2
    while title.casefold() in {t.casefold() for t in taken}:
        suffix = f" ({n})"
        title, n = base[:31 - len(suffix)] + suffix, n + 1
    taken.add(title)
    return title


class XlsxWriter:
    """Streamed .xlsx: ``add_sheet(title, header)``, ``write_row(values, sheet)`` …, ``save(out)``.

    Sheets may be filled interleaved (each write-only sheet streams to its own temporary file).
    """

    def __init__(self) -> None:
        from openpyxl import Workbook

        self._book = Workbook(write_only=True)
        self._sheets: dict = {}
        self._titles: set[str] = set()

    def add_sheet(self, title: str, header: list[str], widths: Iterable[int] | None = None) -> str:
        """Start a sheet with a bold, frozen header row; returns the title actually used."""
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Font
        from openpyxl.utils import get_column_letter

        name = sheet_title(title, self._titles)
        ws = self._book.create_sheet(name)
        ws.freeze_panes = "A2"
        for i, width in enumerate(widths or [max(10, min(40, len(h) * 2 + 2)) for h in header], start=1):
            ws.column_dimensions[get_column_letter(i)].width = width
        bold = Font(bold=True)
        cells = []
        for text in header:
            cell = WriteOnlyCell(ws, value=safe_text(str(text)))
            cell.font = bold
            cells.append(cell)
        ws.append(cells)
        self._sheets[name] = ws
        return name

    def write_row(self, values: list[Any], sheet: str | None = None) -> None:
        """Append a row to ``sheet`` (a title from add_sheet; default the first sheet)."""
        from openpyxl.cell import WriteOnlyCell

        ws = self._sheets[sheet] if sheet is not None else next(iter(self._sheets.values()))
        row = []
        for value in values:
            if isinstance(value, str):
                row.append(safe_text(value))
            elif isinstance(value, (date, datetime)):
                cell = WriteOnlyCell(ws, value=value)
                cell.number_format = "yyyy-mm-dd hh:mm:ss" if isinstance(value, datetime) else "yyyy-mm-dd"
                row.append(cell)
            else:
                row.append(value)
        ws.append(row)

    def save(self, out: BinaryIO) -> None:
        if not self._sheets:
            self.add_sheet("Sheet", [""])
        self._book.save(out)


class CsvWriter:
    """CSV in UTF-8 with a BOM (so Excel opens Chinese text correctly); only one sheet."""

    def __init__(self, out: BinaryIO) -> None:
        self._out = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=True)
        self._csv = csv.writer(self._out)
        self._started = False

    def add_sheet(self, title: str, header: list[str], widths=None) -> str:
        if self._started:
            raise ValueError("a CSV file holds one table")
        self._started = True
        self._csv.writerow([safe_text(str(h)) for h in header])
        return title

    def write_row(self, values: list[Any], sheet: str | None = None) -> None:
        self._csv.writerow([_csv_cell(v) for v in values])

    def save(self, out: BinaryIO | None = None) -> None:
        self._out.flush()
        self._out.detach()      # leave the caller's stream open


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ") if value.tzinfo is None else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return safe_text(value)
    return value
