"""Report definitions: check (JSON Schema, the chart type's option schema, then semantic checks
including a dry compilation of the dataset) and load into a frozen :class:`ReportDef`.

``check_report`` never raises for any input: every problem comes back with its JSON path, in
the same style as forms, flows and rules.
"""
from __future__ import annotations

import copy
import re
from datetime import datetime, timezone
from typing import Any, Iterator, Mapping

from engine.definitions.loader import _too_deep
from engine.definitions.model import FormDef, label_from
from engine.definitions.paths import all_problems
from engine.definitions.schema import error_problems, validator
from engine.errors import DefinitionError, ExpressionError, Problem
from engine.i18n import Msg, msg
from engine.reports.charts import CHARTS
from engine.reports.measures import AGGREGATIONS
from engine.reports.model import (ChartDef, Condition, Dataset, Dimension, Measure, ReportDef, SortKey)
from engine.reports.paths import PathError, resolve
from engine.reports.query import DatasetQuery, ReportInputError
from engine.rules.definition import option_problems

__all__ = ["check_report", "load_report", "dataset_from", "dry_compile"]

_NON_KEY = re.compile(r"[^a-z0-9_]")


def _key(text: str) -> str:
    key = _NON_KEY.sub("_", text.lower().replace(".", "_"))[:40].strip("_") or "value"
    return key if key[0].isalpha() else "k_" + key[:37]


def dataset_from(data: Mapping[str, Any]) -> Dataset:
    """A Dataset from checked JSON (default keys filled in: ``inspect_date_month``, ``sum_defects_qty``)."""
    dims = []
    for d in data.get("dimensions", ()):
        default = _key(d["field"] + (("_" + d["bucket"]) if d.get("bucket") else "") + ("_bin" if d.get("bin") else ""))
        b = d.get("bin") or {}
        dims.append(Dimension(d.get("key") or default, d["field"], label_from(d.get("label")) if d.get("label") else None,
                              d.get("bucket"), b.get("width"), float(b.get("origin", 0.0))))
    measures = []
    for m in data.get("measures", ()):
        default = _key(m["agg"] + ("_" + m["field"] if m.get("field") else ""))
        measures.append(Measure(m.get("key") or default, m["agg"], m.get("field"), m.get("where"), m.get("per"),
                                m.get("lsl"), m.get("usl"), label_from(m.get("label")) if m.get("label") else None))
    return Dataset(data["form"], data.get("filter") or None,
                   tuple(Condition(c["field"], c["op"], c.get("value"), c.get("bucket")) for c in data.get("filters", ())),
                   tuple(dims), tuple(measures),
                   tuple(SortKey(s["by"], bool(s.get("desc"))) for s in data.get("sort", ())), data.get("limit"))


def check_report(data: Any, forms: Mapping[str, FormDef]) -> list[Problem]:
    """Every problem of a report definition, sorted by path. ``forms``: the tenant's published
    forms by key. Never raises."""
    return all_problems(lambda: _problems(data, forms), "报表", "report")


def _problems(data: Any, forms: Mapping[str, FormDef]) -> Iterator[Problem]:
    deep = _too_deep(data)
    if deep is not None:
        yield deep
        return
    schema = [p for e in validator("report").iter_errors(data) for p in error_problems(e)]
    yield from schema
    if schema or not isinstance(data, Mapping):
        return
    ds_json, chart_json = data["dataset"], data["chart"]
    form = forms.get(ds_json["form"])
    if form is None:
        known = ", ".join(sorted(forms)) or "-"
        yield Problem("$.dataset.form", msg("表单“{f}”不存在或未发布；可用：{k}", "The form '{f}' does not exist or is not "
                                            "published; known: {k}", f=ds_json["form"], k=known))
        return
    if chart_json["type"] not in CHARTS:
        yield Problem("$.chart.type", msg("未知的图表类型“{t}”；可用：{k}", "Unknown chart type '{t}'; known: {k}",
                                          t=chart_json["type"], k=", ".join(CHARTS.keys())))
        return
    chart = CHARTS.get(chart_json["type"])
    option_errors = option_problems(chart_json, chart, "$.chart", Msg("图表", "The chart"))
    yield from option_errors
    dataset = dataset_from(ds_json)
    found = list(_dataset_problems(dataset, form, forms))
    yield from found
    if chart.uses_dataset_shape:
        yield from _shape_problems(dataset, chart)
    if found or option_errors:
        return
    report = ReportDef(data["key"], label_from(data["label"]), dataset, ChartDef(chart_json["type"], chart_json))

    def resolver(path: str):
        try:
            return resolve(path, form, forms)
        except PathError as exc:
            raise DefinitionError([Problem("$.chart", exc.message)]) from None
    try:
        chart_problems = list(chart.problems(report, resolver))
    except DefinitionError as exc:
        chart_problems = list(exc.problems)
    yield from chart_problems
    base = dry_compile(dataset, form, forms)
    yield from base
    if not chart.uses_dataset_shape and not chart_problems and not base:
        yield from _dry_run(report, chart, form, forms)


class _Found(Exception):
    def __init__(self, problems: list[Problem]):
        super().__init__("dry run problems")
        self.problems = problems


def _dry_run(report: ReportDef, chart, form: FormDef, forms) -> list[Problem]:
    """Compile the datasets a chart builds from its options (an SPC chart's subgroup query, a
    histogram's bins) without a database: their problems belong to the chart's options."""
    from zoneinfo import ZoneInfo

    from engine.reports.charts import ChartContext
    from engine.reports.result import ReportData

    def runner(ds: Dataset) -> ReportData:
        found = dry_compile(ds, form, forms)
        if found:
            raise _Found([p if p.path == "$.dataset.filter" else Problem("$.chart", p.message) for p in found])
        return ReportData([], [], [])
    try:
        chart.run(report, runner, ChartContext(datetime.now(timezone.utc), ZoneInfo("UTC")))
    except _Found as found:
        return found.problems
    except Exception:  # noqa: BLE001 - the chart's later steps need real numbers; compiling was the point
        return []
    return []


def _dataset_problems(ds: Dataset, form: FormDef, forms) -> Iterator[Problem]:
    keys: dict[str, str] = {}
    for i, d in enumerate(ds.dimensions):
        where = f"$.dataset.dimensions[{i}]"
        ref = yield from _resolved(d.field, form, forms, where + ".field")
        if ref is not None and d.bucket and not ref.is_date:
            yield Problem(where + ".bucket", msg("只有日期字段能按日/周/月/季/年分组，“{p}”不是日期",
                                                 "Only a date can be bucketed by day/week/month/quarter/year; '{p}' is not a date",
                                                 p=d.field))
        if ref is not None and d.bin_width and not ref.numeric:
            yield Problem(where + ".bin", msg("只有数字字段能分箱，“{p}”不是数字", "Only a number can be binned; '{p}' is not a number",
                                              p=d.field))
        if d.bucket and d.bin_width:
            yield Problem(where, msg("bucket 与 bin 只能用一个", "Use bucket or bin, not both"))
        yield from _unique(keys, d.key, where)
    for i, m in enumerate(ds.measures):
        yield from _measure_problems(m, i, form, forms, keys)
    for i, c in enumerate(ds.filters):
        where = f"$.dataset.filters[{i}]"
        ref = yield from _resolved(c.field, form, forms, where + ".field")
        if ref is not None and c.bucket and not ref.is_date:
            yield Problem(where + ".bucket", msg("只有日期字段能按周期筛选", "Only a date can be filtered by bucket"))
        if c.op in ("in", "not_in") and not isinstance(c.value, list):
            yield Problem(where + ".value", msg("{op} 的值应为列表", "The value of '{op}' must be a list", op=c.op))
        if c.op == "between" and not (isinstance(c.value, list) and len(c.value) == 2):
            yield Problem(where + ".value", msg("between 的值应为 [起, 止]", "The value of 'between' must be [from, to]"))
        if c.op not in ("blank", "not_blank", "in", "not_in", "between") and c.value is None:
            yield Problem(where + ".value", msg("缺少筛选值", "The condition needs a value"))
    for i, s in enumerate(ds.sort):
        if s.by not in keys:
            yield Problem(f"$.dataset.sort[{i}].by", msg("没有名为“{k}”的维度或度量；可用：{a}",
                                                         "No dimension or measure is called '{k}'; known: {a}",
                                                         k=s.by, a=", ".join(keys) or "-"))


def _measure_problems(m: Measure, i: int, form, forms, keys) -> Iterator[Problem]:
    where = f"$.dataset.measures[{i}]"
    if m.agg not in AGGREGATIONS:
        yield Problem(where + ".agg", msg("未知的汇总方式“{a}”；可用：{k}", "Unknown aggregation '{a}'; known: {k}",
                                          a=m.agg, k=", ".join(AGGREGATIONS.keys())))
        return
    agg = AGGREGATIONS.get(m.agg)
    if agg.field == "required" and not m.field:
        yield Problem(where + ".field", msg("{a} 需要一个字段（field）", "{a} needs a field", a=m.agg))
    if agg.field == "none" and m.field:
        yield Problem(where + ".field", msg("{a} 不使用字段", "{a} takes no field", a=m.agg))
    for name in ("where", "per", "lsl", "usl"):
        if getattr(m, name) is not None and name not in agg.options:
            yield Problem(f"{where}.{name}", msg("{a} 不使用 {n}", "{a} does not take '{n}'", a=m.agg, n=name))
    for name in agg.required:
        if getattr(m, name) is None:
            yield Problem(f"{where}.{name}", msg("{a} 需要 {n}", "{a} needs '{n}'", a=m.agg, n=name))
    refs = {}
    for name in ("field", "per", "lsl", "usl"):
        value = getattr(m, name)
        if isinstance(value, str):
            ref = yield from _resolved(value, form, forms, f"{where}.{name}")
            if ref is None:
                continue
            refs[value] = ref
            if (name != "field" or agg.numeric) and not ref.numeric:
                yield Problem(f"{where}.{name}", msg("“{p}”不是数字字段，不能用于 {a}", "'{p}' is not a number, so {a} cannot use it",
                                                     p=value, a=m.agg))
    yield from agg.problems(m, refs, where)
    yield from _unique(keys, m.key, where)


def _resolved(path: str, form, forms, where: str):
    try:
        return resolve(path, form, forms)
    except PathError as exc:
        yield Problem(where, exc.message)
        return None


def _unique(keys: dict[str, str], key: str, where: str) -> Iterator[Problem]:
    if key in keys:
        yield Problem(where + ".key", msg("键“{k}”重复（{o} 已用），请用 key 指定另一个", "The key '{k}' is used twice (also at "
                                          "{o}); give one of them another key", k=key, o=keys[key]))
    else:
        keys[key] = where


def _shape_problems(ds: Dataset, chart) -> Iterator[Problem]:
    (dlo, dhi), (mlo, mhi) = chart.dimensions, chart.measures
    if not dlo <= len(ds.dimensions) <= dhi:
        yield Problem("$.dataset.dimensions", msg("{c}需要 {a}–{b} 个维度，现有 {n} 个", "{ce} needs {a}–{b} dimension(s); "
                                                  "there are {n}", c=chart.label.zh, ce=chart.label.en, a=dlo, b=dhi,
                                                  n=len(ds.dimensions)))
    if not mlo <= len(ds.measures) <= mhi:
        yield Problem("$.dataset.measures", msg("{c}需要 {a}–{b} 个度量，现有 {n} 个", "{ce} needs {a}–{b} measure(s); "
                                                "there are {n}", c=chart.label.zh, ce=chart.label.en, a=mlo, b=mhi,
                                                n=len(ds.measures)))


def dry_compile(ds: Dataset, form: FormDef, forms: Mapping[str, FormDef], path: str = "$") -> list[Problem]:
    """Compile the dataset against the tables the form would have (no database): grain,
    expression and filter-value problems, with the path of the part at fault."""
    from zoneinfo import ZoneInfo

    from engine.storage import record_tables

    tables = record_tables.sa_tables(record_tables.form_spec(form, 0))
    targets = {}
    for key, target in forms.items():
        if key != form.key:
            try:
                targets[key] = record_tables.sa_tables(record_tables.form_spec(target, 0))[()]
            except DefinitionError:
                continue
    query = DatasetQuery(ds, form, forms, tables, targets, tenant_id=0, dialect="sqlite",
                         now=datetime.now(timezone.utc), zone=ZoneInfo("UTC"), scope_for=lambda *_: None)
    try:
        query.compile()
    except ReportInputError as exc:
        return [Problem(path + exc.path[1:], exc.message)]
    except ExpressionError as exc:
        return [Problem(path + getattr(exc, "report_path", "$.dataset")[1:], _positioned(exc))]
    return []


def _positioned(exc: ExpressionError) -> Msg:
    m = exc.message if isinstance(exc.message, Msg) else Msg(str(exc), str(exc))
    where = f"（第 {exc.line} 行第 {exc.column} 列）" if getattr(exc, "line", None) else ""
    where_en = f" (line {exc.line}, column {exc.column})" if getattr(exc, "line", None) else ""
    return Msg(m.zh + where, m.en + where_en)


def load_report(data: Any, forms: Mapping[str, FormDef]) -> ReportDef:
    """A checked ReportDef; DefinitionError listing every problem otherwise."""
    problems = check_report(data, forms)
    if problems:
        raise DefinitionError(problems)
    chart = data["chart"]
    return ReportDef(data["key"], label_from(data["label"]), dataset_from(data["dataset"]),
                     ChartDef(chart["type"], copy.deepcopy(dict(chart))),
                     label_from(data["description"]) if data.get("description") else None, copy.deepcopy(dict(data)))
