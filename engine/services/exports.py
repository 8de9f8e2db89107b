"""Export the records of a form (the filtered list) to .xlsx or .csv.

Records are read page by page through :func:`engine.services.records.query_records` — the same
read scope and hidden-field rules as the list page — and streamed into the writer, so memory
stays bounded however many records match. Sub-tables get their own sheets in .xlsx, linked to
the parent by record id and serial number (a CSV file holds only the form's own fields).
"""
from __future__ import annotations

import io
from datetime import datetime, tzinfo
from typing import BinaryIO, Iterator, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.definitions.model import FieldDef, FormDef
from engine import access
from engine.access import FormAccess
from engine.errors import QMSError
from engine.fields import field_type
from engine.i18n import label_text, msg
from engine.services import records as record_service
from engine.storage import form_store
from engine.storage.db import stored_utc
from engine.storage.records import Record
from engine.tabular import CsvWriter, XlsxWriter
from engine.tabular.columns import (APPROVAL, PARENT_ROW, RECORD_ID, ROW_ID, SERIAL_NO, SIGNATURES, field_headers,
                                    system_header)
from engine.tabular.values import to_cell
from engine.types import Actor

FORMATS = ("xlsx", "csv")
PAGE = record_service.MAX_PER_PAGE


class ExportError(QMSError):
    """An export request that cannot be served (unknown format or column)."""

    code = "invalid_export"


def require(session: Session, actor: Actor, form_key: str, action: str) -> FormAccess:
    """The actor's FormAccess on the form, after checking ``action`` (PermissionDenied otherwise)."""
    granted = access.form_access(session, actor, form_key)
    access.require(granted, action)
    return granted


def export_records(session: Session, actor: Actor, form_key: str, fmt: str = "xlsx", filter: str | None = None,
                   sort: str | None = None, columns: Sequence[str] | None = None, lang: str = "zh-CN",
                   *, tz: tzinfo | None = None, now: datetime | None = None) -> bytes:
    """The matching records as file bytes (see :func:`write_export` to stream into a file)."""
    out = io.BytesIO()
    write_export(out, session, actor, form_key, fmt, filter, sort, columns, lang, tz=tz, now=now)
    return out.getvalue()


def write_export(out: BinaryIO, session: Session, actor: Actor, form_key: str, fmt: str = "xlsx",
                 filter: str | None = None, sort: str | None = None, columns: Sequence[str] | None = None,
                 lang: str = "zh-CN", *, tz: tzinfo | None = None, now: datetime | None = None) -> int:
    """Write the export into ``out``; returns the number of records written.

    ``columns``: top-level field keys to include (default: every field the user may see);
    datetimes are shown in ``tz`` (default UTC) because Excel cells carry no time zone.
    """
    if fmt not in FORMATS:
        raise ExportError(msg("不支持的导出格式“{f}”，可选 xlsx、csv", "Unknown export format '{f}'; use xlsx or csv",
                              f=str(fmt)[:20]))
    granted = require(session, actor, form_key, "export")
    form = form_store.load_published(session, actor.tenant_id, form_key).form
    hidden = granted.hidden_fields
    top, subs = _columns(form, columns, hidden)
    writer = XlsxWriter() if fmt == "xlsx" else CsvWriter(out)
    flows = form_store.has_flows(session, actor.tenant_id, form_key)
    approval = [system_header(APPROVAL, lang), system_header(SIGNATURES, lang)] if flows else []
    main = writer.add_sheet(label_text(form.label, lang) or form.key,
                            [system_header(RECORD_ID, lang), system_header(SERIAL_NO, lang)] + field_headers(top, lang)
                            + approval)
    sheets = _sub_sheets(writer, subs, lang, hidden) if fmt == "xlsx" else []
    count = 0
    for page in _pages(session, actor, form_key, filter, sort, now, tz):
        signed = _signatures(session, actor.tenant_id, form_key, [r.id for r in page], lang) if flows else {}
        for record in page:
            extra = [record.flow_state or "", signed.get(record.id, "")] if flows else []
            writer.write_row([record.id, record.serial_no]
                             + [to_cell(f, record.data.get(f.key), lang, tz) for f in top] + extra, main)
            for path, fields, title in sheets:
                _write_rows(writer, title, record, record.data, path, fields, None, lang, tz)
            count += 1
    writer.save(out)
    return count


def _signatures(session: Session, tenant_id: int, form_key: str, ids: list[int], lang: str) -> dict[int, str]:
    """The e-signatures of each record as text (21 CFR 11.50: printed name, UTC time, meaning)."""
    from engine.storage.flow_tables import flow_signatures as sigs
    rows = session.execute(select(sigs.c.record_id, sigs.c.printed_name, sigs.c.signed_at, sigs.c.meaning_label)
                           .where(sigs.c.tenant_id == tenant_id, sigs.c.form_key == form_key,
                                  sigs.c.record_id.in_(ids)).order_by(sigs.c.id)).all() if ids else []
    out: dict[int, list[str]] = {}
    for r in rows:
        meaning = (r.meaning_label or {}).get(lang) or (r.meaning_label or {}).get("en") or ""
        at = stored_utc(r.signed_at).replace(tzinfo=None).isoformat(sep=" ", timespec="minutes")
        out.setdefault(r.record_id, []).append(f"{r.printed_name} · {meaning} · {at} UTC")
    return {k: "; ".join(v) for k, v in out.items()}


def _columns(form: FormDef, columns: Sequence[str] | None, hidden: frozenset) -> tuple[list[FieldDef], list[FieldDef]]:
    """(scalar fields, sub-table fields) to export, in form order or in the order asked for."""
    if columns is None:
        chosen = [f for f in form.fields if f.key not in hidden]
    else:
        unknown = [c for c in columns if form.field(c) is None or c in hidden]
        if unknown:
            raise ExportError(msg("表单中没有这些列：{c}", "The form has no column(s): {c}", c=", ".join(map(str, unknown[:10]))))
        chosen = [form.field(c) for c in dict.fromkeys(columns)]
    subs = [f for f in chosen if field_type(f.type).is_subtable]
    return [f for f in chosen if not field_type(f.type).is_subtable], subs


def _sub_sheets(writer, subs: list[FieldDef], lang: str, hidden: frozenset) -> list[tuple]:
    """One sheet per sub-table at any depth: (path of keys, scalar columns, sheet title)."""
    sheets = []

    def visit(field: FieldDef, path: tuple[str, ...], label: str) -> None:
        scalars = [f for f in field.fields if not field_type(f.type).is_subtable]
        system = [RECORD_ID, SERIAL_NO] + ([PARENT_ROW] if len(path) > 1 else []) + [ROW_ID]
        title = writer.add_sheet(label, [system_header(k, lang) for k in system]
                                 + field_headers(scalars, lang, system))
        sheets.append((path, scalars, title))
        for child in field.fields:
            if field_type(child.type).is_subtable:
                visit(child, path + (child.key,), f"{label}-{label_text(child.label, lang) or child.key}")
    for f in subs:
        visit(f, (f.key,), label_text(f.label, lang) or f.key)
    return sheets


def _write_rows(writer, title, record: Record, data: dict, path, fields, parent_id, lang, tz) -> None:
    """Rows of the sub-table at ``path`` under ``data`` (recursing through the levels above it)."""
    rows = data.get(path[0]) or []
    for row in rows if isinstance(rows, list) else []:
        if len(path) > 1:
            _write_rows(writer, title, record, row, path[1:], fields, row.get("id"), lang, tz)
            continue
        link = [record.id, record.serial_no] + ([parent_id] if parent_id is not None else [])
        writer.write_row(link + [row.get("id")] + [to_cell(f, row.get(f.key), lang, tz) for f in fields], title)


def _pages(session, actor, form_key, filter, sort, now, tz) -> Iterator[list[Record]]:
    """Every matching record, one page of :data:`PAGE` at a time."""
    page = 1
    while True:
        result = record_service.query_records(session, actor, form_key, filter=filter, sort=sort, page=page,
                                              per_page=PAGE, now=now, tz=tz)
        if result.items:
            yield result.items
        if not result.items or page * PAGE >= result.total:
            return
        page += 1
