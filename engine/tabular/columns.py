"""Column headers of exported/imported record tables, shared so an export always imports back.

Decision: one header row of field labels in the user's language (what a person expects in
Excel). A label that would be ambiguous gets its key in brackets (``检验员 [inspector]``).
On import a header matches a field by key, by its zh-CN or en label, or by a trailing
``[key]`` / ``(key)`` — case- and space-insensitive. System columns (record id, serial number,
sub-table links, the error column of an error workbook) are recognised and not imported.
"""
from __future__ import annotations

import re
from typing import Iterable, Sequence

from engine.definitions.model import FieldDef
from engine.i18n import Msg, label_text
from engine.tabular.reading import normalize

RECORD_ID = "id"
SERIAL_NO = "serial_no"
PARENT_ROW = "parent_row_id"
ROW_ID = "row_id"
ERRORS = "import_errors"
APPROVAL = "approval_state"
SIGNATURES = "signatures"
SYSTEM_LABELS = {
    APPROVAL: Msg("审批状态", "Approval state"),
    SIGNATURES: Msg("电子签名", "E-signatures"),
    RECORD_ID: Msg("记录 ID", "Record ID"),
    SERIAL_NO: Msg("编号", "Serial no."),
    PARENT_ROW: Msg("上级行 ID", "Parent row ID"),
    ROW_ID: Msg("行 ID", "Row ID"),
    ERRORS: Msg("导入错误", "Import errors"),
}
_BRACKETED = re.compile(r"[\[(（【]\s*([a-z][a-z0-9_]*)\s*[\])）】]\s*$")


def system_header(key: str, lang: str) -> str:
    return SYSTEM_LABELS[key].get(lang)


def field_headers(fields: Sequence[FieldDef], lang: str, system: Iterable[str] = ()) -> list[str]:
    """Header texts for ``fields``: labels in ``lang``, with ``[key]`` where a label is ambiguous."""
    texts = [label_text(f.label, lang) or f.key for f in fields]
    taken = {normalize(system_header(k, lang)) for k in system} | {normalize(t) for t in _all_system_names()}
    counts: dict[str, int] = {}
    for t in texts:
        counts[normalize(t)] = counts.get(normalize(t), 0) + 1
    keys = {f.key for f in fields}

    def ambiguous(f: FieldDef, text: str) -> bool:
        n = normalize(text)
        return counts[n] > 1 or n in taken or (n in keys and n != f.key)
    return [f"{t} [{f.key}]" if ambiguous(f, t) else t for f, t in zip(fields, texts)]


def _all_system_names() -> list[str]:
    return [name for k, m in SYSTEM_LABELS.items() for name in (k, m.zh, m.en)]


def system_column(header: str) -> str | None:
    """The system column a header names (``id``, ``serial_no`` …), else None."""
    norm = normalize(header)
    for key, label in SYSTEM_LABELS.items():
        if norm in (normalize(key), normalize(label.zh), normalize(label.en)):
            return key
    return None


def match_field(header: str, fields: Sequence[FieldDef]) -> FieldDef | None:
    """The field a header names: by key, by trailing ``[key]``, by zh-CN/en label; None if none."""
    norm = normalize(header)
    by_key = {f.key: f for f in fields}
    if norm in by_key:
        return by_key[norm]
    m = _BRACKETED.search(header.strip())
    if m and m.group(1) in by_key:
        return by_key[m.group(1)]
    found = [f for f in fields if norm in (normalize(f.label.zh), normalize(f.label.en))]
    return found[0] if len(found) == 1 else None
