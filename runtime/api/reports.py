"""Reports and dashboards over the API: definitions (publish, check, read, replace, delete), their
numbers as JSON — the same numbers the chart shows, with the plotly figure — the records behind a
point (drill-down) and Excel exports.

Who sees what is the engine's decision (engine.services.reports / dashboards): a report on a form
the caller may not read is a 404 like one that does not exist; exporting needs ``export`` on the
form. Extra filters and shared-filter values are checked before anything runs (runtime.reports.inputs):
a bad one is a 422 naming it, in the caller's language.
"""
from __future__ import annotations

from dataclasses import replace

from flask import Response, jsonify, request, url_for

from engine import access as access_control
from engine.errors import DefinitionError, NotFound, PermissionDenied, Problem, QMSError
from engine.i18n import msg
from engine.reports.query import ReportInputError
from engine.services import dashboards as dashboard_service
from engine.services import forms as form_service
from engine.services import reports as report_service
from runtime.api.blueprint import bp
from runtime.api.replies import json_object, json_ready, member
from runtime.auth import current_actor
from runtime.db import commit, db
from runtime.i18n import current_lang
from runtime.reports import inputs
from runtime.reports.workbook import Sheet, sheet_from_data, workbook_bytes

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def viewer():
    """The caller, speaking the language of this request (labels and messages in the results)."""
    return replace(current_actor(), lang=current_lang())


def _key_matches(body: dict, key: str) -> None:
    if body.get("key") != key:
        raise DefinitionError([Problem("$.key", msg("定义的 key“{k}”应与地址中的“{u}”相同",
                                                    "The definition's key '{k}' must equal '{u}' in the address",
                                                    k=str(body.get("key"))[:60], u=key))])


# ---------------------------------------------------------------------------- report definitions

@bp.get("/reports")
def list_reports():
    return jsonify({"items": json_ready(report_service.list_reports(db(), viewer(), request.args.get("app") or None))})


@bp.post("/reports")
def publish_report():
    report = report_service.publish_report(db(), current_actor(), json_object())
    commit()
    return jsonify({"key": report.key, "version": report.version}), 201


@bp.post("/reports/check")
def check_report():
    problems = report_service.check(db(), current_actor().tenant_id, json_object())
    return jsonify({"ok": not problems, "errors": [p.to_dict(current_lang()) for p in problems]})


@bp.get("/reports/<report_key>")
def get_report(report_key: str):
    return jsonify(report_service.definition(db(), viewer(), report_key))


@bp.put("/reports/<report_key>")
def replace_report(report_key: str):
    report_service.load(db(), viewer(), report_key)          # 404 before anything else for one not visible
    body = json_object()
    _key_matches(body, report_key)
    report = report_service.publish_report(db(), current_actor(), body)
    commit()
    return jsonify({"key": report.key, "version": report.version})


@bp.delete("/reports/<report_key>")
def delete_report(report_key: str):
    report_service.load(db(), viewer(), report_key)
    report_service.delete_report(db(), current_actor(), report_key)
    commit()
    return "", 204


# ---------------------------------------------------------------------------- report numbers

def _checked(report_key: str, given: inputs.RunInputs):
    """(report, inputs): the report the caller may read and the inputs checked against it."""
    actor, session = viewer(), db()
    report = report_service.load(session, actor, report_key)
    forms = form_service.published_forms(session, actor.tenant_id)
    form = inputs.visible_form(session, actor, forms[report.dataset.form])
    return report, inputs.for_report(given, report, form, forms)


def _in_callers_terms(report, given: inputs.RunInputs, run):
    """Run ``run()``; an engine complaint about a caller's filter names that filter."""
    try:
        return run()
    except ReportInputError as exc:
        exc.path = inputs.caller_path(exc, report, given)
        raise


def _report_data(report_key: str, given: inputs.RunInputs):
    report, given = _checked(report_key, given)
    result = _in_callers_terms(report, given, lambda: report_service.run_report(
        db(), viewer(), report_key, report=report, **given.as_kwargs()))
    return jsonify(json_ready(result.to_json(current_lang())))


@bp.get("/reports/<report_key>/data")
def report_data(report_key: str):
    return _report_data(report_key, inputs.from_query(request.args))


@bp.post("/reports/<report_key>/data")
def report_data_post(report_key: str):
    body = json_object() if request.get_data(cache=True).strip() else {}
    return _report_data(report_key, inputs.from_body(body))


def _point(body: dict) -> dict:
    point = body.get("point")
    if not isinstance(point, dict):
        raise ReportInputError(msg("point 应是对象，如 {{\"row\": 0}}", "'point' must be an object such as {{\"row\": 0}}"),
                               "$.point")
    return point


def _with_urls(found: dict) -> dict:
    """The drill-down answer with each record's page address (for lists that link to them)."""
    for record in found.get("records", ()):
        record["url"] = url_for("records.detail", form_key=found["form"], record_id=record["id"])
    return found


@bp.post("/reports/<report_key>/drill")
def report_drill(report_key: str):
    body = json_object()
    report, given = _checked(report_key, inputs.from_body(body))
    point = _point(body)
    found = _in_callers_terms(report, given, lambda: report_service.drill(
        db(), viewer(), report_key, point, **given.as_kwargs()))
    return jsonify(json_ready(_with_urls(found)))


@bp.get("/reports/<report_key>/export.xlsx")
def report_export(report_key: str):
    report, given = _checked(report_key, inputs.from_query(request.args))
    actor = viewer()
    result, header, rows = _in_callers_terms(report, given, lambda: report_service.export_rows(
        db(), actor, report_key, **given.as_kwargs()))
    title = report.label.get(actor.lang) or report.key
    main = result.to_json(actor.lang).get("data")
    sheet = sheet_from_data(title, main) if main else Sheet(title, header, rows)
    return _xlsx(workbook_bytes([sheet]), report.key)


def _xlsx(content: bytes, key: str) -> Response:
    response = Response(content, mimetype=XLSX)
    response.headers["Content-Disposition"] = f'attachment; filename="{key}.xlsx"'
    response.headers["Cache-Control"] = "no-store"
    return response


# ---------------------------------------------------------------------------- dashboards

@bp.get("/dashboards")
def list_dashboards():
    found = dashboard_service.list_dashboards(db(), viewer(), request.args.get("app") or None)
    return jsonify({"items": json_ready(found)})


@bp.post("/dashboards")
def publish_dashboard():
    dashboard = dashboard_service.publish_dashboard(db(), current_actor(), json_object())
    commit()
    return jsonify({"key": dashboard.key, "version": dashboard.version}), 201


@bp.get("/dashboards/<dashboard_key>")
def get_dashboard(dashboard_key: str):
    return jsonify(dashboard_service.definition(db(), viewer(), dashboard_key))


@bp.put("/dashboards/<dashboard_key>")
def replace_dashboard(dashboard_key: str):
    dashboard_service.load(db(), viewer(), dashboard_key)
    body = json_object()
    _key_matches(body, dashboard_key)
    dashboard = dashboard_service.publish_dashboard(db(), current_actor(), body)
    commit()
    return jsonify({"key": dashboard.key, "version": dashboard.version})


@bp.delete("/dashboards/<dashboard_key>")
def delete_dashboard(dashboard_key: str):
    dashboard_service.load(db(), viewer(), dashboard_key)
    dashboard_service.delete_dashboard(db(), current_actor(), dashboard_key)
    commit()
    return "", 204


def checked_values(dashboard_key: str, values: dict) -> dict:
    """``values`` once every one of them names a filter of the dashboard and fits its field."""
    actor, session = viewer(), db()
    dashboard = dashboard_service.load(session, actor, dashboard_key)
    forms = form_service.published_forms(session, actor.tenant_id)
    reports = {}
    for item in dashboard.items:
        try:
            reports[item.report] = report_service.load(session, actor, item.report)
        except (NotFound, QMSError):     # gone or no longer fits its form: its cell says so when run
            continue
    inputs.check_values(dashboard, values, inputs.filter_refs(dashboard, reports, forms))
    return values


def _dashboard_data(dashboard_key: str, values: dict):
    values = checked_values(dashboard_key, values)
    return jsonify(json_ready(dashboard_service.run_dashboard(db(), viewer(), dashboard_key, values)))


@bp.get("/dashboards/<dashboard_key>/data")
def dashboard_data(dashboard_key: str):
    return _dashboard_data(dashboard_key, inputs.values_from_query(request.args))


@bp.post("/dashboards/<dashboard_key>/data")
def dashboard_data_post(dashboard_key: str):
    body = json_object() if request.get_data(cache=True).strip() else {}
    return _dashboard_data(dashboard_key, inputs.values_of(body.get("values")))


@bp.post("/dashboards/<dashboard_key>/drill")
def dashboard_drill(dashboard_key: str):
    body = json_object()
    values = checked_values(dashboard_key, inputs.values_of(body.get("values")))     # 404 first for one not visible
    report_key = member(body, "report", str)
    found = dashboard_service.drill(db(), viewer(), dashboard_key, report_key, _point(body), values)
    return jsonify(json_ready(_with_urls(found)))


@bp.get("/dashboards/<dashboard_key>/export.xlsx")
def dashboard_export(dashboard_key: str):
    """One sheet per report on the dashboard the caller may see and export, shared filters applied."""
    session, actor = db(), viewer()
    values = checked_values(dashboard_key, inputs.values_from_query(request.args))
    run = dashboard_service.run_dashboard(session, actor, dashboard_key, values)
    sheets = []
    for cell in run["items"]:
        result = cell.get("result")
        if not result or not result.get("data"):
            continue
        if not access_control.form_access(session, actor, result["form"]).can_export:
            continue
        sheets.append(sheet_from_data(result.get("label") or cell["report"], result["data"]))
    if not sheets:
        raise PermissionDenied(msg("您无权导出这个看板上任何报表的数据", "You may not export the data of any report on "
                                   "this dashboard"))
    return _xlsx(workbook_bytes(sheets), dashboard_key)
