"""The outcome of an import: counts, column mapping, and every problem with its row number."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from engine.i18n import Msg

MAX_PROBLEMS = 10_000     # kept in full; beyond this only counted (the file is refused either way)


@dataclass(frozen=True)
class RowProblem:
    """One problem of one row: the row number as Excel shows it, the field (key or path) and the column."""

    row: int
    field: str | None
    column: str | None
    message: Msg

    def to_dict(self, lang: str | None = None) -> dict:
        return {"row": self.row, "field": self.field, "column": self.column, "message": self.message.get(lang),
                "messages": self.message.to_dict()}


@dataclass
class ImportReport:
    """What an import found and did. ``ok`` is False when any row has a problem (nothing written)."""

    form_key: str
    mode: str
    key_field: str | None
    dry_run: bool
    total_rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0          # upsert: the row equals the stored record, nothing written
    skipped: int = 0            # insert with a key: the record was imported before
    written: bool = False
    columns: dict[str, str] = field(default_factory=dict)       # header → field key
    unknown_columns: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)    # computed, file, read-only, system columns
    problems: list[RowProblem] = field(default_factory=list)
    problem_count: int = 0
    source: tuple[bytes, str] | None = field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    def add(self, row: int, field_key: str | None, column: str | None, message: Msg) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(RowProblem(row, field_key, column, message))

    def rows_with_problems(self) -> dict[int, list[RowProblem]]:
        out: dict[int, list[RowProblem]] = {}
        for p in self.problems:
            out.setdefault(p.row, []).append(p)
        return out

    def to_dict(self, lang: str | None = None) -> dict:
        return {"form": self.form_key, "mode": self.mode, "key_field": self.key_field, "dry_run": self.dry_run,
                "ok": self.ok, "written": self.written, "total_rows": self.total_rows, "created": self.created,
                "updated": self.updated, "unchanged": self.unchanged, "skipped": self.skipped,
                "columns": dict(self.columns), "unknown_columns": list(self.unknown_columns),
                "ignored_columns": list(self.ignored_columns), "problem_count": self.problem_count,
                "problems": [p.to_dict(lang) for p in self.problems]}


class Progress:
    """Calls ``callback(done, total)`` at most about every 1 % of ``total`` (and at the end)."""

    def __init__(self, callback: Callable[[int, int], None] | None, total: int):
        self.callback, self.total, self.done = callback, max(total, 1), 0
        self.step, self._last = max(1, self.total // 100), 0

    def advance(self, n: int = 1) -> None:
        self.done += n
        if self.callback and (self.done - self._last >= self.step or self.done >= self.total):
            self._last = self.done
            self.callback(min(self.done, self.total), self.total)
