"""Dashboard definitions: check and load into a frozen :class:`DashboardDef`, and turn the
values of its shared filters into each report's conditions.

A shared filter names a path (``supplier``, ``inspect_date``) that applies to every report
whose form has it, or per report through ``targets``; a report whose form lacks it is shown
unfiltered by it, and the dashboard says so.
"""
from __future__ import annotations

import copy
from datetime import date
from typing import Any, Iterator, Mapping

from engine.definitions.loader import _too_deep
from engine.definitions.model import FormDef, label_from
from engine.definitions.paths import all_problems
from engine.definitions.schema import error_problems, validator
from engine.errors import DefinitionError, Problem
from engine.i18n import Msg, msg
from engine.reports.model import Condition, DashboardDef, DashboardFilter, DashboardItem, ReportDef
from engine.reports.paths import FieldRef, PathError, resolve

DEFAULT_DATE_FIELD = "created_at"


def check_dashboard(data: Any, reports: Mapping[str, ReportDef], forms: Mapping[str, FormDef]) -> list[Problem]:
    """Every problem of a dashboard definition (``reports``: the tenant's reports by key). Never raises."""
    return all_problems(lambda: _problems(data, reports, forms), "看板", "dashboard")


def _problems(data, reports, forms) -> Iterator[Problem]:
    deep = _too_deep(data)
    if deep is not None:
        yield deep
        return
    schema = [p for e in validator("dashboard").iter_errors(data) for p in error_problems(e)]
    yield from schema
    if schema:
        return
    keys = []
    for i, item in enumerate(data["items"]):
        if item["report"] not in reports:
            yield Problem(f"$.items[{i}].report", msg("报表“{k}”不存在", "The report '{k}' does not exist", k=item["report"]))
        if item.get("x", 0) + item.get("w", 6) > 12:
            yield Problem(f"$.items[{i}].w", msg("超出 12 列的网格（x + w ≤ 12）", "Beyond the 12-column grid (x + w ≤ 12)"))
        keys.append(item["report"])
    seen = set()
    for i, f in enumerate(data.get("filters", ())):
        where = f"$.filters[{i}]"
        if f["key"] in seen:
            yield Problem(where + ".key", msg("筛选键“{k}”重复", "The filter key '{k}' is used twice", k=f["key"]))
        seen.add(f["key"])
        if f["type"] == "field" and not f.get("field") and not f.get("targets"):
            yield Problem(where + ".field", msg("字段筛选需要 field（或 targets）", "A field filter needs 'field' (or 'targets')"))
        for report_key in f.get("targets", {}):
            if report_key not in keys:
                yield Problem(f"{where}.targets.{report_key}", msg("看板上没有报表“{k}”", "The dashboard has no report '{k}'",
                                                                   k=report_key))
        applies = 0
        for report_key in keys:
            report = reports.get(report_key)
            path = f.get("targets", {}).get(report_key, f.get("field") or (DEFAULT_DATE_FIELD if f["type"] == "date_range"
                                                                           else None))
            if report is None or path is None:
                continue
            ref = _ref(path, report, forms)
            if ref is None:
                if report_key in f.get("targets", {}):
                    yield Problem(f"{where}.targets.{report_key}", msg("报表“{r}”的表单没有字段“{p}”",
                                                                       "The form of report '{r}' has no field '{p}'",
                                                                       r=report_key, p=path))
                continue
            if f["type"] == "date_range" and not ref.is_date:
                yield Problem(where + ".field", msg("日期范围筛选的字段“{p}”不是日期", "The date-range field '{p}' is not a date",
                                                    p=path))
            applies += 1
        if keys and applies == 0 and all(k in reports for k in keys):
            yield Problem(where + ".field", msg("没有一个报表的表单有字段“{p}”", "No report's form has the field '{p}'",
                                                p=f.get("field")))


def _ref(path: str, report: ReportDef, forms: Mapping[str, FormDef]) -> FieldRef | None:
    form = forms.get(report.dataset.form)
    if form is None:
        return None
    try:
        return resolve(path, form, forms)
    except PathError:
        return None


def load_dashboard(data: Any, reports: Mapping[str, ReportDef], forms: Mapping[str, FormDef]) -> DashboardDef:
    problems = check_dashboard(data, reports, forms)
    if problems:
        raise DefinitionError(problems)
    return dashboard_from(data)


def dashboard_from(data: Mapping[str, Any]) -> DashboardDef:
    """A DashboardDef from checked JSON (no report lookups: a stored dashboard loads even when
    one of its reports was deleted since; that item then says so)."""
    filters = tuple(DashboardFilter(f["key"], label_from(f["label"]), f["type"], f.get("field"),
                                    dict(f.get("targets", {})), f.get("default")) for f in data.get("filters", ()))
    items = tuple(DashboardItem(i["report"], i.get("x", 0), i.get("y", 0), i.get("w", 6), i.get("h", 4))
                  for i in data["items"])
    return DashboardDef(data["key"], label_from(data["label"]), items, filters, int(data.get("refresh", 0)),
                        label_from(data["description"]) if data.get("description") else None, copy.deepcopy(dict(data)))


class FilterValueError(ValueError):
    def __init__(self, message: Msg, key: str):
        super().__init__(message.en)
        self.message, self.key = message, key


def date_range(value: Any, key: str) -> tuple[date | None, date | None] | None:
    """``{"from", "to"}`` or ``[from, to]`` (ISO dates, either may be empty) → (from, to); None when both empty."""
    if value in (None, "", [], {}):
        return None
    if isinstance(value, Mapping):
        pair = (value.get("from"), value.get("to"))
    elif isinstance(value, (list, tuple)) and len(value) == 2:
        pair = tuple(value)
    else:
        raise FilterValueError(msg("日期范围应为 {{from, to}}", "A date range is {{from, to}}"), key)
    try:
        low, high = (date.fromisoformat(str(v)[:10]) if v not in (None, "") else None for v in pair)
    except ValueError:
        raise FilterValueError(msg("“{v}”不是日期（YYYY-MM-DD）", "'{v}' is not a date (YYYY-MM-DD)", v=str(pair)[:60]), key) from None
    if low and high and low > high:
        raise FilterValueError(msg("开始日期晚于结束日期", "The start date is after the end date"), key)
    return (low, high) if (low or high) else None


def conditions_for(dashboard: DashboardDef, report: ReportDef, values: Mapping[str, Any],
                   forms: Mapping[str, FormDef]) -> tuple[list[Condition], tuple | None, str | None, list[str]]:
    """(conditions, period, period field, keys of filters that do not apply to this report).

    The date range is not among the conditions: the report applies it as a condition on the
    period field, unless its chart compares periods itself (a KPI card)."""
    out, period, period_field, skipped = [], None, None, []
    for f in dashboard.filters:
        value = values.get(f.key, f.default)
        path = f.path_for(report.key) or (DEFAULT_DATE_FIELD if f.type == "date_range" else None)
        if value in (None, "", [], {}) or path is None:
            continue
        if _ref(path, report, forms) is None:
            skipped.append(f.key)
            continue
        if f.type == "date_range":
            bounds = date_range(value, f.key)
            if bounds is None:
                continue
            period, period_field = bounds, path
        else:
            values_list = value if isinstance(value, list) else [value]
            out.append(Condition(path, "in", values_list))
    return out, period, period_field, skipped
