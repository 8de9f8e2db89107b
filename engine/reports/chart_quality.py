"""Quality chart types: the SPC control charts X̄-R, X̄-S, I-MR, p, np, c, u and the capability
histogram (one registered class each; docs/reports.md "Quality charts").

These charts build their own datasets from their options (``uses_dataset_shape = False``): the
report's dataset gives the form and the filters only; its dimensions and measures stay empty.
A control chart asks SQL for one row per subgroup — the most recent ``last`` subgroups, newest
first, turned into time order here — carrying the summaries the limits need (count, mean,
range or SD; defectives and sample size; defects and units). Limits, run rules and capability
come from :mod:`engine.quality`. A histogram asks for the spread of the values, then for the
bin counts: no individual value is loaded into Python.

Run rules: the chosen rules judge the primary panel (X̄, I, p, np, c, u); the R/S/MR panel is
judged by rule 1 (beyond the limits) only, because those statistics are skewed (and moving
ranges overlap), so the zone and run tests would flag patterns the process does not have.

Longer than the usual module: the eight types share their options, shaping and drawing, and
splitting them would scatter one contract over several files.
"""
from __future__ import annotations

import math
from dataclasses import replace
from typing import Any, Callable, Mapping

from engine.errors import DefinitionError
from engine.fields.base import StorageKind
from engine.i18n import Msg, msg
from engine.quality import QualityInputError, capability, control, run_rules
from engine.reports.charts import PALETTE, ChartType, base_layout, problem, register
from engine.reports.model import GRAINS, Condition, Dataset, Dimension, Measure, SortKey
from engine.reports.query import ReportInputError
from engine.reports.result import json_value

SPC_KINDS = control.KINDS
DEFAULT_LAST = 50
_PATH = {"$ref": "report.schema.json#/$defs/path"}
_NUMBER = {"type": "number"}
_SUBGROUP = {"oneOf": [{"const": "record"}, {
    "type": "object", "required": ["field"], "additionalProperties": False,
    "properties": {"field": _PATH, "bucket": {"enum": list(GRAINS)}}}]}
_RULES = {"oneOf": [{"enum": ["nelson", "we"]}, {"type": "array", "minItems": 1, "maxItems": 8, "uniqueItems": True,
                                                 "items": {"type": "integer", "minimum": 1, "maximum": 8}}]}
_LIMITS = {"type": "object", "required": ["cl"], "additionalProperties": False,
           "properties": {"cl": _NUMBER, "sigma": {"type": ["number", "null"], "minimum": 0},
                          "kind": {"enum": [*SPC_KINDS, None]}}}
_COMMON = {"subgroup": _SUBGROUP, "last": {"type": "integer", "minimum": 5, "maximum": 1000}, "rules": _RULES,
           "limits": _LIMITS, "by": {"type": "array", "minItems": 1, "maxItems": 3, "uniqueItems": True, "items": _PATH}}
_RECORD = Msg("记录", "Record")
_PANEL_NAMES = {"xbar": "X̄", "r": "R", "s": "S", "i": "I", "mr": "MR", "p": "p", "np": "np", "c": "c", "u": "u"}
_RED, _GREEN, _SPEC_COLOR = "#dc2626", "#16a34a", "#f97316"


def _one_process(report, run) -> tuple[Any, list[str]]:
    """With ``by`` (e.g. part, characteristic): one chart per process. Unless the filters already pin
    every ``by`` field, chart the process of the newest record (one small query) and say so — a
    chart mixing characteristics has no meaning."""
    by = list(report.chart.options.get("by") or ())
    ds = report.dataset
    if not by or all(any(c.field == path for c in ds.filters) for path in by):
        return report, []
    probe = Dataset(ds.form, ds.filter, ds.filters, tuple(Dimension(f"by{i}", path) for i, path in enumerate(by)),
                    (Measure("newest", "max", "id"),), (SortKey("newest", True),), 1)
    found = run(probe)
    if not found.rows:
        return report, []
    row, labels = found.rows[0], found.labels[0]
    pinned = tuple(Condition(path, "blank") if row[i] is None else Condition(path, "=", json_value(row[i]))
                   for i, path in enumerate(by))
    return replace(report, dataset=replace(ds, filters=ds.filters + pinned)), [str(t) for t in labels if t is not None]


def subgroup_dimension(options: Mapping[str, Any]) -> Dimension:
    """The dimension a control chart groups by: the record (its id) or a field / date bucket."""
    sub = options.get("subgroup") or "record"
    if isinstance(sub, Mapping):
        return Dimension("subgroup", sub["field"], bucket=sub.get("bucket"))
    return Dimension("subgroup", "id", _RECORD)


def _checked(resolve: Callable[[str], Any], path: str, where: str, out: list):
    """The FieldRef of ``path``, or None with its problem (at ``where``) added to ``out``."""
    try:
        return resolve(path)
    except DefinitionError as exc:
        out += [replace(p, path=where) for p in exc.problems]
        return None


def _number_at(resolve, options, name: str, out: list):
    path = options.get(name)
    if path is None:
        return None
    ref = _checked(resolve, path, f"$.chart.{name}", out)
    if ref is not None and not ref.numeric:
        out.append(problem(f"$.chart.{name}", "“{p}”不是数字字段", "'{p}' is not a number field", p=path))
    return ref


def _no_dataset_shape(report, chart: ChartType) -> list:
    out, ds = [], report.dataset
    for part, items in (("dimensions", ds.dimensions), ("measures", ds.measures)):
        if items:
            out.append(problem(f"$.dataset.{part}", "{c}按图表选项自行分组和汇总，数据集只需表单和筛选条件，不能有维度或度量",
                               "{ce} groups and aggregates by its own options: give the dataset only a form and "
                               "filters, no dimensions or measures", c=chart.label.zh, ce=chart.label.en))
    return out


def _spec_problems(options) -> list:
    lsl, usl = options.get("lsl"), options.get("usl")
    if lsl is not None and usl is not None and lsl >= usl:
        return [problem("$.chart.usl", "规格上限 usl 应大于下限 lsl", "usl must be greater than lsl")]
    return []


def _num(value) -> float | None:
    return None if value is None else float(value)


# ================================================================== control charts

class _Spc(ChartType):
    """Shared by the control charts: subgroup query, limits, run rules, shaping and drawing."""

    group, uses_dataset_shape = "quality", False
    dimensions, measures = (0, 0), (0, 0)
    variables = False                      # X̄/I charts: capability from sigma_within

    # ---------------------------------------------------------------- definition
    def index_paths(self, report):
        sub = subgroup_dimension(report.chart.options)
        return [sub.field] if sub.field != "id" else []

    def problems(self, report, resolve):
        options = report.chart.options
        out = _no_dataset_shape(report, self)
        sub = options.get("subgroup")
        if isinstance(sub, Mapping):
            ref = _checked(resolve, sub["field"], "$.chart.subgroup.field", out)
            if ref is not None and sub.get("bucket") and not ref.is_date:
                out.append(problem("$.chart.subgroup.bucket", "只有日期字段能按日/周/月/季/年分组，“{p}”不是日期",
                                   "Only a date can be bucketed; '{p}' is not a date", p=sub["field"]))
        if options.get("limits") is not None:
            out += self._limits_problems(options["limits"])
        for i, path in enumerate(options.get("by") or ()):
            _checked(resolve, path, f"$.chart.by[{i}]", out)
        return out + _spec_problems(options) + self.option_problems(report, resolve)

    def _limits_problems(self, data) -> list:
        try:
            frozen = control.FrozenLimits.from_json(dict(data))
        except QualityInputError as exc:
            return [problem("$.chart.limits", exc.message.zh, exc.message.en)]
        if frozen.kind is not None and frozen.kind != self.key:
            return [problem("$.chart.limits.kind", "冻结的控制限属于 {a} 图，不能用于 {b} 图",
                            "The frozen limits belong to a {a} chart, not a {b} chart", a=frozen.kind, b=self.key)]
        if self.variables and not frozen.sigma:
            return [problem("$.chart.limits.sigma", "计量控制图的冻结控制限需要大于 0 的 sigma",
                            "Frozen limits of a variables chart need a sigma above 0")]
        return []

    def option_problems(self, report, resolve) -> list:
        """Problems of the chart type's own options (value, defectives …)."""
        return []

    # ---------------------------------------------------------------- queries
    def chart_measures(self, options) -> tuple[Measure, ...]:
        raise NotImplementedError

    def extra_filters(self, options) -> tuple[Condition, ...]:
        return ()

    def dataset(self, report) -> Dataset:
        """The subgroup query: newest ``last`` subgroups first (reversed into time order by :meth:`run`)."""
        ds, options = report.dataset, report.chart.options
        dim = subgroup_dimension(options)
        filters = ds.filters + self.extra_filters(options)
        if dim.field != "id":
            filters += (Condition(dim.field, "not_blank", bucket=dim.bucket),)
        return Dataset(ds.form, ds.filter, filters, (dim,), self.chart_measures(options),
                       (SortKey("subgroup", True),), int(options.get("last", DEFAULT_LAST)))

    def run(self, report, run, ctx):
        report, showing = _one_process(report, run)
        data = run(self.dataset(report))
        out = {"main": replace(data, rows=data.rows[::-1], labels=data.labels[::-1])}
        if showing:
            out["showing"] = showing
        return out

    # ---------------------------------------------------------------- numbers
    needed: tuple[str, ...] = ()           # summaries a subgroup must have to be charted

    def usable(self, v: Mapping) -> bool:
        """Whether a subgroup's summaries can be charted."""
        return all(v.get(k) is not None for k in self.needed)

    def left_out(self, count: int, total: int) -> Msg:
        return msg("{k}/{t} 个子组缺少数据，未绘制", "{k} of {t} subgroups have no data and are left out", k=count, t=total)

    def compute(self, values: list[Mapping], frozen) -> control.ControlChart:
        raise NotImplementedError

    def shape(self, report, data, lang):
        main, options = data["main"], report.chart.options
        keys = [c.key for c in main.columns]
        rows = [dict(zip(keys, r)) for r in main.rows]
        kept = [i for i, v in enumerate(rows) if self.usable(v)]
        notes = [self.left_out(len(rows) - len(kept), len(rows))] if len(kept) < len(rows) else []
        shaped = {"kind": self.key, "x": [main.labels[i][0] for i in kept],
                  "keys": [json_value(rows[i]["subgroup"]) for i in kept], "rows": kept, "primary": None,
                  "secondary": None, "violations": [], "limits": None, "sigma_within": None, "capability": None,
                  "rules": options.get("rules", "nelson"), "lsl": options.get("lsl"), "usl": options.get("usl"),
                  "phase": None, "sizes": [], "notes": []}
        if not kept:
            if rows:
                raise ReportInputError(msg("没有可绘制的子组：{n}", "No subgroup can be charted: {ne}",
                                           n=notes[0].zh, ne=notes[0].en), "$.chart")
            shaped["notes"] = [msg("没有数据", "No data").get(lang)]
            return shaped
        frozen = control.FrozenLimits.from_json(dict(options["limits"])) if options.get("limits") else None
        values = [rows[i] for i in kept]
        chart = self.compute(values, frozen)
        shaped.update(primary=chart.primary.to_json(), phase=chart.phase, sizes=list(chart.sizes),
                      secondary=chart.secondary.to_json() if chart.secondary else None,
                      limits=chart.limits().to_json(), violations=_violations(chart, shaped["rules"], lang))
        if chart.sigma_within is not None:
            shaped["sigma_within"] = {"value": chart.sigma_within.value, "method": chart.sigma_within.method.value,
                                      "label": chart.sigma_within.method.label.get(lang)}
            if self.variables and (options.get("lsl") is not None or options.get("usl") is not None):
                shaped["capability"] = _capability(self.grand_mean(values), chart.sigma_within.value,
                                                   options.get("lsl"), options.get("usl"))
        if data.get("showing"):
            notes.append(msg("显示最近的过程：{v}（用筛选条件选择其他）", "Showing the latest process: {v} (pick another "
                             "with the filters)", v=" · ".join(data["showing"])))
        shaped["notes"] = [n.get(lang) for n in notes]
        return shaped

    def grand_mean(self, values: list[Mapping]) -> float:
        raise NotImplementedError

    # ---------------------------------------------------------------- drawing
    def figure(self, report, shaped, lang):
        layout = base_layout(report, lang, showlegend=False)
        if not shaped["primary"]:
            layout["annotations"] = [{"text": "; ".join(shaped["notes"]), "xref": "paper", "yref": "paper",
                                      "x": 0.5, "y": 0.5, "showarrow": False, "font": {"color": "#6b7280"}}]
            return {"data": [], "layout": layout}
        xs = list(range(len(shaped["x"])))
        two = shaped["secondary"] is not None
        traces = _panel(shaped, "primary", "y", xs, lang)
        if two:
            traces += _panel(shaped, "secondary", "y2", xs, lang)
        step = max(1, len(xs) // 25)
        ticks = [str(t) if len(str(t)) <= 18 else str(t)[:17] + "…" for t in shaped["x"][::step]]   # hover shows all
        layout["xaxis"] = {"tickmode": "array", "tickvals": xs[::step], "ticktext": ticks,
                           "anchor": "y2" if two else "y", "showgrid": False, "automargin": True, "zeroline": False}
        first = {"title": {"text": _PANEL_NAMES.get(shaped["primary"]["name"], "")}, "gridcolor": "#e5e7eb",
                 "zeroline": False}
        if two:
            layout["yaxis"] = {**first, "domain": [0.4, 1.0]}
            layout["yaxis2"] = {"title": {"text": _PANEL_NAMES.get(shaped["secondary"]["name"], "")},
                                "domain": [0.0, 0.3], "gridcolor": "#e5e7eb", "zeroline": False}
        else:
            layout["yaxis"] = first
        layout["shapes"], layout["annotations"] = _spec_lines(shaped, "y")
        layout["annotations"] += _limit_labels(shaped, "primary", "y") + (_limit_labels(shaped, "secondary", "y2")
                                                                          if two else [])
        return {"data": traces, "layout": layout}


def _violations(chart: control.ControlChart, rules, lang: str) -> list[dict]:
    found = [("primary", v) for v in run_rules.evaluate(chart.primary.points, chart.primary.cl,
                                                        chart.primary.sigma, rules)]
    if chart.secondary is not None:
        s = chart.secondary
        found += [("secondary", v) for v in run_rules.evaluate(s.points, s.cl, s.sigma, rules) if v.rule == 1]
    return [{"rule": v.rule, "rule_set": v.rule_set, "panel": panel, "point": v.point, "points": list(v.points),
             "name": v.name().get(lang)} for panel, v in found]


def _capability(mean: float, sigma: float, lsl, usl) -> dict:
    """Cp, Cpu, Cpl, Cpk from the chart's within sigma (None where undefined)."""
    ok = sigma > 0
    cpu = (usl - mean) / (3 * sigma) if ok and usl is not None else None
    cpl = (mean - lsl) / (3 * sigma) if ok and lsl is not None else None
    cp = (usl - lsl) / (6 * sigma) if ok and usl is not None and lsl is not None else None
    sides = [v for v in (cpu, cpl) if v is not None]
    return {"mean": mean, "sigma": sigma, "cp": cp, "cpu": cpu, "cpl": cpl, "cpk": min(sides) if sides else None,
            "ppm_expected": capability.expected_ppm(mean, sigma, lsl, usl)}


def _panel(shaped: dict, panel: str, axis: str, xs: list[int], lang: str) -> list[dict]:
    s, rows, labels = shaped[panel], shaped["rows"], shaped["x"]
    shape = "linear" if all(len(set(s[k])) <= 1 for k in ("ucl", "lcl")) else "hv"
    name = _PANEL_NAMES.get(s["name"], s["name"])
    traces = [{"type": "scatter", "mode": "lines+markers", "name": name, "x": xs, "y": s["points"],
               "customdata": rows, "yaxis": axis, "text": labels, "connectgaps": False,
               "line": {"color": PALETTE[0], "width": 1.5}, "marker": {"color": PALETTE[0], "size": 6},
               "hovertemplate": "%{text}<br>" + name + " = %{y:.6g}<extra></extra>"}]
    for key, color, dash in (("cl", _GREEN, "solid"), ("ucl", _RED, "dash"), ("lcl", _RED, "dash")):
        traces.append({"type": "scatter", "mode": "lines", "name": key.upper(), "x": xs, "y": s[key], "yaxis": axis,
                       "line": {"color": color, "width": 1.2, "dash": dash, "shape": shape},
                       "hovertemplate": key.upper() + " = %{y:.6g}<extra></extra>"})
    flagged: dict[int, list[str]] = {}
    for v in shaped["violations"]:
        if v["panel"] == panel:
            flagged.setdefault(v["point"], []).append(f"{v['rule_set'].upper()} {v['rule']}: {v['name']}")
    if flagged:
        points = sorted(flagged)
        title = "判异" if lang == "zh-CN" else "Out of control"
        traces.append({"type": "scatter", "mode": "markers", "name": title, "x": points,
                       "y": [s["points"][i] for i in points], "customdata": [rows[i] for i in points], "yaxis": axis,
                       "text": [labels[i] + "<br>" + "<br>".join(flagged[i]) for i in points],
                       "marker": {"color": _RED, "size": 10}, "hovertemplate": "%{text}<extra></extra>"})
    return traces


def _spec_lines(shaped: dict, axis: str) -> tuple[list, list]:
    shapes, notes = [], []
    for key in ("lsl", "usl"):
        value = shaped.get(key)
        if value is None or shaped["kind"] not in ("xbar_r", "xbar_s", "imr"):
            continue
        shapes.append({"type": "line", "xref": "paper", "x0": 0, "x1": 1, "yref": axis, "y0": value, "y1": value,
                       "line": {"color": _SPEC_COLOR, "width": 1, "dash": "dot"}})
        notes.append({"xref": "paper", "x": 0, "yref": axis, "y": value, "text": f"{key.upper()} {value:g}",
                      "showarrow": False, "xanchor": "left", "yanchor": "bottom", "font": {"color": _SPEC_COLOR}})
    return shapes, notes


def _limit_labels(shaped: dict, panel: str, axis: str) -> list[dict]:
    s = shaped[panel]
    return [{"xref": "paper", "x": 1, "yref": axis, "y": s[key][-1], "text": f"{key.upper()} {s[key][-1]:.4g}",
             "showarrow": False, "xanchor": "right", "yanchor": "bottom", "font": {"size": 10, "color": color}}
            for key, color in (("ucl", _RED), ("cl", _GREEN), ("lcl", _RED)) if s[key] and s[key][-1] is not None]


# ---------------------------------------------------------------- variables charts

class _Xbar(_Spc):
    """X̄ with R or S: ``value`` is a number; with a sub-table column each record is a subgroup."""

    variables = True
    spread = ""
    options_schema = {"value": _PATH, **_COMMON, "lsl": _NUMBER, "usl": _NUMBER}
    required_options = ("value",)

    def option_problems(self, report, resolve):
        out: list = []
        ref = _number_at(resolve, report.chart.options, "value", out)
        sub = report.chart.options.get("subgroup") or "record"
        if ref is not None and sub == "record" and not ref.table:
            out.append(problem("$.chart.value", "按记录分子组时，{p} 每条记录只有一个值：请用子表的列（每条记录多个读数），"
                               "或按字段分子组，或改用单值-移动极差图 (imr)",
                               "With record subgroups '{p}' has one value per record: use a sub-table column (several "
                               "readings per record), group by a field, or use an I-MR chart (imr)",
                               p=report.chart.options["value"]))
        return out

    def extra_filters(self, options):
        return (Condition(options["value"], "not_blank"),)

    def chart_measures(self, options):
        value = options["value"]
        agg = "range" if self.spread == "range" else "stddev"
        return (Measure("n", "count_values", value), Measure("mean", "avg", value), Measure(self.spread, agg, value))

    def usable(self, v):
        return 2 <= (v.get("n") or 0) <= 25 and v.get("mean") is not None and v.get(self.spread) is not None

    def left_out(self, count, total):
        return msg("{k}/{t} 个子组的样本量不在 2–25 之间，未绘制", "{k} of {t} subgroups have a size outside 2–25 and are "
                   "left out", k=count, t=total)

    def compute(self, values, frozen):
        build = control.xbar_r if self.spread == "range" else control.xbar_s
        return build([v["mean"] for v in values], [v[self.spread] for v in values], [v["n"] for v in values], frozen)

    def grand_mean(self, values):
        return sum(v["mean"] * v["n"] for v in values) / sum(v["n"] for v in values)


@register
class XbarR(_Xbar):
    key, label, spread = "xbar_r", Msg("均值-极差图 (X̄-R)", "X̄-R chart"), "range"


@register
class XbarS(_Xbar):
    key, label, spread = "xbar_s", Msg("均值-标准差图 (X̄-S)", "X̄-S chart"), "sd"


@register
class Imr(_Spc):
    """Individuals and moving ranges of a number field of the record, in record order."""

    key, label, variables = "imr", Msg("单值-移动极差图 (I-MR)", "I-MR chart"), True
    options_schema = {"value": _PATH, **{k: v for k, v in _COMMON.items() if k != "subgroup"},
                      "lsl": _NUMBER, "usl": _NUMBER}
    required_options = ("value",)
    needed = ("value",)

    def option_problems(self, report, resolve):
        out: list = []
        ref = _number_at(resolve, report.chart.options, "value", out)
        if ref is not None and (ref.table or ref.via):
            out.append(problem("$.chart.value", "单值图的值应为记录本身的数字字段，“{p}”不是（子表的列请用 X̄-R 图）",
                               "An individuals chart needs a number field of the record itself; '{p}' is not one (use "
                               "an X̄-R chart for a sub-table column)", p=report.chart.options["value"]))
        return out

    def extra_filters(self, options):
        return (Condition(options["value"], "not_blank"),)

    def chart_measures(self, options):
        return (Measure("value", "avg", options["value"]),)

    def compute(self, values, frozen):
        return control.imr([v["value"] for v in values], frozen)

    def grand_mean(self, values):
        return math.fsum(v["value"] for v in values) / len(values)


# ---------------------------------------------------------------- attributes charts

class _Attribute(_Spc):
    """Counts per subgroup: ``count_key`` summed from a number path, or rows where ``where`` holds;
    ``size`` summed from a number path (or, with ``where``, the rows)."""

    count_option, count_key, sized = "defectives", "defectives", True

    def option_problems(self, report, resolve):
        options, out = report.chart.options, []
        has_count, has_size, has_where = (options.get(self.count_option) is not None,
                                          options.get("size") is not None, options.get("where") is not None)
        if has_where and (has_count or has_size):
            out.append(problem("$.chart.where", "用 where（计满足条件的行数），或用 {o}{s}，不能同时用",
                               "Use either 'where' (the rows where it holds are counted) or '{o}'{se}, not both",
                               o=self.count_option, s=" 与 size" if self.sized else "",
                               se=" with 'size'" if self.sized else ""))
        elif not has_where and not (has_count and (has_size or not self.sized)):
            out.append(problem(f"$.chart.{self.count_option}", "{c} 图需要 {o}{s}，或 where 条件",
                               "A {c} chart needs '{o}'{se}, or a 'where' condition", c=self.key, o=self.count_option,
                               s=" 与 size" if self.sized else "", se=" and 'size'" if self.sized else ""))
        for name in (self.count_option, "size"):
            _number_at(resolve, options, name, out)
        if has_where:
            out += _expression_problems(options["where"])
        return out

    def chart_measures(self, options):
        if options.get("where"):
            count = Measure(self.count_key, "count_where", where=options["where"])
            return (count, Measure("size", "count")) if self.sized else (count,)
        count = Measure(self.count_key, "sum", options[self.count_option])
        return (count, Measure("size", "sum", options["size"])) if self.sized else (count,)

    def usable(self, v):
        return v.get(self.count_key) is not None and (not self.sized or (v.get("size") or 0) > 0)


def _expression_problems(source: str) -> list:
    """Syntax problems of a ``where`` expression (its names are checked when the query compiles)."""
    from engine.errors import ExpressionError
    from engine.expressions import parse
    try:
        parse(source)
    except ExpressionError as exc:
        m = exc.message if isinstance(exc.message, Msg) else Msg(str(exc), str(exc))
        return [problem("$.chart.where", "{m}（第 {l} 行第 {c} 列）", "{me} (line {l}, column {c})", m=m.zh, me=m.en,
                        l=exc.line, c=exc.column)]
    return []


_ATTR_SCHEMA = {**_COMMON, "where": {"type": "string", "minLength": 1, "maxLength": 4000}}


@register
class PChart(_Attribute):
    key, label = "p", Msg("不合格品率图 (p)", "p chart")
    options_schema = {"defectives": _PATH, "size": _PATH, **_ATTR_SCHEMA}

    def compute(self, values, frozen):
        return control.p_chart([v["defectives"] for v in values], [v["size"] for v in values], frozen)


@register
class NpChart(PChart):
    key, label = "np", Msg("不合格品数图 (np)", "np chart")

    def compute(self, values, frozen):
        return control.np_chart([v["defectives"] for v in values], [v["size"] for v in values], frozen)


@register
class CChart(_Attribute):
    key, label = "c", Msg("缺陷数图 (c)", "c chart")
    count_option, count_key, sized = "defects", "defects", False
    options_schema = {"defects": _PATH, **_ATTR_SCHEMA}

    def compute(self, values, frozen):
        return control.c_chart([v["defects"] for v in values], frozen)


@register
class UChart(_Attribute):
    key, label = "u", Msg("单位缺陷数图 (u)", "u chart")
    count_option, count_key = "defects", "defects"
    options_schema = {"defects": _PATH, "size": _PATH, **_COMMON}

    def compute(self, values, frozen):
        return control.u_chart([v["defects"] for v in values], [v["size"] for v in values], frozen)


# ================================================================== histogram

@register
class Histogram(ChartType):
    """Bin counts of a number with the normal fit (mean and SD from SQL), specification limits
    and Pp/Ppk."""

    key, label, group, uses_dataset_shape = "histogram", Msg("直方图", "Histogram"), "quality", False
    dimensions, measures = (0, 0), (0, 0)
    options_schema = {"value": _PATH, "bins": {"type": "integer", "minimum": 5, "maximum": 100},
                      "lsl": _NUMBER, "usl": _NUMBER, "target": _NUMBER}
    required_options = ("value",)

    def problems(self, report, resolve):
        out = _no_dataset_shape(report, self)
        _number_at(resolve, report.chart.options, "value", out)
        return out + _spec_problems(report.chart.options)

    def run(self, report, run, ctx):
        ds, o = report.dataset, report.chart.options
        value = o["value"]
        base = Dataset(ds.form, ds.filter, ds.filters + (Condition(value, "not_blank"),))
        measures = [Measure("n", "count_values", value), Measure("min", "min", value), Measure("max", "max", value),
                    Measure("mean", "avg", value), Measure("sd", "stddev", value)]
        if o.get("lsl") is not None or o.get("usl") is not None:
            measures.append(Measure("outside", "count_outside", value, lsl=o.get("lsl"), usl=o.get("usl")))
        stats = run(replace(base, measures=tuple(measures)))
        out = {"stats": stats, "main": stats}
        n, low, high = _stats(stats)[:3]
        if n and high > low:
            width = (high - low) / int(o.get("bins", 20))
            out["main"] = run(replace(base, dimensions=(Dimension("bin", value, bin_width=width, bin_origin=low),),
                                      measures=(Measure("n", "count"),)))
        return out

    def shape(self, report, data, lang):
        o = report.chart.options
        n, low, high, mean, sd, outside = _stats(data["stats"])
        bins = int(o.get("bins", 20))
        shaped = {"n": n, "mean": mean, "sd": sd, "min": low, "max": high, "bins": [], "normal": None,
                  "lsl": o.get("lsl"), "usl": o.get("usl"), "target": o.get("target"), "performance": None}
        if not n:
            return shaped
        if high == low:
            shaped["bins"] = [{"start": low, "end": high, "count": n}]
            return shaped
        width = (high - low) / bins
        counts = [0] * bins
        for index, count in data["main"].rows:       # the top edge (and float noise) goes into the end bins
            counts[min(max(int(index), 0), bins - 1)] += int(count)
        shaped["bins"] = [{"start": low + k * width, "end": high if k == bins - 1 else low + (k + 1) * width,
                           "count": c} for k, c in enumerate(counts)]
        if sd:
            shaped["normal"] = _normal_curve(n, mean, sd, width, low, high)
        if o.get("lsl") is not None or o.get("usl") is not None:
            shaped["performance"] = _performance(mean, sd, o.get("lsl"), o.get("usl"), outside, n)
        return shaped

    def figure(self, report, shaped, lang):
        bins = shaped["bins"]
        bars = {"type": "bar", "name": "n", "x": [(b["start"] + b["end"]) / 2 for b in bins],
                "y": [b["count"] for b in bins], "width": [max(b["end"] - b["start"], 1e-12) for b in bins],
                "customdata": list(range(len(bins))), "marker": {"color": PALETTE[0], "line": {"color": "white",
                                                                                              "width": 1}},
                "text": [f"{b['start']:.6g} – {b['end']:.6g}" for b in bins],
                "hovertemplate": "%{text}: %{y}<extra></extra>"}
        traces = [bars]
        if shaped["normal"]:
            name = "正态拟合" if lang == "zh-CN" else "Normal fit"
            traces.append({"type": "scatter", "mode": "lines", "name": name, "x": shaped["normal"]["x"],
                           "y": shaped["normal"]["y"], "line": {"color": PALETTE[1], "width": 2}, "hoverinfo": "skip"})
        shapes, notes = [], []
        for key, color, dash in (("lsl", _RED, "dash"), ("usl", _RED, "dash"), ("target", _GREEN, "dot")):
            value = shaped.get(key)
            if value is None:
                continue
            shapes.append({"type": "line", "xref": "x", "x0": value, "x1": value, "yref": "paper", "y0": 0, "y1": 1,
                           "line": {"color": color, "width": 1.5, "dash": dash}})
            notes.append({"xref": "x", "x": value, "yref": "paper", "y": 1, "text": f"{key.upper()} {value:g}",
                          "showarrow": False, "yanchor": "bottom", "font": {"color": color}})
        layout = base_layout(report, lang, showlegend=False, bargap=0, shapes=shapes, annotations=notes,
                             xaxis={"zeroline": False}, yaxis={"rangemode": "tozero", "gridcolor": "#e5e7eb"})
        return {"data": traces, "layout": layout}

    def drill(self, report, data, point):
        """Records with a value in bin ``point["row"]`` (its customdata); the last bin includes the top edge."""
        k, value = point.get("row", point.get("bin")), report.chart.options["value"]
        n, low, high = _stats(data["stats"])[:3]
        bins = int(report.chart.options.get("bins", 20))
        if not n or not isinstance(k, int) or isinstance(k, bool) or not 0 <= k < (bins if high > low else 1):
            return None
        if high == low:
            return [Condition(value, "not_blank")]
        width = (high - low) / bins
        start = low + k * width
        ref = data["stats"].columns[0].ref
        if ref is not None and ref.kind is StorageKind.INTEGER:      # whole-number bounds for an integer field
            first = [Condition(value, ">=", math.ceil(start))]
            return first + [Condition(value, "<=", high if k == bins - 1 else math.ceil(start + width) - 1)]
        last = Condition(value, "<=", high) if k == bins - 1 else Condition(value, "<", start + width)
        return [Condition(value, ">=", start), last]


def _stats(stats) -> tuple:
    """(n, min, max, mean, sd, outside) of the histogram's first query."""
    row = dict(zip((c.key for c in stats.columns), stats.rows[0])) if stats.rows else {}
    return (int(row.get("n") or 0), _num(row.get("min")), _num(row.get("max")), _num(row.get("mean")),
            _num(row.get("sd")), row.get("outside"))


def _normal_curve(n: int, mean: float, sd: float, width: float, low: float, high: float, points: int = 80) -> dict:
    """The normal density with the data's mean and SD, scaled to bin counts (n × bin width)."""
    start, end = min(low, mean - 3.5 * sd), max(high, mean + 3.5 * sd)
    xs = [start + (end - start) * i / (points - 1) for i in range(points)]
    scale = n * width / (sd * math.sqrt(2 * math.pi))
    return {"x": xs, "y": [scale * math.exp(-0.5 * ((x - mean) / sd) ** 2) for x in xs]}


def _performance(mean, sd, lsl, usl, outside, n: int) -> dict:
    """Pp/Ppk from the overall SD (n − 1), expected PPM (normal model) and observed PPM."""
    ok = bool(sd)
    ppu = (usl - mean) / (3 * sd) if ok and usl is not None else None
    ppl = (mean - lsl) / (3 * sd) if ok and lsl is not None else None
    sides = [v for v in (ppu, ppl) if v is not None]
    return {"pp": (usl - lsl) / (6 * sd) if ok and usl is not None and lsl is not None else None,
            "ppu": ppu, "ppl": ppl, "ppk": min(sides) if sides else None,
            "ppm_expected": capability.expected_ppm(mean, sd, lsl, usl) if ok else None,
            "ppm_observed": 1e6 * (outside or 0) / n}

