"""Frozen dataclasses of report and dashboard definitions (format: docs/reports.md).

Built by :func:`engine.reports.definition.load_report` / :func:`engine.reports.dashboard.load_dashboard`
after the definition has been checked; never build them from unchecked input. ``raw`` keeps the
JSON as published.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from dataclasses import field as _field
from typing import Any, Mapping

from engine.i18n import Msg

GRAINS = ("day", "week", "month", "quarter", "year")
OPS = ("=", "!=", ">", ">=", "<", "<=", "in", "not_in", "between", "blank", "not_blank", "contains")
MAX_ROWS = 5000          # groups a report returns at most without an explicit limit (the chart's data)


@dataclass(frozen=True)
class Condition:
    """A structured filter: ``field op value`` (dashboards' shared filters use the same shape)."""

    field: str
    op: str
    value: Any = None
    bucket: str | None = None

    def to_dict(self) -> dict:
        out = {"field": self.field, "op": self.op}
        if self.value is not None:
            out["value"] = self.value
        if self.bucket:
            out["bucket"] = self.bucket
        return out


@dataclass(frozen=True)
class Dimension:
    """Group by a field (a date by ``bucket``, a number by ``bin`` width)."""

    key: str
    field: str
    label: Msg | None = None
    bucket: str | None = None
    bin_width: float | None = None
    bin_origin: float = 0.0


@dataclass(frozen=True)
class Measure:
    """An aggregate: ``agg`` is a registered aggregation (engine.reports.measures)."""

    key: str
    agg: str
    field: str | None = None
    where: str | None = None
    per: str | None = None
    lsl: float | str | None = None
    usl: float | str | None = None
    label: Msg | None = None


@dataclass(frozen=True)
class SortKey:
    by: str
    desc: bool = False


@dataclass(frozen=True)
class Dataset:
    """Rows of one form (or of one of its sub-tables, when a path goes through one), filtered,
    grouped by the dimensions and aggregated by the measures — one SQL query."""

    form: str
    filter: str | None = None
    filters: tuple[Condition, ...] = ()
    dimensions: tuple[Dimension, ...] = ()
    measures: tuple[Measure, ...] = ()
    sort: tuple[SortKey, ...] = ()
    limit: int | None = None

    def with_filters(self, extra: tuple[Condition, ...]) -> "Dataset":
        return replace(self, filters=self.filters + tuple(extra)) if extra else self

    def key_of(self, key: str) -> Dimension | Measure | None:
        return next((x for x in (*self.dimensions, *self.measures) if x.key == key), None)


@dataclass(frozen=True)
class ChartDef:
    type: str
    options: Mapping[str, Any] = _field(default_factory=dict)

    def option(self, name: str, default: Any = None) -> Any:
        return self.options.get(name, default)


@dataclass(frozen=True)
class ReportDef:
    key: str
    label: Msg
    dataset: Dataset
    chart: ChartDef
    description: Msg | None = None
    raw: Mapping[str, Any] = _field(default_factory=dict, compare=False)
    version: int = _field(default=0, compare=False)      # the stored version (0: not stored)

    def to_dict(self) -> dict:
        return copy.deepcopy(dict(self.raw))


@dataclass(frozen=True)
class DashboardFilter:
    """A filter shared by the dashboard's reports: ``field`` in each report's form unless
    ``targets`` names another path for that report (a report whose form lacks it ignores it)."""

    key: str
    label: Msg
    type: str                         # "date_range" | "field"
    field: str | None = None
    targets: Mapping[str, str] = _field(default_factory=dict)
    default: Any = None

    def path_for(self, report_key: str) -> str | None:
        return self.targets.get(report_key, self.field)


@dataclass(frozen=True)
class DashboardItem:
    report: str
    x: int = 0
    y: int = 0
    w: int = 6
    h: int = 4


@dataclass(frozen=True)
class DashboardDef:
    key: str
    label: Msg
    items: tuple[DashboardItem, ...]
    filters: tuple[DashboardFilter, ...] = ()
    refresh: int = 0
    description: Msg | None = None
    raw: Mapping[str, Any] = _field(default_factory=dict, compare=False)
    version: int = _field(default=0, compare=False)      # the stored version (0: not stored)

    def to_dict(self) -> dict:
        return copy.deepcopy(dict(self.raw))
