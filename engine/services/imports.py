"""Import records from an .xlsx/.csv file: insert or upsert on a business key, all or nothing.

Two streamed passes over the file. Pass 1 maps the header to fields, converts each row and
validates it exactly as the record services will (same ``validate_record``, formulas, lookups,
permissions), checks keys (blank, duplicated in the file, ambiguous in the database) and
decides per row: create, update, unchanged, or skip (already imported). Any problem → nothing
is written and the report lists every problem with its row number. Pass 2 (not in a dry run)
writes every row through ``create_record`` / ``update_record`` inside a SAVEPOINT of the
caller's transaction: one failure undoes the whole import, and the caller's rollback too.
Re-running after a failure creates no duplicates when a key is given (upsert updates, insert
skips rows whose key already exists).
"""
from __future__ import annotations

import io
from datetime import datetime, timezone, tzinfo
from typing import Any, Callable, Iterator

from sqlalchemy import and_
from sqlalchemy.orm import Session

from engine import access
from engine.access import FormAccess
from engine.definitions.model import FieldDef
from engine.errors import QMSError, RecordValidationError
from engine.expressions import EvalContext
from engine.fields import field_type
from engine.fields.base import InvalidValue
from engine.forms import validate_record
from engine.i18n import label_text, msg
from engine.services.facts import SqlFacts
from engine.services import records as record_service
from engine.services import rule_events
from engine.storage import form_store, records
from engine.storage.form_store import PublishedForm
from engine.tabular import FileError, XlsxWriter, open_workbook
from engine.tabular.columns import ERRORS, match_field, system_column, system_header
from engine.tabular.report import ImportReport, Progress, RowProblem
from engine.tabular.values import from_cell, importable
from engine.types import Actor

MODES = ("insert", "upsert")
CHUNK = 500
KEY_TYPES = frozenset({"text", "barcode", "number", "date", "select", "radio", "reference"})

__all__ = ["ImportReport", "RowProblem", "ImportSetupError", "import_records", "error_workbook"]


class ImportSetupError(QMSError):
    """An import request that cannot run (mode, key field, columns)."""

    code = "invalid_import"


def import_records(session: Session, actor: Actor, form_key: str, file_bytes: bytes, filename: str,
                   mode: str = "insert", key_field: str | None = None, dry_run: bool = False,
                   progress: Callable[[int, int], None] | None = None, *, reason: str | None = None,
                   now: datetime | None = None, tz: tzinfo | None = None) -> ImportReport:
    """Validate every row of the file, then (unless ``dry_run`` or any problem) write them all.

    Naive datetimes in the file are read in ``tz`` (default UTC), as exports write them.
    FileError for an unreadable file, ImportSetupError for a bad mode/key, PermissionDenied
    when the actor may neither create nor update.
    """
    if mode not in MODES:
        raise ImportSetupError(msg("导入方式应为 insert 或 upsert", "The import mode must be insert or upsert"))
    granted = access.form_access(session, actor, form_key)
    access.require(granted, "create" if mode == "insert" else ("create" if granted.can_create else "update"))
    pub = form_store.load_published(session, actor.tenant_id, form_key)
    sheet = open_workbook(file_bytes, filename).main
    report = ImportReport(form_key, mode, key_field, dry_run, source=(file_bytes, filename))
    columns = _map_columns(sheet.header, pub, granted, report)
    key = _key_field(pub, key_field, mode, columns)
    report.total_rows = sheet.count()
    if report.total_rows == 0:
        raise FileError(msg("文件只有表头，没有数据行", "The file has a header but no data rows"))
    job = _Job(session, actor, pub, granted, columns, key, report, tz, now or datetime.now(timezone.utc),
               len(sheet.header))
    tick = Progress(progress, report.total_rows * (1 if dry_run else 2))
    decisions = job.check(sheet.rows(), tick)
    if not report.ok or dry_run:
        return report
    # rules fire per row written (or once for the file, for rules that ask for that)
    with rule_events.batch(session, actor, "import"), session.begin_nested():
        job.write(sheet.rows(), decisions, tick, reason or "import")   # a failure undoes every row written
    report.written = True
    return report


def _map_columns(header: list[str], pub: PublishedForm, granted: FormAccess,
                 report: ImportReport) -> list[tuple[int, FieldDef]]:
    """(column index, field) of every importable column; the others are listed in the report."""
    blocked = granted.hidden_fields | granted.readonly_fields
    mapped: list[tuple[int, FieldDef]] = []
    for i, text in enumerate(header):
        found = match_field(text, pub.form.fields)
        if found is None:
            (report.ignored_columns if system_column(text) else report.unknown_columns).append(text)
        elif not importable(found) or found.key in blocked:
            report.ignored_columns.append(text)
        elif any(f.key == found.key for _, f in mapped):
            raise FileError(msg("“{t}”和另一列都对应字段“{k}”", "The column '{t}' and another one both map to field '{k}'",
                                t=text[:60], k=found.key))
        else:
            mapped.append((i, found))
            report.columns[text] = found.key
    if not mapped:
        raise FileError(msg("表头中没有可导入的字段列（请使用导出文件的表头）",
                            "No column of the header matches an importable field (use the header of an export)"))
    return mapped


def _key_field(pub: PublishedForm, key_field: str | None, mode: str, columns) -> FieldDef | None:
    if key_field is None:
        if mode == "upsert":
            raise ImportSetupError(msg("更新导入需要指定业务主键字段（如批号）",
                                       "An upsert needs a business key field (such as the lot number)"))
        return None
    found = pub.form.field(key_field)
    if found is None or found.type not in KEY_TYPES:
        raise ImportSetupError(msg("“{k}”不能作为业务主键：须为本表单的单值字段（文本、数字、日期、选项或关联）",
                                   "'{k}' cannot be the business key: it must be a single-value field of this form "
                                   "(text, number, date, choice or reference)", k=str(key_field)[:40]))
    if all(f.key != found.key for _, f in columns):
        raise ImportSetupError(msg("文件中没有业务主键列“{l}”", "The file has no column for the business key '{l}'",
                                   l=label_text(found.label, "en") or found.key))
    return found


class _Job:
    """One import: the form, permissions and caches shared by both passes (built once, not per row)."""

    def __init__(self, session, actor, pub, granted, columns, key, report, tz, now, header_len):
        self.session, self.actor, self.pub, self.granted = session, actor, pub, granted
        self.columns, self.key, self.report, self.tz, self.now = columns, key, report, tz, now
        self.headers = {k: text for text, k in report.columns.items()}     # field key → header text
        self.header_len = header_len
        self.updatable: set[int] = set()
        self.ctx = EvalContext(user_id=actor.user_id, now=now, tz=tz, lang=actor.lang, facts=SqlFacts(session, actor.tenant_id))
        self.form_for = record_service._versions(session, actor.tenant_id, pub)
        self.lookups = _cached(record_service._lookups(session, actor.tenant_id, pub.form))

    def data(self, values: list) -> dict[str, Any]:
        return {f.key: from_cell(f, values[i] if i < len(values) else None, self.tz) for i, f in self.columns}

    # ------------------------------------------------------------------ pass 1
    def check(self, rows: Iterator[tuple[int, list]], tick: Progress) -> list[tuple]:
        """Validate every row; returns one decision per row: (action, record_id, version)."""
        decisions: list[tuple] = []
        seen: dict[Any, int] = {}
        for chunk in _chunks(rows):
            prepared = [(n, self.data(v), v) for n, v in chunk]
            existing = self._existing([self._key_of(n, d, seen, report=False) for n, d, _ in prepared])
            for number, data, raw in prepared:
                decisions.append(self._check_row(number, data, raw, seen, existing))
                tick.advance()
        return decisions

    def _check_row(self, number: int, data: dict, raw: list, seen: dict, existing: dict) -> tuple:
        if len(raw) > self.header_len:     # rows are trimmed: a longer row has a value past the header
            self.report.add(number, None, None, msg("该行在没有表头的列中有内容", "The row has values in columns without a header"))
        key = self._key_of(number, data, seen, report=True)
        old = existing.get(key) if key is not None else None
        if old == "ambiguous":
            self.report.add(number, self.key.key, self.headers.get(self.key.key),
                            msg("系统中有多条记录的主键为“{v}”", "Several stored records have the key '{v}'", v=str(key)[:60]))
            return ("error", None, None)
        if old is not None and self.report.mode == "insert":
            return ("skip", old.id, old.version)
        if old is not None:
            return self._check_update(number, data, old)
        if not self.granted.can_create:
            self.report.add(number, None, None, msg("你没有新建记录的权限", "You may not create records"))
        self._validate(number, lambda: validate_record(self.pub.form, data, ctx=self.ctx, lookups=self.lookups))
        return ("create", None, None)

    def _check_update(self, number: int, data: dict, old) -> tuple:
        if old.id not in self.updatable:
            self.report.add(number, None, None, msg("你没有修改记录 {i} 的权限", "You may not update record {i}", i=old.id))
            return ("error", None, None)
        form = self.form_for(old.def_version)
        clean = self._validate(number, lambda: validate_record(form, data, ctx=self.ctx, old=old.values, partial=True,
                                                               lookups=self.lookups))
        if clean is not None and all(clean.get(k) == old.values.get(k) for k in data):
            return ("same", old.id, old.version)
        return ("update", old.id, old.version)

    def _validate(self, number: int, run: Callable[[], dict]) -> dict | None:
        try:
            return run()
        except RecordValidationError as err:
            for e in err.errors:
                top = e.field.split("[", 1)[0].split(".", 1)[0]
                self.report.add(number, e.field, self.headers.get(top), e.message)
        return None

    def _key_of(self, number: int, data: dict, seen: dict, report: bool) -> Any:
        """The row's business key as a Python value (None when blank/invalid; problems once, in pass 1)."""
        if self.key is None:
            return None
        try:
            value = field_type(self.key.type).coerce(self.key, data.get(self.key.key))
        except InvalidValue:
            return None          # validation reports the bad value
        if not report:
            return value
        column = self.headers.get(self.key.key)
        if value is None and self.report.mode == "upsert":
            self.report.add(number, self.key.key, column, msg("业务主键不能为空", "The business key must not be blank"))
        elif value is not None and value in seen:
            self.report.add(number, self.key.key, column, msg("主键“{v}”与第 {r} 行重复", "The key '{v}' repeats row {r}",
                                                              v=str(value)[:60], r=seen[value]))
        elif value is not None:
            seen[value] = number
        return value

    def _existing(self, keys: list) -> dict:
        """Stored records (inside the read scope) whose key is one of ``keys``: {key: Record | "ambiguous"}."""
        self.updatable = set()
        wanted = list({k for k in keys if k is not None})
        if not wanted:
            return {}
        spec, tenant = self.pub.spec, self.actor.tenant_id
        table = records.top_table(spec)
        kind = records.field_kinds(self.pub.form).get(((), self.key.key))
        where = table.c[self.key.key].in_([records.to_db(kind, k) for k in wanted])
        scope = self.granted.read
        if not scope.allows_any:
            return {}
        rows = records.select_rows(self.session, spec, tenant, where if scope.is_all else and_(where, scope.clause(table)))
        children = records.child_rows(self.session, spec, tenant, [r["id"] for r in rows])
        self.updatable = self._updatable(table, [r["id"] for r in rows])
        found: dict = {}
        for row in rows:
            rec = records.build_record(self.form_for, spec, row, children)
            k = rec.values.get(self.key.key)
            found[k] = "ambiguous" if k in found else rec
        return found

    def _updatable(self, table, ids: list[int]) -> set[int]:
        scope = self.granted.update
        if scope.is_all or not ids:
            return set(ids)
        if not scope.allows_any:
            return set()
        rows = records.select_rows(self.session, self.pub.spec, self.actor.tenant_id,
                                   and_(table.c.id.in_(ids), scope.clause(table)))
        return {r["id"] for r in rows}

    # ------------------------------------------------------------------ pass 2
    def write(self, rows: Iterator[tuple[int, list]], decisions: list[tuple], tick: Progress, reason: str) -> None:
        """Write every row as decided in pass 1, through the record services."""
        for (number, values), (action, record_id, version) in zip(rows, decisions):
            data = self.data(values)
            if action == "create":
                record_service.create_record(self.session, self.actor, self.pub.form.key, data, reason,
                                             now=self.now, tz=self.tz)
                self.report.created += 1
            elif action == "update":
                record_service.update_record(self.session, self.actor, self.pub.form.key, record_id, version, data,
                                             reason, partial=True, now=self.now, tz=self.tz)
                self.report.updated += 1
            elif action == "same":
                self.report.unchanged += 1
            else:
                self.report.skipped += 1
            tick.advance()


def _cached(fetch: Callable) -> Callable:
    """Lookups memoised for one import (many rows reference the same supplier)."""
    memo: dict = {}

    def lookup(dotted: str, record_id: Any):
        if (dotted, record_id) not in memo:
            memo[(dotted, record_id)] = fetch(dotted, record_id)
        return memo[(dotted, record_id)]
    return lookup


def _chunks(rows: Iterator[tuple[int, list]]) -> Iterator[list[tuple[int, list]]]:
    chunk: list = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def error_workbook(report: ImportReport, lang: str = "zh-CN") -> bytes:
    """The imported file's rows as .xlsx with an error column (blank for rows without problems)."""
    if report.source is None:
        raise ImportSetupError(msg("该导入报告没有原始文件", "This import report has no source file"))
    sheet = open_workbook(*report.source).main
    by_row = report.rows_with_problems()
    writer = XlsxWriter()
    width = len(sheet.header)
    title = writer.add_sheet(sheet.name, sheet.header + [system_header(ERRORS, lang)])
    for number, values in sheet.rows():
        cells = (list(values) + [None] * width)[:width]
        problems = by_row.get(number, [])
        text = "；".join(_problem_text(p, lang) for p in problems) if lang.startswith("zh") else \
            "; ".join(_problem_text(p, lang) for p in problems)
        writer.write_row(cells + [text or None], title)
    out = io.BytesIO()
    writer.save(out)
    return out.getvalue()


def _problem_text(problem: RowProblem, lang: str) -> str:
    where = problem.column or problem.field
    text = problem.message.get(lang)
    return f"{where}: {text}" if where else text
