"""Report and dashboard pages (blueprint ``reports``) and plotly.js served from the Python plotly
package.

The pages are shells: the numbers come from the report API (``/api/v1/reports/<key>/data``,
``/api/v1/dashboards/<key>/data``) called by ``static/js/reports.js`` with the session cookie, so
the page and an integrator see the same numbers. What the script needs — addresses, filter
fields with their options, texts — is embedded as JSON in a ``<script type="application/json">``
element (no inline script runs, no style attribute is written by the server).
"""
from __future__ import annotations

import os
from dataclasses import replace

import plotly
from flask import Blueprint, render_template, send_file, url_for

from engine import access as access_control
from engine.errors import NotFound, QMSError
from engine.reports import CHARTS
from engine.services import dashboards as dashboard_service
from engine.services import forms as form_service
from engine.services import reports as report_service
from runtime.auth import current_actor
from runtime.db import db
from runtime.guards import page_guard
from runtime.i18n import current_lang, label, t
from runtime.reports import options
from runtime.reports.inputs import visible_form

bp = Blueprint("reports", __name__)
PLOTLY_JS = os.path.join(os.path.dirname(plotly.__file__), "package_data", "plotly.min.js")
PLOTLY_MAX_AGE = 365 * 24 * 3600         # the address carries plotly's version: a new file gets a new address
RECORD_ID_MARK = 987654321               # stands for a record id in the record-page address pattern
NO_PERIOD_CHARTS = ("table", "pivot")    # still filterable by date: the data table is the chart

signed_in = page_guard(lambda: True)     # signed in; engine NotFound → 404 page, PermissionDenied → 403


@bp.context_processor
def _helpers() -> dict:
    return {"plotly_url": plotly_url}


def plotly_url() -> str:
    return url_for("reports.plotly_js", v=plotly.__version__)


@bp.get("/vendor/plotly.min.js")
def plotly_js():
    """plotly.js as bundled with the Python package (never a CDN), cached for a year."""
    return send_file(PLOTLY_JS, mimetype="text/javascript", max_age=PLOTLY_MAX_AGE, conditional=True)


def _viewer():
    return replace(current_actor(), lang=current_lang())


def record_url_pattern() -> str:
    """The record page's address with ``{form}`` and ``{id}`` for the script to fill in."""
    return url_for("records.detail", form_key="__form__", record_id=RECORD_ID_MARK) \
        .replace("__form__", "{form}").replace(str(RECORD_ID_MARK), "{id}")


def _texts() -> dict:
    """The words the script shows, in the page's language."""
    return {"loading": t("加载中…", "Loading…"), "records": t("条记录", "record(s)"),
            "drill_title": t("下钻明细", "Records behind"), "showing": t("显示前", "showing the first"),
            "no_records": t("没有记录", "No records"), "close": t("关闭", "Close"),
            "failed": t("加载失败", "Could not load"), "not_applied": t("此报表不适用筛选：", "Filters not applied here: "),
            "blank": t("（空）", "(blank)"), "drill_hint": t("点击图中的柱、点或扇区查看对应记录",
                                                         "Click a bar, point or slice to see its records"),
            "no": t("编号", "No."), "title": t("标题", "Title"), "status": t("状态", "Status"),
            "created": t("创建时间", "Created"), "all_records": t("查看记录", "Records"),
            "truncated": t("结果已截断", "The result was cut short"), "updated": t("已更新", "Updated")}


# ---------------------------------------------------------------------------- the list

@bp.get("/reports")
@signed_in
def report_list():
    actor = _viewer()
    boards = dashboard_service.list_dashboards(db(), actor)
    reports = report_service.list_reports(db(), actor)
    form_names = {key: label(form.label) for key, form in form_service.published_forms(db(), actor.tenant_id).items()}
    return render_template("reports/list.html", dashboards=boards, reports=reports, form_names=form_names,
                           chart_names={r["chart"]: chart_name(r["chart"]) for r in reports})


def chart_name(key: str) -> str:
    """A chart type's name in the page's language (its key when no longer registered)."""
    try:
        return label(CHARTS.get(key).label)
    except KeyError:             # RegistryError is one
        return key


# ---------------------------------------------------------------------------- one report

@bp.get("/reports/<report_key>")
@signed_in
def report_page(report_key: str):
    actor, session = _viewer(), db()
    report = report_service.load(session, actor, report_key)             # NotFound → 404 page
    forms = form_service.published_forms(session, actor.tenant_id)
    form = visible_form(session, actor, forms[report.dataset.form])
    dates = options.date_fields(form)
    chosen = report.chart.option("period_field")
    if chosen not in {d["path"] for d in dates}:
        chosen = next((d["path"] for d in dates if d["path"] not in ("created_at", "updated_at")), "created_at")
    can_export = access_control.form_access(session, actor, report.dataset.form).can_export
    config = {"key": report.key, "chart": report.chart.type,
              "data_url": url_for("api.report_data", report_key=report.key),
              "drill_url": url_for("api.report_drill", report_key=report.key),
              "export_url": url_for("api.report_export", report_key=report.key) if can_export else None,
              "record_url": record_url_pattern(), "date_fields": dates, "period_field": chosen,
              "fields": options.field_filters(session, actor, form, forms), "text": _texts()}
    return render_template("reports/report.html", report=report, config=config, can_export=can_export,
                           form_name=label(form.label), dates=dates, chosen=chosen, fields=config["fields"])


# ---------------------------------------------------------------------------- one dashboard

def _cells(session, actor, dashboard) -> list[dict]:
    """The dashboard's items the viewer may see, with their reports' labels (an item whose
    report no longer fits its form stays: its cell shows the reason once the data comes)."""
    cells = []
    for item in sorted(dashboard.items, key=lambda i: (i.y, i.x)):
        try:
            report = report_service.load(session, actor, item.report)
            name, chart = label(report.label), report.chart.type
        except NotFound:
            continue
        except QMSError:
            name, chart = item.report, ""
        cells.append({"report": item.report, "label": name, "chart": chart, "x": item.x, "y": item.y,
                      "w": item.w, "h": item.h})
    return cells


def _filters(session, actor, dashboard, cells) -> list[dict]:
    """The shared filters with what their inputs offer (options of the first report's form that
    has the field)."""
    forms = form_service.published_forms(session, actor.tenant_id)
    reports = {}
    for cell in cells:
        try:
            reports[cell["report"]] = report_service.load(session, actor, cell["report"])
        except (NotFound, QMSError):
            continue
    out = []
    for f in dashboard.filters:
        entry = {"key": f.key, "label": label(f.label), "type": f.type, "default": f.default, "options": None,
                 "truncated": False}
        if f.type == "field":
            for key, report in reports.items():
                path = f.path_for(key)
                form = forms.get(report.dataset.form)
                if not path or form is None:
                    continue
                found = options.options_for(session, actor, path, visible_form(session, actor, form), forms)
                if found is not None:
                    entry.update(found)
                    break
        out.append(entry)
    return out


@bp.get("/dashboards/<dashboard_key>")
@signed_in
def dashboard_page(dashboard_key: str):
    actor, session = _viewer(), db()
    dashboard = dashboard_service.load(session, actor, dashboard_key)     # NotFound → 404 page
    cells = _cells(session, actor, dashboard)
    filters = _filters(session, actor, dashboard, cells)
    exportable = any(access_control.form_access(session, actor, r["form"]).can_export
                     for r in report_service.list_reports(session, actor) if r["key"] in {c["report"] for c in cells})
    config = {"key": dashboard.key, "refresh": dashboard.refresh,
              "data_url": url_for("api.dashboard_data", dashboard_key=dashboard.key),
              "drill_url": url_for("api.dashboard_drill", dashboard_key=dashboard.key),
              "export_url": url_for("api.dashboard_export", dashboard_key=dashboard.key) if exportable else None,
              "record_url": record_url_pattern(), "filters": filters,
              "cells": [{"report": c["report"], "label": c["label"], "chart": c["chart"], "y": c["y"], "h": c["h"]}
                        for c in cells],
              "text": _texts()}
    return render_template("reports/dashboard.html", dashboard=dashboard, cells=cells, filters=filters,
                           config=config, exportable=exportable)
