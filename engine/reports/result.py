"""Running a compiled dataset and shaping its rows: :class:`ReportData`.

Rows keep raw values (what drill-down filters on: a bucket key, a choice code, a record id) and,
beside them, the text a chart shows for each dimension cell (the bucket as 2026-03, the choice's
label, the referenced record's title, the user's name) in the viewer's language.
"""
from __future__ import annotations

import time as _time
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Callable, Iterable, Mapping

from engine.reports.measures import AGGREGATIONS
from engine.reports.query import Column, Compiled
from engine.storage import buckets

Names = Callable[["Column", list], Mapping[Any, str]]     # (dimension column, raw values) → display names


@dataclass
class ReportData:
    columns: list[Column]
    rows: list[list]                 # per row: dimension values then measure values
    labels: list[list]               # per row: display text of each dimension value
    truncated: bool = False
    ms: float = 0.0
    lang: str = "zh-CN"
    meta: dict = field(default_factory=dict)

    @property
    def dimensions(self) -> list[Column]:
        return [c for c in self.columns if c.kind == "dimension"]

    @property
    def measures(self) -> list[Column]:
        return [c for c in self.columns if c.kind == "measure"]

    def column_values(self, key: str) -> list:
        i = next(i for i, c in enumerate(self.columns) if c.key == key)
        return [r[i] for r in self.rows]

    def first(self, key: str) -> Any:
        values = self.column_values(key)
        return values[0] if values else None

    def to_json(self) -> dict:
        return {"columns": [_column_json(c, self.lang) for c in self.columns],
                "rows": [[json_value(v) for v in row] for row in self.rows],
                "labels": self.labels, "truncated": self.truncated}


def _column_json(c: Column, lang: str) -> dict:
    out = {"key": c.key, "kind": c.kind, "label": c.label.get(lang) if hasattr(c.label, "get") else str(c.label)}
    if c.dimension is not None:
        if c.dimension.bucket:
            out["bucket"] = c.dimension.bucket
        if c.dimension.bin_width:
            out["bin"] = {"width": c.dimension.bin_width, "origin": c.dimension.bin_origin}
        out["field"] = c.dimension.field
    if c.measure is not None:
        agg = AGGREGATIONS.get(c.measure.agg)
        out["agg"] = c.measure.agg
        if agg.percent:
            out["percent"] = True
        if agg.unit:
            out["unit"] = agg.unit
    return out


def json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def execute(session, compiled: Compiled, names: Names | None = None, lang: str = "zh-CN") -> ReportData:
    """Run the query; measures finished from their parts; dimension labels filled in."""
    started = _time.perf_counter()
    raw = session.execute(compiled.stmt).all()
    ms = (_time.perf_counter() - started) * 1000
    steps, at = [], 0          # per output column: (start, end, finish or None for a dimension)
    for c in compiled.columns:
        if c.kind == "dimension":
            steps.append((at, at + 1, None))
            at += 1
        else:
            agg = AGGREGATIONS.get(c.measure.agg)
            steps.append((at, at + c.parts, (lambda parts, a=agg, m=c.measure: a.finish(m, parts))))
            at += c.parts
    rows = [[_plain(r[a]) if finish is None else finish(r[a:b]) for a, b, finish in steps] for r in raw]
    truncated = False
    if compiled.sort_in_python:
        rows = _sorted(rows, compiled)
        truncated = len(rows) > compiled.limit
    elif len(rows) > compiled.limit:
        truncated = True
    rows = rows[:compiled.limit]
    labels = _labels(compiled.columns, rows, names, lang)
    return ReportData(compiled.columns, rows, labels, truncated, ms, lang)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and abs(value) < 2 ** 53 else float(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 2 ** 53:
        return value          # bins and numbers stay as they are
    return value


def _sorted(rows: list[list], compiled: Compiled) -> list[list]:
    """Sort in Python by the dataset's sort keys (measures SQL cannot order by, such as Cpk); blanks last."""
    keys = [c.key for c in compiled.columns]
    ds_sort = getattr(compiled, "sort", None)
    out = list(rows)
    for s in reversed(ds_sort or ()):
        i = keys.index(s.by)
        present = [r for r in out if r[i] is not None]
        missing = [r for r in out if r[i] is None]
        present.sort(key=lambda r: r[i], reverse=s.desc)
        out = present + missing
    return out


def _labels(columns: list[Column], rows: list[list], names: Names | None, lang: str) -> list[list]:
    dims = [(i, c) for i, c in enumerate(columns) if c.kind == "dimension"]
    looked_up: dict[int, Mapping[Any, str]] = {}
    for i, c in dims:
        if names is not None and c.ref is not None and _named(c):
            looked_up[i] = names(c, [r[i] for r in rows if r[i] is not None])
    memo: list[dict] = [{} for _ in dims]       # one label per distinct value and column
    out = []
    for r in rows:
        line = []
        for k, (i, c) in enumerate(dims):
            value = r[i]
            try:
                text = memo[k][value]
            except KeyError:
                text = memo[k][value] = label_of(c, value, looked_up.get(i), lang)
            except TypeError:          # an unhashable value (never from SQL; defensive)
                text = label_of(c, value, looked_up.get(i), lang)
            line.append(text)
        out.append(line)
    return out


def _named(c: Column) -> bool:
    ref = c.ref
    if ref.field is None:
        return ref.column in ("created_by", "updated_by", "id")
    return ref.field.type in ("reference", "user", "department")


def label_of(c: Column, value: Any, names: Mapping[Any, str] | None, lang: str) -> str | None:
    """The text shown for one dimension value."""
    if value is None:
        return "（空）" if lang == "zh-CN" else "(blank)"
    d = c.dimension
    if d is not None and d.bucket:
        return buckets.bucket_label(d.bucket, value)
    if d is not None and d.bin_width:
        low = d.bin_origin + float(value) * d.bin_width
        return f"{_short(low)}–{_short(low + d.bin_width)}"
    if names is not None and value in names:
        return names[value]
    choices = c.ref.choices if c.ref is not None else {}
    if str(value) in choices:
        return choices[str(value)].get(lang)
    if isinstance(value, bool):
        return ("是" if value else "否") if lang == "zh-CN" else ("Yes" if value else "No")
    return str(json_value(value))


def _short(x: float) -> str:
    return f"{x:.6g}"


def rows_as_dicts(data: ReportData) -> Iterable[dict]:
    keys = [c.key for c in data.columns]
    for row in data.rows:
        yield dict(zip(keys, row))
