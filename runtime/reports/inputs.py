"""What a caller may add to a report or dashboard run, read from a request and checked before
anything runs: extra filter conditions, a date range and the date field it applies to (reports),
and the values of a dashboard's shared filters.

Problems are engine errors so that ``runtime/errors.py`` answers them the one way: a report's
inputs raise :class:`ReportInputError` with a JSON path (``$.filters[1].op``, ``$.period``); a
dashboard's values raise :class:`FilterValueError` naming the filter's key. Both are 422.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, Mapping

from engine import access as access_control
from engine.definitions.model import FormDef
from engine.fields.base import StorageKind
from engine.i18n import msg
from engine.reports.dashboard import DEFAULT_DATE_FIELD, FilterValueError, date_range
from engine.reports.model import GRAINS, OPS, Condition, DashboardDef, ReportDef
from engine.reports.paths import FieldRef, PathError, resolve
from engine.reports.query import ReportInputError

MAX_CONDITIONS = 50           # more than any filter bar sends; bounds the work one request can ask for
MAX_VALUES = 1000             # the engine's own bound for "in"
CONDITION_KEYS = {"field", "op", "value", "bucket"}


@dataclass(frozen=True)
class RunInputs:
    """Extra conditions, a date range and its field, as the engine's run/drill/export take them."""

    filters: tuple[Condition, ...] = ()
    period: tuple[date | None, date | None] | None = None
    period_field: str | None = None

    def as_kwargs(self) -> dict:
        return {"filters": self.filters, "period": self.period, "period_field": self.period_field}


# ---------------------------------------------------------------------------- reading a request

def from_query(args: Mapping[str, str]) -> RunInputs:
    """``?filters=<JSON list>&from=&to=&period_field=`` of a GET request."""
    raw = args.get("filters")
    filters: Any = []
    if raw not in (None, ""):
        try:
            filters = json.loads(raw)
        except ValueError as exc:
            raise ReportInputError(msg("参数 filters 不是有效的 JSON（第 {c} 个字符附近）",
                                       "The parameter 'filters' is not valid JSON (near character {c})",
                                       c=getattr(exc, "pos", 0) + 1), "$.filters") from None
    period = {"from": args.get("from") or None, "to": args.get("to") or None}
    return RunInputs(conditions(filters), period_of(period), _period_field(args.get("period_field")))


def from_body(body: Mapping[str, Any]) -> RunInputs:
    """``{"filters": [...], "period": {"from", "to"}, "period_field"}`` of a POST body (all optional)."""
    return RunInputs(conditions(body.get("filters") or []), period_of(body.get("period")),
                     _period_field(body.get("period_field")))


def conditions(raw: Any) -> tuple[Condition, ...]:
    """A JSON list of ``{"field", "op", "value"?, "bucket"?}`` as Conditions (the shape only;
    whether the field exists for the viewer is checked with the report, see :func:`for_report`)."""
    if not isinstance(raw, list):
        raise ReportInputError(msg("filters 应是列表 [{{field, op, value}}, …]",
                                   "'filters' must be a list [{{field, op, value}}, …]"), "$.filters")
    if len(raw) > MAX_CONDITIONS:
        raise ReportInputError(msg("筛选条件最多 {n} 个", "At most {n} filter conditions", n=MAX_CONDITIONS), "$.filters")
    return tuple(_condition(item, f"$.filters[{i}]") for i, item in enumerate(raw))


def _condition(item: Any, where: str) -> Condition:
    if not isinstance(item, Mapping):
        raise ReportInputError(msg("筛选条件应是对象 {{field, op, value}}", "A filter condition is an object "
                                   "{{field, op, value}}"), where)
    unknown = sorted(set(item) - CONDITION_KEYS)
    if unknown:
        raise ReportInputError(msg("筛选条件不认识“{k}”（可用：field、op、value、bucket）",
                                   "Unknown key '{k}' in a filter condition (known: field, op, value, bucket)",
                                   k=unknown[0]), f"{where}.{unknown[0]}")
    field = item.get("field")
    if not isinstance(field, str) or not field.strip():
        raise ReportInputError(msg("缺少字段 field（如 supplier、inspect_date）",
                                   "'field' is missing (e.g. supplier, inspect_date)"), where + ".field")
    op = item.get("op")
    if op not in OPS:
        raise ReportInputError(msg("运算符“{o}”无效，可用：{all}", "Unknown operator '{o}'; use one of: {all}",
                                   o=str(op)[:20], all=", ".join(OPS)), where + ".op")
    value = item.get("value")
    if op in ("in", "not_in") and isinstance(value, list) and len(value) > MAX_VALUES:
        raise ReportInputError(msg("in 最多 {n} 个值", "'in' takes at most {n} values", n=MAX_VALUES), where + ".value")
    if op == "between" and not (isinstance(value, list) and len(value) == 2):
        raise ReportInputError(msg("between 需要 [起, 止] 两个值", "'between' needs two values [from, to]"),
                               where + ".value")
    if isinstance(value, Mapping) or (isinstance(value, list) and op not in ("in", "not_in", "between")):
        raise ReportInputError(msg("运算符 {o} 的值应是单个值", "The operator {o} takes a single value", o=op),
                               where + ".value")
    bucket = item.get("bucket")
    if bucket is not None and bucket not in GRAINS:
        raise ReportInputError(msg("bucket 应是 {all} 之一", "'bucket' must be one of {all}", all=", ".join(GRAINS)),
                               where + ".bucket")
    return Condition(field.strip(), op, value, bucket)


def period_of(raw: Any) -> tuple[date | None, date | None] | None:
    """``{"from", "to"}`` (ISO dates, either may be blank) → (from, to); None when both are blank."""
    if raw in (None, "", {}):
        return None
    if not isinstance(raw, Mapping) or set(raw) - {"from", "to"}:
        raise ReportInputError(msg("period 应是 {{\"from\": 日期, \"to\": 日期}}",
                                   "'period' must be {{\"from\": date, \"to\": date}}"), "$.period")
    try:
        return date_range(dict(raw), "period")
    except FilterValueError as exc:
        raise ReportInputError(exc.message, "$.period") from None


def _period_field(raw: Any) -> str | None:
    if raw in (None, ""):
        return None
    if not isinstance(raw, str):
        raise ReportInputError(msg("period_field 应是日期字段的键", "'period_field' must be the key of a date field"),
                               "$.period_field")
    return raw.strip()


# ---------------------------------------------------------------------------- checked with the report

def visible_form(session, actor, form: FormDef) -> FormDef:
    """The form as ``actor`` may see it (hidden fields left out: they can be neither filtered
    nor offered as a date axis)."""
    hidden = access_control.form_access(session, actor, form.key).hidden_fields
    return replace(form, fields=tuple(f for f in form.fields if f.key not in hidden)) if hidden else form


def for_report(inputs: RunInputs, report: ReportDef, form: FormDef, forms: Mapping[str, FormDef]) -> RunInputs:
    """``inputs`` with every condition's field and the date field checked against what the
    viewer may see (``form``: the viewer's view of the form; a hidden field reads as absent, as
    on the record pages), the date field settled: given, else the chart's own, else created_at."""
    for i, condition in enumerate(inputs.filters):
        try:
            resolve(condition.field, form, forms)
        except PathError as exc:
            raise ReportInputError(exc.message, f"$.filters[{i}].field") from None
    if inputs.period is None:
        return replace(inputs, period_field=None)
    path = inputs.period_field or report.chart.option("period_field") or DEFAULT_DATE_FIELD
    try:
        ref = resolve(path, form, forms)
    except PathError as exc:
        raise ReportInputError(exc.message, "$.period_field") from None
    if not ref.is_date:
        raise ReportInputError(msg("“{p}”不是日期字段，不能按日期范围筛选", "'{p}' is not a date field; a date range "
                                   "needs one", p=path), "$.period_field")
    return replace(inputs, period_field=path)


def caller_path(exc: ReportInputError, report: ReportDef, inputs: RunInputs) -> str:
    """Where an engine error about a run points, in the caller's terms.

    The engine appends the caller's conditions after the report's own and the date range after
    those (:func:`engine.services.reports.run_report`), and names a bad one by its place in the
    combined list; a caller sent ``filters[0]``, not ``dataset.filters[3]``."""
    prefix = "$.dataset.filters["
    if not exc.path.startswith(prefix):
        return exc.path
    index_text, _, rest = exc.path[len(prefix):].partition("]")
    if not index_text.isdigit():
        return exc.path
    index, own = int(index_text), len(report.dataset.filters)
    if index < own:
        return exc.path
    if index - own < len(inputs.filters):
        return f"$.filters[{index - own}]{rest}"
    return "$.period"


# ---------------------------------------------------------------------------- dashboard values

def values_from_query(args: Mapping[str, str]) -> dict:
    raw = args.get("values")
    if raw in (None, ""):
        return {}
    try:
        return values_of(json.loads(raw))
    except ValueError:
        raise FilterValueError(msg("参数 values 不是有效的 JSON", "The parameter 'values' is not valid JSON"),
                               "values") from None


def values_of(raw: Any) -> dict:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise FilterValueError(msg("values 应是对象 {{筛选键: 值}}", "'values' must be an object {{filter key: value}}"),
                               "values")
    return dict(raw)


def check_values(dashboard: DashboardDef, values: Mapping[str, Any], refs: Mapping[str, list[FieldRef]]) -> None:
    """FilterValueError naming the filter when a value cannot select anything: an unknown key, a
    date range that is not one, or a field value of the wrong type for the field it filters
    (``refs``: per filter key, the fields it resolves to in the dashboard's reports)."""
    known = {f.key: f for f in dashboard.filters}
    for key, value in values.items():
        f = known.get(key)
        if f is None:
            raise FilterValueError(msg("看板没有筛选“{k}”（有：{all}）", "The dashboard has no filter '{k}' (it has: {all})",
                                       k=str(key)[:40], all=", ".join(known) or "—"), str(key)[:40])
        if value in (None, "", [], {}):
            continue
        if f.type == "date_range":
            date_range(value, key)
            continue
        items = value if isinstance(value, list) else [value]
        if len(items) > MAX_VALUES:
            raise FilterValueError(msg("最多选 {n} 个值", "Choose at most {n} values", n=MAX_VALUES), key)
        for item in items:
            if isinstance(item, (Mapping, list)):
                raise FilterValueError(msg("筛选值应是文本或数字", "A filter value is a text or a number"), key)
            for ref in refs.get(key, ()):
                if not _fits(ref.kind, item):
                    raise FilterValueError(msg("“{v}”不是“{name_zh}”的有效值", "'{v}' is not a valid value for '{name_en}'",
                                               v=str(item)[:40], name_zh=f.label.zh, name_en=f.label.en), key)


def _fits(kind: StorageKind, value: Any) -> bool:
    """Whether ``value`` converts to the column's type the way the engine's filters convert it."""
    try:
        if kind is StorageKind.INTEGER:
            if isinstance(value, bool):
                return False
            if isinstance(value, float):
                return value.is_integer()
            int(value)
            return True
        if kind is StorageKind.DECIMAL:
            return not isinstance(value, bool) and float(value) == float(value)
        if kind is StorageKind.BOOLEAN:
            return isinstance(value, bool) or str(value).lower() in ("true", "false", "1", "0", "yes", "no")
        if kind in (StorageKind.DATE, StorageKind.DATETIME):
            date.fromisoformat(str(value)[:10])
        return True
    except (TypeError, ValueError, OverflowError):
        return False


def filter_refs(dashboard: DashboardDef, reports: Mapping[str, ReportDef],
                forms: Mapping[str, FormDef]) -> dict[str, list[FieldRef]]:
    """Per field filter: the fields it selects by in each report whose form has its path."""
    out: dict[str, list[FieldRef]] = {}
    for f in dashboard.filters:
        if f.type != "field":
            continue
        for key, report in reports.items():
            path, form = f.path_for(key), forms.get(report.dataset.form)
            if not path or form is None:
                continue
            try:
                out.setdefault(f.key, []).append(resolve(path, form, forms))
            except PathError:
                continue
    return out
