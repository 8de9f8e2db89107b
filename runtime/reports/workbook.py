"""Report numbers as an Excel workbook (openpyxl): one sheet per report, a bold header row, then
one row per result row — dimension labels as the chart shows them, measures as numbers (shares
formatted as percentages, so Excel keeps computing with the exact values).
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any, Sequence

from openpyxl import Workbook
from openpyxl.styles import Font

SHEET_TITLE_MAX = 31                     # Excel's limit
_BAD_TITLE = re.compile(r"[\[\]:*?/\\]")  # characters Excel refuses in a sheet title


@dataclass(frozen=True)
class Sheet:
    """One report's numbers: the sheet's title, the header, the rows, which columns are shares."""

    title: str
    header: Sequence[str]
    rows: Sequence[Sequence[Any]]
    percent: Sequence[bool] = ()


def sheet_from_data(title: str, data: dict) -> Sheet:
    """A sheet from a ReportData's JSON (``columns``, ``rows``, ``labels``): labels for dimensions."""
    columns = data.get("columns") or []
    dims = sum(1 for c in columns if c.get("kind") == "dimension")
    rows = [list(labels) + list(row[dims:]) for row, labels in zip(data.get("rows") or [], data.get("labels") or [])]
    return Sheet(title, [c.get("label") or c.get("key") for c in columns], rows,
                 [bool(c.get("percent")) for c in columns])


def workbook_bytes(sheets: Sequence[Sheet]) -> bytes:
    """The .xlsx file of ``sheets`` (titles made unique and acceptable to Excel)."""
    book = Workbook()
    book.remove(book.active)
    used: set[str] = set()
    for sheet in sheets:
        ws = book.create_sheet(_unique(_clean(sheet.title), used))
        _append(ws, sheet.header)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in sheet.rows:
            _append(ws, row)
        for index, is_share in enumerate(sheet.percent, start=1):
            if not is_share:
                continue
            for (cell,) in ws.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = "0.00%"
        ws.freeze_panes = "A2"
        for index, title in enumerate(sheet.header, start=1):
            ws.column_dimensions[ws.cell(1, index).column_letter].width = min(40, max(10, len(str(title)) * 2 + 2))
    if not book.worksheets:
        book.create_sheet("-")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _clean(title: str) -> str:
    text = _BAD_TITLE.sub(" ", title or "").strip().strip("'") or "Sheet"
    return text[:SHEET_TITLE_MAX]


def _unique(title: str, used: set[str]) -> str:
    candidate, n = title, 2
    while candidate.lower() in used:
        suffix = f" ({n})"
        candidate = title[:SHEET_TITLE_MAX - len(suffix)] + suffix
        n += 1
    used.add(candidate.lower())
    return candidate


def _append(ws, values: Sequence[Any]) -> None:
    """One row; numbers stay numbers, and a label starting with "=" stays text (openpyxl would
    store it as a formula that Excel then runs: a record title must never become one)."""
    ws.append([str(v) if isinstance(v, (list, dict)) else v for v in values])
    for cell in ws[ws.max_row]:
        if cell.data_type == "f":
            cell.data_type = "s"
