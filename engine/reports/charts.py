"""Chart types: one registered class each (the registry the designer's palette is built from).

A chart type declares the options it takes (a JSON Schema fragment) and how many dimensions and
measures its dataset needs, then:

* ``run``    — which dataset queries it needs (most: the report's dataset once; a KPI card runs it
  for this period and the one before; a histogram first reads the spread, then the bins; SPC
  charts derive subgroup statistics from their options);
* ``shape``  — the numbers the chart shows, as JSON (what the report API returns);
* ``figure`` — a plotly figure (``{"data": [...], "layout": {...}}``) drawn from those numbers;
* ``drill``  — the filter conditions selecting the records behind one point.

Figures are plain JSON for plotly.js (served by the app from the Python plotly package); no
server-side rendering.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from typing import TYPE_CHECKING, Any, Callable, Mapping

from engine.errors import Problem
from engine.i18n import Msg, msg
from engine.registry import Registry
from engine.reports.model import Condition, Dataset, ReportDef

if TYPE_CHECKING:
    from engine.reports.result import ReportData

CHARTS: Registry["ChartType"] = Registry("chart types")

Runner = Callable[[Dataset], "ReportData"]

PALETTE = ("#2563eb", "#f97316", "#16a34a", "#dc2626", "#9333ea", "#0891b2", "#ca8a04", "#db2777", "#4b5563",
           "#65a30d")


@dataclass(frozen=True)
class ChartContext:
    """What a chart's queries may depend on besides the definition."""

    now: datetime
    zone: tzinfo
    lang: str = "zh-CN"
    period: tuple[date | None, date | None] | None = None     # a dashboard's date range, if any
    period_field: str | None = None                          # the path that range applies to
    extra: Mapping[str, Any] = field(default_factory=dict)


class ChartType:
    """Base class of chart types (see the module docstring for the contract)."""

    key = ""
    label = Msg("", "")
    group = "basic"                       # "basic" | "quality": palette grouping
    options_schema: dict = {}
    required_options: tuple[str, ...] = ()
    dimensions: tuple[int, int] = (0, 3)  # allowed count of dataset dimensions (inclusive)
    measures: tuple[int, int] = (1, 12)
    uses_dataset_shape = True             # False: the chart builds its queries from its options
    handles_period = False                # True: a dashboard's date range is the chart's own period

    def problems(self, report: ReportDef, resolve: Callable[[str], Any]) -> list[Problem]:
        """Semantic problems beyond the option schema and the dimension/measure counts."""
        return []

    def index_paths(self, report: ReportDef) -> list[str]:
        """Paths the chart's own queries group or filter by (indexed when the report is published)."""
        return []

    def run(self, report: ReportDef, run: Runner, ctx: ChartContext) -> dict[str, "ReportData"]:
        return {"main": run(report.dataset)}

    def shape(self, report: ReportDef, data: Mapping[str, Any], lang: str) -> dict:
        raise NotImplementedError

    def figure(self, report: ReportDef, shaped: dict, lang: str) -> dict:
        raise NotImplementedError

    def drill(self, report: ReportDef, data: Mapping[str, Any], point: Mapping[str, Any]) -> list[Condition] | None:
        """Conditions selecting the records behind ``point`` (``{"row": i}`` by default); None: no drill-down."""
        main = data.get("main")
        row = point.get("row")
        if main is None or not isinstance(row, int) or not 0 <= row < len(main.rows):
            return None
        return row_conditions(main, row)


def register(cls):
    """Class decorator: register one instance of a chart type under its key."""
    CHARTS.register(cls.key, cls())
    return cls


def row_conditions(data, row: int) -> list[Condition]:
    """The dimension values of one result row as filter conditions (bucket keys, bin ranges)."""
    out = []
    for i, c in enumerate(data.columns):
        if c.kind != "dimension":
            continue
        value, d = data.rows[row][i], c.dimension
        if d.bucket:
            out.append(Condition(d.field, "=" if value is not None else "blank", value, bucket=d.bucket))
        elif d.bin_width:
            low = d.bin_origin + float(value) * d.bin_width
            out += [Condition(d.field, ">=", low), Condition(d.field, "<", low + d.bin_width)]
        else:
            out.append(Condition(d.field, "=" if value is not None else "blank", value))
    return out


def text(label: Msg | None, lang: str) -> str:
    return label.get(lang) if label is not None else ""


def base_layout(report: ReportDef, lang: str, **extra) -> dict:
    """Layout shared by every figure: title, margins, fonts that carry Chinese, responsive size."""
    layout = {"title": {"text": report.label.get(lang), "x": 0.01, "font": {"size": 15}},
              "margin": {"l": 56, "r": 24, "t": 48, "b": 56}, "autosize": True,
              "font": {"family": "system-ui, -apple-system, 'Noto Sans CJK SC', 'Microsoft YaHei', sans-serif",
                       "size": 12},
              "colorway": list(PALETTE), "paper_bgcolor": "white", "plot_bgcolor": "white",
              "legend": {"orientation": "h", "y": -0.2}, "hovermode": "closest"}
    layout.update(extra)
    return layout


def problem(path: str, zh: str, en: str, **kw) -> Problem:
    return Problem(path, msg(zh, en, **kw))
