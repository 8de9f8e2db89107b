"""Business chart types: bar, stacked bar, line, stacked area, pie, funnel, Pareto, gauge, KPI
card, table and pivot table (one registered class each)."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any, Mapping

from engine.i18n import Msg
from engine.reports.charts import PALETTE, ChartContext, ChartType, base_layout, problem, register, text
from engine.reports.model import Condition, SortKey


def _fmt(value: Any, percent: bool) -> Any:
    if value is None:
        return None
    return round(value * 100, 4) if percent else value


def series_of(data, lang: str) -> dict:
    """Categories (first dimension) and one series per measure — or, with two dimensions, one
    series per value of the second dimension (first measure). Each series keeps, per point, the
    result row it came from (for drill-down)."""
    dims, measures = data.dimensions, data.measures
    nd = len(dims)
    if nd == 0:
        return {"x": [m.label.get(lang) for m in measures], "series": [{
            "key": "value", "name": "", "values": [_fmt(data.rows[0][i], _pct(m)) if data.rows else None
                                                    for i, m in enumerate(measures)],
            "rows": [0 if data.rows else None] * len(measures)}], "percent": False}
    if nd == 1:
        x = [lab[0] for lab in data.labels]
        series = []
        for j, m in enumerate(measures):
            col, pct = nd + j, _pct(m)
            series.append({"key": m.key, "name": m.label.get(lang), "percent": pct,
                           "values": [_fmt(r[col], pct) for r in data.rows], "rows": list(range(len(data.rows)))})
        return {"x": x, "series": series, "percent": any(s["percent"] for s in series)}
    x: list = []
    names: list = []
    cells: dict = {}
    m = measures[0]
    pct = _pct(m)
    seen_x, seen_names = set(), set()
    for i, (r, lab) in enumerate(zip(data.rows, data.labels)):
        if lab[0] not in seen_x:
            seen_x.add(lab[0])
            x.append(lab[0])
        if lab[1] not in seen_names:
            seen_names.add(lab[1])
            names.append(lab[1])
        cells[(lab[0], lab[1])] = (_fmt(r[nd], pct), i)
    series = [{"key": str(n), "name": n, "percent": _pct(m),
               "values": [cells.get((xi, n), (None, None))[0] for xi in x],
               "rows": [cells.get((xi, n), (None, None))[1] for xi in x]} for n in names]
    return {"x": x, "series": series, "percent": _pct(m), "measure": m.label.get(lang)}


def _pct(column) -> bool:
    from engine.reports.measures import AGGREGATIONS
    return bool(column.measure is not None and AGGREGATIONS.get(column.measure.agg).percent)


def _axis_title(shaped: dict) -> dict:
    return {"ticksuffix": "%"} if shaped.get("percent") else {}


class _Cartesian(ChartType):
    dimensions, measures = (0, 2), (1, 12)
    trace = "bar"
    stacked = False
    options_schema = {"horizontal": {"type": "boolean"}, "show_values": {"type": "boolean"},
                      "y_title": {"$ref": "common.schema.json#/$defs/label"}}

    def problems(self, report, resolve):
        ds = report.dataset
        if len(ds.dimensions) == 2 and len(ds.measures) != 1:
            return [problem("$.dataset.measures", "有两个分组维度时只能有一个度量（第二个维度成为系列）",
                            "With two dimensions use exactly one measure (the second dimension becomes the series)")]
        return []

    def shape(self, report, data, lang):
        return series_of(data["main"], lang)

    def traces(self, report, shaped) -> list[dict]:
        horizontal = bool(report.chart.option("horizontal")) and self.trace == "bar"
        out = []
        for k, s in enumerate(shaped["series"]):
            t = {"type": self.trace if self.trace != "area" else "scatter", "name": s["name"],
                 "x": shaped["x"], "y": s["values"], "customdata": s["rows"],
                 "marker": {"color": PALETTE[k % len(PALETTE)]}}
            if horizontal:
                t["x"], t["y"], t["orientation"] = s["values"], shaped["x"], "h"
            if self.trace in ("scatter", "area"):
                t["mode"] = "lines+markers" if self.trace == "scatter" else "lines"
                t["line"] = {"color": PALETTE[k % len(PALETTE)], "width": 2}
                t["connectgaps"] = False
            if self.trace == "area":
                t["stackgroup"] = "one"
            if report.chart.option("show_values") and self.trace == "bar":
                t["text"] = [_label_value(v, s.get("percent")) for v in s["values"]]
                t["textposition"] = "auto"
            if s.get("percent"):
                t["hovertemplate"] = "%{x}: %{y:.2f}%<extra>" + (s["name"] or "") + "</extra>" if not horizontal \
                    else "%{y}: %{x:.2f}%<extra>" + (s["name"] or "") + "</extra>"
            out.append(t)
        return out

    def figure(self, report, shaped, lang):
        layout = base_layout(report, lang, showlegend=len(shaped["series"]) > 1)
        value_axis = {**_axis_title(shaped), "rangemode": "tozero", "gridcolor": "#e5e7eb"}
        if report.chart.option("y_title"):
            value_axis["title"] = {"text": text(Msg(**_msg(report.chart.option("y_title"))), lang)}
        category_axis = {"type": "category", "automargin": True}
        horizontal = bool(report.chart.option("horizontal")) and self.trace == "bar"
        layout["xaxis"], layout["yaxis"] = (value_axis, {**category_axis, "autorange": "reversed"}) if horizontal \
            else (category_axis, value_axis)
        if self.stacked:
            layout["barmode"] = "stack"
        return {"data": self.traces(report, shaped), "layout": layout}


def _msg(label: Mapping) -> dict:
    return {"zh": label.get("zh-CN", ""), "en": label.get("en", "")}


def _label_value(v, percent) -> str:
    if v is None:
        return ""
    return f"{v:.1f}%" if percent else (f"{v:,.0f}" if float(v).is_integer() else f"{v:,.2f}")


@register
class Bar(_Cartesian):
    key, label = "bar", Msg("柱状图", "Bar chart")


@register
class StackedBar(_Cartesian):
    key, label, stacked = "stacked_bar", Msg("堆积柱状图", "Stacked bar chart"), True
    dimensions = (2, 2)
    measures = (1, 1)


@register
class Line(_Cartesian):
    key, label, trace = "line", Msg("折线图", "Line chart"), "scatter"


@register
class StackedArea(_Cartesian):
    key, label, trace = "stacked_area", Msg("堆积面积图", "Stacked area chart"), "area"


@register
class Pie(ChartType):
    key, label = "pie", Msg("饼图", "Pie chart")
    dimensions, measures = (1, 1), (1, 1)
    options_schema = {"hole": {"type": "number", "minimum": 0, "maximum": 0.9}}

    def shape(self, report, data, lang):
        return series_of(data["main"], lang)

    def figure(self, report, shaped, lang):
        s = shaped["series"][0]
        # long labels (supplier names) do not fit beside a slice in a dashboard cell: percentages on
        # the slices, names in the legend below
        long = any(len(str(x)) > 12 for x in shaped["x"]) or len(shaped["x"]) > 6
        trace = {"type": "pie", "labels": shaped["x"], "values": s["values"], "customdata": s["rows"],
                 "hole": report.chart.option("hole", 0), "sort": False,
                 "textinfo": "percent" if long else "label+percent", "textposition": "inside" if long else "auto",
                 "marker": {"colors": [PALETTE[i % len(PALETTE)] for i in range(len(shaped["x"]))]}}
        layout = base_layout(report, lang, showlegend=long)
        if long:
            layout["legend"] = {"orientation": "h", "y": -0.05, "yanchor": "top", "font": {"size": 11}}
        return {"data": [trace], "layout": layout}


@register
class Funnel(ChartType):
    key, label = "funnel", Msg("漏斗图", "Funnel")
    dimensions, measures = (0, 1), (1, 12)

    def problems(self, report, resolve):
        ds = report.dataset
        if len(ds.dimensions) == 1 and len(ds.measures) != 1:
            return [problem("$.dataset.measures", "漏斗图：有维度时只用一个度量；无维度时每个度量是一层",
                            "Funnel: with a dimension use one measure; without one, each measure is a stage")]
        return []

    def shape(self, report, data, lang):
        return series_of(data["main"], lang)

    def figure(self, report, shaped, lang):
        s = shaped["series"][0]
        trace = {"type": "funnel", "y": shaped["x"], "x": s["values"], "customdata": s["rows"],
                 "textinfo": "value+percent initial", "marker": {"color": PALETTE[0]}}
        return {"data": [trace], "layout": base_layout(report, lang, showlegend=False,
                                                       yaxis={"type": "category", "automargin": True})}


@register
class Pareto(ChartType):
    """Bars sorted by size with the cumulative share as a line on a % axis and the 80 % mark."""

    key, label, group = "pareto", Msg("柏拉图", "Pareto chart"), "quality"
    dimensions, measures = (1, 1), (1, 1)
    options_schema = {"threshold": {"type": "number", "exclusiveMinimum": 0, "maximum": 100}}

    def run(self, report, run, ctx):
        ds = report.dataset
        ordered = replace(ds, sort=(SortKey(ds.measures[0].key, True),))
        out = {"main": run(ordered)}
        if out["main"].truncated or ds.limit:       # the share is of the grand total, not of the bars shown
            out["total"] = run(replace(ds, dimensions=(), sort=(), limit=None))
        return out

    def shape(self, report, data, lang):
        shaped = series_of(data["main"], lang)
        values = [v or 0 for v in shaped["series"][0]["values"]]
        total_data = data.get("total")
        total = (total_data.rows[0][0] if total_data is not None and total_data.rows else None) or sum(values)
        running, cumulative = 0.0, []
        for v in values:
            running += v
            cumulative.append(round(running / total * 100, 4) if total else None)
        shaped["cumulative"] = cumulative
        shaped["total"] = total
        shaped["threshold"] = report.chart.option("threshold", 80)
        return shaped

    def figure(self, report, shaped, lang):
        s = shaped["series"][0]
        share = "累计占比" if lang == "zh-CN" else "Cumulative %"
        bars = {"type": "bar", "name": s["name"], "x": shaped["x"], "y": s["values"], "customdata": s["rows"],
                "marker": {"color": PALETTE[0]}}
        line = {"type": "scatter", "mode": "lines+markers", "name": share, "x": shaped["x"],
                "y": shaped["cumulative"], "yaxis": "y2", "line": {"color": PALETTE[1], "width": 2},
                "hovertemplate": "%{x}: %{y:.1f}%<extra></extra>"}
        threshold = shaped["threshold"]
        layout = base_layout(report, lang, showlegend=True,
                             xaxis={"type": "category", "automargin": True},
                             yaxis={"rangemode": "tozero", "gridcolor": "#e5e7eb"},
                             yaxis2={"overlaying": "y", "side": "right", "range": [0, 105], "ticksuffix": "%",
                                     "tickvals": [0, 20, 40, 60, 80, 100], "showgrid": False, "automargin": True},
                             shapes=[{"type": "line", "xref": "paper", "x0": 0, "x1": 1, "yref": "y2",
                                      "y0": threshold, "y1": threshold,
                                      "line": {"color": "#dc2626", "width": 1, "dash": "dash"}}],
                             annotations=[{"xref": "paper", "x": 1, "yref": "y2", "y": threshold, "text": f"{threshold:g}%",
                                           "showarrow": False, "xanchor": "right", "yanchor": "bottom",
                                           "font": {"color": "#dc2626"}}])
        return {"data": [bars, line], "layout": layout}


@register
class Gauge(ChartType):
    key, label = "gauge", Msg("仪表盘", "Gauge")
    dimensions, measures = (0, 0), (1, 1)
    options_schema = {"min": {"type": "number"}, "max": {"type": "number"}, "target": {"type": "number"},
                      "bands": {"type": "array", "maxItems": 6, "items": {
                          "type": "object", "required": ["to", "color"],
                          "properties": {"to": {"type": "number"},
                                         "color": {"type": "string", "pattern": "^#[0-9a-fA-F]{6}$"}},
                          "additionalProperties": False}}}

    def drill(self, report, data, point):
        return []        # all records of the dataset

    def shape(self, report, data, lang):
        main = data["main"]
        m = main.measures[0]
        value = main.rows[0][0] if main.rows else None
        return {"value": _fmt(value, _pct(m)), "percent": _pct(m), "name": m.label.get(lang)}

    def figure(self, report, shaped, lang):
        o = report.chart.options
        top = o.get("max", 100 if shaped["percent"] else max(1, (shaped["value"] or 0) * 1.5))
        low = o.get("min", 0)
        steps, start = [], low
        for band in o.get("bands", ()):
            steps.append({"range": [start, band["to"]], "color": band["color"]})
            start = band["to"]
        gauge = {"axis": {"range": [low, top], "ticksuffix": "%" if shaped["percent"] else ""},
                 "bar": {"color": PALETTE[0]}, "steps": steps}
        if "target" in o:
            gauge["threshold"] = {"line": {"color": "#dc2626", "width": 3}, "value": o["target"]}
        trace = {"type": "indicator", "mode": "gauge+number", "value": shaped["value"],
                 "number": {"suffix": "%" if shaped["percent"] else "", "valueformat": ",.2~f"}, "gauge": gauge}
        return {"data": [trace], "layout": base_layout(report, lang)}


PERIODS = ("week", "month", "quarter", "year")


def period_bounds(period: str, today: date) -> tuple[tuple[date, date], tuple[date, date]]:
    """(current period so far, the whole previous period) for a KPI comparison."""
    if period == "week":
        start = today - timedelta(days=today.weekday())
        return (start, today), (start - timedelta(days=7), start - timedelta(days=1))
    if period == "month":
        start = today.replace(day=1)
        prev_end = start - timedelta(days=1)
        return (start, today), (prev_end.replace(day=1), prev_end)
    if period == "quarter":
        q0 = (today.month - 1) // 3 * 3 + 1
        start = today.replace(month=q0, day=1)
        prev_end = start - timedelta(days=1)
        pq0 = (prev_end.month - 1) // 3 * 3 + 1
        return (start, today), (prev_end.replace(month=pq0, day=1), prev_end)
    start = today.replace(month=1, day=1)
    prev_end = start - timedelta(days=1)
    return (start, today), (prev_end.replace(month=1, day=1), prev_end)


ADDITIVE = frozenset({"count", "count_distinct", "sum", "count_values", "count_where", "count_outside"})


@register
class Kpi(ChartType):
    """One number with its change against the previous period (of a date field)."""

    key, label = "kpi", Msg("指标卡", "KPI card")
    dimensions, measures = (0, 0), (1, 1)
    handles_period = True

    def index_paths(self, report):
        return [report.chart.option("period_field", "created_at")]
    options_schema = {"period": {"enum": list(PERIODS)}, "period_field": {"$ref": "report.schema.json#/$defs/path"},
                      "better": {"enum": ["up", "down"]}}

    def problems(self, report, resolve):
        path = report.chart.option("period_field")
        if path is None:
            return []
        ref = resolve(path)
        if ref is not None and not ref.is_date:
            return [problem("$.chart.period_field", "对比期间的字段“{p}”应为日期或日期时间",
                            "The period field '{p}' must be a date or date-time", p=path)]
        return []

    def run(self, report, run, ctx: ChartContext):
        path = report.chart.option("period_field", "created_at")
        today = ctx.now.astimezone(ctx.zone).date()
        if ctx.period and ctx.period[0]:
            path = ctx.period_field or path
            start, end = ctx.period[0], ctx.period[1] or today
            length = (end - start).days + 1
            current, previous = (start, end), (start - timedelta(days=length), start - timedelta(days=1))
        else:
            current, previous = period_bounds(report.chart.option("period", "month"), today)

        def within(bounds):
            return report.dataset.with_filters((Condition(path, "between", [bounds[0].isoformat(),
                                                                            bounds[1].isoformat()]),))
        return {"main": run(within(current)), "previous": run(within(previous)),
                "bounds": {"field": path, "current": [d.isoformat() for d in current],
                           "previous": [d.isoformat() for d in previous]}}

    def shape(self, report, data, lang):
        main, prev = data["main"], data["previous"]
        m = main.measures[0]
        empty = 0 if m.measure is not None and m.measure.agg in ADDITIVE else None    # nothing counted is 0, not "-"
        value = main.rows[0][0] if main.rows and main.rows[0][0] is not None else empty
        before = prev.rows[0][0] if prev.rows and prev.rows[0][0] is not None else empty
        change = None
        if value is not None and before not in (None, 0):
            change = (value - before) / abs(before)
        return {"value": _fmt(value, _pct(m)), "previous": _fmt(before, _pct(m)), "change": change,
                "percent": _pct(m), "name": m.label.get(lang), "bounds": data["bounds"],
                "better": report.chart.option("better", "up")}

    def drill(self, report, data, point):
        bounds = data.get("bounds", {})
        return [Condition(bounds["field"], "between", bounds["current"])] if bounds.get("current") else []

    def figure(self, report, shaped, lang):
        better = shaped["better"]
        up, down = ("#16a34a", "#dc2626") if better == "up" else ("#dc2626", "#16a34a")
        trace = {"type": "indicator", "mode": "number+delta" if shaped["previous"] is not None else "number",
                 "value": shaped["value"],
                 "number": {"suffix": "%" if shaped["percent"] else "", "valueformat": ",.2~f"},
                 "delta": {"reference": shaped["previous"], "relative": not shaped["percent"],
                           "valueformat": ".1%" if not shaped["percent"] else ".2f",
                           "increasing": {"color": up}, "decreasing": {"color": down}}}
        cur = shaped["bounds"]["current"]
        sub = f"{cur[0]} – {cur[1]}"
        layout = base_layout(report, lang, margin={"l": 16, "r": 16, "t": 48, "b": 24},
                             annotations=[{"text": sub, "xref": "paper", "yref": "paper", "x": 0.5, "y": 0,
                                           "showarrow": False, "font": {"color": "#6b7280"}}])
        return {"data": [trace], "layout": layout}


@register
class Table(ChartType):
    key, label = "table", Msg("明细表", "Table")
    dimensions, measures = (0, 3), (0, 12)

    def shape(self, report, data, lang):
        main = data["main"]
        header = [c.label.get(lang) for c in main.columns]
        nd = len(main.dimensions)
        cells = []
        for r, lab in zip(main.rows, main.labels):
            cells.append(list(lab) + [_fmt(v, _pct(c)) for v, c in zip(r[nd:], main.measures)])
        return {"header": header, "rows": cells, "percent": [False] * nd + [_pct(c) for c in main.measures],
                "truncated": main.truncated}

    def figure(self, report, shaped, lang):
        columns = list(zip(*shaped["rows"])) if shaped["rows"] else [[] for _ in shaped["header"]]
        values = [[_label_value(v, p) if isinstance(v, (int, float)) and not isinstance(v, bool) else v
                   for v in col] for col, p in zip(columns, shaped["percent"])]
        trace = {"type": "table", "header": {"values": shaped["header"], "fill": {"color": "#f3f4f6"},
                                             "align": "left", "font": {"size": 12}},
                 "cells": {"values": values, "align": "left", "height": 24}}
        return {"data": [trace], "layout": base_layout(report, lang, margin={"l": 8, "r": 8, "t": 48, "b": 8})}


@register
class Pivot(ChartType):
    """Rows = first dimension, columns = second dimension, cells = the measure, with totals
    for additive measures (count, sum)."""

    key, label = "pivot", Msg("透视表", "Pivot table")
    dimensions, measures = (2, 2), (1, 1)

    def shape(self, report, data, lang):
        shaped = series_of(data["main"], lang)
        additive = report.dataset.measures[0].agg in ("count", "sum")
        cols = [s["name"] for s in shaped["series"]]
        rows = []
        for i, x in enumerate(shaped["x"]):
            cells = [s["values"][i] for s in shaped["series"]]
            rows.append({"label": x, "cells": cells,
                         "total": sum(v for v in cells if v is not None) if additive else None})
        totals = [sum(v for v in s["values"] if v is not None) for s in shaped["series"]] if additive else None
        return {"columns": cols, "rows": rows, "totals": totals, "percent": shaped["percent"],
                "series": shaped["series"], "x": shaped["x"]}

    def figure(self, report, shaped, lang):
        total = "合计" if lang == "zh-CN" else "Total"
        header = [""] + shaped["columns"] + ([total] if shaped["totals"] is not None else [])
        body = [[r["label"] for r in shaped["rows"]]]
        for j in range(len(shaped["columns"])):
            body.append([_label_value(r["cells"][j], shaped["percent"]) for r in shaped["rows"]])
        if shaped["totals"] is not None:
            body.append([_label_value(r["total"], False) for r in shaped["rows"]])
            for k, col in enumerate(body):
                col.append(total if k == 0 else (_label_value(shaped["totals"][k - 1], False)
                                                 if k - 1 < len(shaped["totals"]) else
                                                 _label_value(sum(shaped["totals"]), False)))
        trace = {"type": "table", "header": {"values": header, "fill": {"color": "#f3f4f6"}, "align": "left"},
                 "cells": {"values": body, "align": ["left"] + ["right"] * (len(header) - 1), "height": 24}}
        return {"data": [trace], "layout": base_layout(report, lang, margin={"l": 8, "r": 8, "t": 48, "b": 8})}

    def drill(self, report, data, point):
        return ChartType.drill(self, report, data, point)

