"""The report and dashboard designers' server side: the live chart of a draft report on the
tenant's real data, and the choices the two editors are built from.

- ``POST /designer/api/reports/preview`` ``{definition, filters?}`` — runs an unpublished report
  definition (:func:`engine.services.reports.run_definition`: the same checks as publishing, the
  ``design`` permission on its form, only the numbers the user may see) and answers exactly what
  the runtime's ``/api/v1/reports/<key>/data`` answers (plotly figure, chart numbers, table rows).
  An incomplete draft is a 422 whose ``errors`` carry the engine's paths (``$.dataset.measures[0]``)
  and whose ``problems`` carry the same as JSON pointers (``/dataset/measures/0``), like ``check``.
- ``GET /designer/api/report-choices`` — chart types (from the chart registry: labels, group, how
  many dimensions/measures each needs, option schemas), aggregations (from the measures
  registry), date buckets, filter operators, the tenant's published reports (for the dashboard
  palette) and where plotly.js is served. The editors hard-code none of these lists.
- ``GET /designer/api/report-fields/<form>`` — every path a dataset may use on that form, as the
  user may see it: fields, system columns, sub-table columns, one hop through references.
"""
from __future__ import annotations

import re
from dataclasses import replace
from typing import Any, Mapping

import plotly
from flask import jsonify, url_for

from engine import access as access_control
from engine.errors import DefinitionError, NotFound
from engine.fields import field_type
from engine.i18n import Msg, msg
from engine.reports import AGGREGATIONS, CHARTS
from engine.reports.model import GRAINS, OPS, Condition
from engine.reports.paths import SYSTEM_COLUMNS, PathError, resolve
from engine.services import forms as form_service
from engine.services import reports as report_service
from runtime.api.replies import BadInput, json_object, json_ready
from runtime.auth import current_actor, login_required
from runtime.db import db
from runtime.errors import engine_error_response
from runtime.i18n import current_lang

from designer.blueprint import bp

MAX_FILTERS = 20

BUCKET_LABELS = {"day": Msg("按日", "Day"), "week": Msg("按周", "Week"), "month": Msg("按月", "Month"),
                 "quarter": Msg("按季度", "Quarter"), "year": Msg("按年", "Year")}
OP_LABELS = {"=": Msg("等于", "equals"), "!=": Msg("不等于", "is not"), ">": Msg("大于", "greater than"),
             ">=": Msg("大于等于", "at least"), "<": Msg("小于", "less than"), "<=": Msg("小于等于", "at most"),
             "in": Msg("属于", "is one of"), "not_in": Msg("不属于", "is none of"), "between": Msg("介于", "between"),
             "blank": Msg("为空", "is blank"), "not_blank": Msg("不为空", "is not blank"),
             "contains": Msg("包含", "contains")}
# What the chart options are called in the designer (an option missing here shows its name).
OPTION_LABELS = {
    "horizontal": Msg("横向", "Horizontal"), "show_values": Msg("显示数值", "Show values"),
    "y_title": Msg("数值轴标题", "Value axis title"), "hole": Msg("中空比例 (0–0.9)", "Hole (0–0.9)"),
    "threshold": Msg("累计线阈值 %", "Cumulative threshold %"), "min": Msg("最小值", "Minimum"),
    "max": Msg("最大值", "Maximum"), "target": Msg("目标值", "Target"), "bands": Msg("色带", "Colour bands"),
    "period": Msg("比较周期", "Period"), "period_field": Msg("周期日期字段", "Period date field"),
    "better": Msg("越大越好/越小越好", "Better when"), "value": Msg("测量值字段", "Measured value"),
    "subgroup": Msg("子组", "Subgroup"), "last": Msg("最近子组数", "Last subgroups"),
    "rules": Msg("判异规则", "Run rules"), "limits": Msg("固定控制限", "Fixed control limits"),
    "by": Msg("按过程区分（字段）", "One process per (fields)"), "lsl": Msg("规格下限 LSL", "Lower spec limit (LSL)"),
    "usl": Msg("规格上限 USL", "Upper spec limit (USL)"), "bins": Msg("分箱数", "Bins"),
    "defectives": Msg("不合格品数字段", "Defectives field"), "size": Msg("样本量字段", "Sample size field"),
    "where": Msg("不合格条件", "Nonconforming when"), "defects": Msg("缺陷数字段", "Defects field"),
}
_REFS = {"report.schema.json#/$defs/path": {"type": "string", "format": "path"},
         "common.schema.json#/$defs/label": {"type": "object", "format": "label"}}
_INDEX = re.compile(r"\[(\d+)\]")




def viewer():
    return replace(current_actor(), lang=current_lang())


def pointer(path: str) -> str:
    """An engine path (``$.dataset.measures[0].field``) as a JSON pointer (``/dataset/measures/0/field``)."""
    body = _INDEX.sub(r".\1", path[1:] if path.startswith("$") else path)
    return "/" + "/".join(p for p in body.split(".") if p) if body.strip(".") else ""


def _conditions(value: Any) -> list[Condition]:
    """Extra filters the preview runs with (the dashboard designer's shared-filter trial)."""
    if value in (None, []):
        return []
    if not isinstance(value, list) or len(value) > MAX_FILTERS:
        raise BadInput(msg("filters 应是最多 {n} 个条件的列表", "'filters' must be a list of at most {n} conditions",
                           n=MAX_FILTERS), "filters")
    out = []
    for c in value:
        if not (isinstance(c, Mapping) and isinstance(c.get("field"), str) and c.get("op") in OPS):
            raise BadInput(msg("每个筛选条件应为 {{field, op, value}}", "Each filter is {{field, op, value}}"), "filters")
        out.append(Condition(c["field"], c["op"], c.get("value"), c.get("bucket") if c.get("bucket") in GRAINS else None))
    return out


@bp.post("/api/reports/preview")
@login_required
def report_preview():
    body = json_object()
    definition = body.get("definition")
    if not isinstance(definition, dict):
        raise BadInput(msg("definition 应是报表定义对象", "'definition' must be a report definition object"), "definition")
    filters = _conditions(body.get("filters"))
    try:
        result = report_service.run_definition(db(), viewer(), definition, filters)
    except DefinitionError as exc:
        response, status = engine_error_response(exc)
        lang = current_lang()
        data = response.get_json()
        data["problems"] = [{"path": pointer(p.path), "message": p.message.get(lang)} for p in exc.problems]
        return jsonify(data), status
    return jsonify(json_ready(result.to_json(current_lang())))


def _schema(value: Any) -> Any:
    """An option schema fragment with the shared definitions inlined (marked by ``format``)."""
    if isinstance(value, dict):
        if "$ref" in value and value["$ref"] in _REFS:
            return dict(_REFS[value["$ref"]])
        return {k: _schema(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_schema(v) for v in value]
    return value


def _chart_json(chart) -> dict:
    options = [{"name": name, "label": OPTION_LABELS.get(name, Msg(name, name)).to_dict(), "schema": _schema(schema),
                "required": name in chart.required_options} for name, schema in chart.options_schema.items()]
    return {"key": chart.key, "label": chart.label.to_dict(), "group": chart.group,
            "dimensions": list(chart.dimensions), "measures": list(chart.measures),
            "uses_dataset": chart.uses_dataset_shape, "handles_period": chart.handles_period,
            "doc": (chart.__doc__ or "").strip().split("\n")[0], "options": options}


def _aggregation_json(agg) -> dict:
    return {"key": agg.key, "label": agg.label.to_dict(), "field": agg.field, "numeric": agg.numeric,
            "options": list(agg.options), "required": list(agg.required), "percent": agg.percent, "unit": agg.unit}


@bp.get("/api/report-choices")
@login_required
def report_choices():
    reports = report_service.list_reports(db(), viewer())
    return jsonify(json_ready({
        "charts": [_chart_json(c) for c in CHARTS.all()],
        "aggregations": [_aggregation_json(a) for a in AGGREGATIONS.all()],
        "buckets": [{"key": g, "label": BUCKET_LABELS[g].to_dict()} for g in GRAINS],
        "ops": [{"key": o, "label": OP_LABELS[o].to_dict()} for o in OPS],
        "reports": [{"key": r["key"], "label": r["label"], "form": r["form"], "chart": r["chart"], "app": r["app"]}
                    for r in reports],
        "plotly_url": url_for("reports.plotly_js", v=plotly.__version__),
        "report_data_url": "/api/v1/reports/{key}/data",
    }))


def _candidates(form, forms) -> list[str]:
    """Every path a dataset could name on ``form`` (resolve() then keeps the usable ones)."""
    out = [name for name in SYSTEM_COLUMNS]

    def visit(fields, prefix: str, top: bool):
        for f in fields:
            path = prefix + f.key
            if field_type(f.type).is_subtable:
                visit(f.fields, path + ".", False)
                continue
            out.append(path)
            target = forms.get(f.option("form")) if top and f.type == "reference" else None
            if target is not None:
                out.extend(f"{path}.{g.key}" for g in target.fields if not field_type(g.type).is_subtable)
    visit(form.fields, "", True)
    return out


@bp.get("/api/report-fields/<form_key>")
@login_required
def report_fields(form_key: str):
    session, actor = db(), viewer()
    forms = form_service.published_forms(session, actor.tenant_id)
    access = access_control.form_access(session, actor, form_key) if form_key in forms else None
    if access is None or not access.read.allows_any:
        raise NotFound(msg("没有已发布的表单“{k}”", "There is no published form '{k}'", k=form_key))
    hidden = access.hidden_fields
    form = replace(forms[form_key], fields=tuple(f for f in forms[form_key].fields if f.key not in hidden))
    items = []
    for path in _candidates(form, forms):
        try:
            ref = resolve(path, form, forms)
        except PathError:
            continue
        items.append({"path": path, "label": ref.label.to_dict(), "kind": ref.kind.value, "numeric": ref.numeric,
                      "date": ref.is_date, "table": ".".join(ref.table), "via": ref.via, "system": ref.field is None,
                      "choices": [{"code": c, "label": m.to_dict()} for c, m in ref.choices.items()]})
    return jsonify({"form": form_key, "label": form.label.to_dict(), "fields": items})
