"""Dashboard use cases: publish, list, read, run every report with the shared filters, drill down.

A dashboard shows only the reports its viewer may see (others are left out, not shown as
errors); one report failing (its form changed since) shows its message in its cell while the
others still render.
"""
from __future__ import annotations

import copy
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime
from typing import Any, Mapping

from sqlalchemy import Engine, and_, select
from sqlalchemy.orm import Session

from engine import access as access_control
from engine.errors import DefinitionError, NotFound, PermissionDenied, QMSError
from engine.i18n import msg
from engine.reports.dashboard import conditions_for, dashboard_from, load_dashboard
from engine.reports.definition import load_report
from engine.reports.model import DashboardDef, ReportDef
from engine.services import forms as form_service
from engine.services import reports as report_service
from engine.storage.db import read_only, session_scope
from engine.storage.report_tables import dashboard_definitions as dd
from engine.storage.report_tables import report_definitions as rd
from engine.storage.report_tables import definition_row, store_version
from engine.types import Actor


def _reports(session: Session, tenant_id: int, forms, definition: Any) -> dict[str, ReportDef]:
    """The reports a dashboard definition places (those that still load), by key."""
    items = definition.get("items") if isinstance(definition, Mapping) else None
    keys = [i["report"] for i in items if isinstance(i, Mapping) and isinstance(i.get("report"), str)] \
        if isinstance(items, list) else []
    out = {}
    for row in session.execute(select(rd.c.key, rd.c.definition).where(and_(rd.c.tenant_id == tenant_id,
                                                                              rd.c.key.in_(keys)))).all():
        try:
            out[row.key] = load_report(row.definition, forms)
        except DefinitionError:
            continue
    return out


def _row(session: Session, tenant_id: int, key: str, lock: bool = False):
    return definition_row(session, dd, tenant_id, key, lock)


def publish_dashboard(session: Session, actor: Actor, definition: Mapping[str, Any], app_key: str | None = None
                      ) -> DashboardDef:
    """Check and store the dashboard's next version. Designing dashboards is for administrators
    and for users with ``design`` on the forms of every report on it."""
    tenant_id = actor.tenant_id
    forms = form_service.published_forms(session, tenant_id)
    reports = _reports(session, tenant_id, forms, definition)
    dashboard = load_dashboard(copy.deepcopy(dict(definition)) if isinstance(definition, Mapping) else definition,
                               reports, forms)
    if not actor.unrestricted:
        for item in dashboard.items:
            form_service.require_design(session, actor, reports[item.report].dataset.form)
    version = store_version(session, dd, "dashboard", tenant_id, dashboard.key, dashboard.to_dict(), actor.user_id,
                            app_key)
    for item in dashboard.items:     # index what the shared filters select by, in each report's form
        report = reports[item.report]
        paths = [p for f in dashboard.filters if (p := f.path_for(report.key))]
        if paths:
            report_service.index_for(session, tenant_id, report.dataset, forms[report.dataset.form], extra=paths)
    return replace(dashboard, version=version)


def load(session: Session, actor: Actor, key: str) -> DashboardDef:
    row = _row(session, actor.tenant_id, key)
    if row is None or not _visible_items(session, actor, dashboard_from(row.definition)):
        raise NotFound(msg("没有看板“{k}”", "There is no dashboard '{k}'", k=key))
    return replace(dashboard_from(row.definition), version=row.version)


def _report_forms(session: Session, tenant_id: int) -> dict[str, str]:
    return {r.key: r.form_key for r in session.execute(select(rd.c.key, rd.c.form_key)
                                                       .where(rd.c.tenant_id == tenant_id)).all()}


def _visible_items(session: Session, actor: Actor, dashboard: DashboardDef,
                   forms_of: dict[str, str] | None = None) -> list:
    """The items whose report exists and whose form the actor may read (``forms_of``: report → form)."""
    forms_of = forms_of if forms_of is not None else _report_forms(session, actor.tenant_id)
    return [i for i in dashboard.items if i.report in forms_of
            and access_control.form_access(session, actor, forms_of[i.report]).read.allows_any]


def list_dashboards(session: Session, actor: Actor, app_key: str | None = None) -> list[dict]:
    out = []
    for row in session.execute(select(dd).where(dd.c.tenant_id == actor.tenant_id).order_by(dd.c.key)).all():
        if app_key is not None and row.app_key != app_key:
            continue
        dashboard = dashboard_from(row.definition)
        visible = _visible_items(session, actor, dashboard)
        if visible:
            out.append({"key": row.key, "label": row.definition.get("label"), "app": row.app_key,
                        "reports": len(visible), "version": row.version})
    return out


def definition(session: Session, actor: Actor, key: str) -> dict:
    return load(session, actor, key).to_dict()


def delete_dashboard(session: Session, actor: Actor, key: str) -> None:
    if not actor.unrestricted:
        raise PermissionDenied(msg("只有管理员可以删除看板", "Only an administrator can delete a dashboard"))
    row = _row(session, actor.tenant_id, key, lock=True)
    if row is None:
        raise NotFound(msg("没有看板“{k}”", "There is no dashboard '{k}'", k=key))
    session.execute(dd.delete().where(dd.c.id == row.id))


def app_dashboards(session: Session, tenant_id: int, app_key: str) -> list[dict]:
    rows = session.execute(select(dd.c.definition).where(and_(dd.c.tenant_id == tenant_id, dd.c.app_key == app_key))
                           .order_by(dd.c.key)).all()
    return [copy.deepcopy(r.definition) for r in rows]


PARALLEL = max(2, min(4, os.cpu_count() or 2))    # reports running side by side, each on its own connection


def run_dashboard(session: Session, actor: Actor, key: str, values: Mapping[str, Any] | None = None,
                  now: datetime | None = None) -> dict:
    """Every visible report of the dashboard run with the shared filter ``values`` (by filter key).

    The filter values are checked before any report runs (FilterValueError names the filter).
    The reports then run side by side, each in its own session on its own connection (the
    database answers several at once: PostgreSQL, and SQLite readers in WAL mode), so a
    dashboard takes about as long as its slowest report rather than the sum of all."""
    dashboard = load(session, actor, key)
    values = dict(values or {})
    forms_of = _report_forms(session, actor.tenant_id)
    visible = _visible_items(session, actor, dashboard, forms_of)
    forms = report_service.forms_around(session, actor.tenant_id, {forms_of[i.report] for i in visible})
    lang = actor.lang or "zh-CN"
    cells, work = [], []
    for item in visible:
        cell = {"report": item.report, "x": item.x, "y": item.y, "w": item.w, "h": item.h}
        cells.append(cell)
        try:
            report = report_service.load(session, actor, item.report)
            conditions, period, period_field, skipped = conditions_for(dashboard, report, values, forms)
        except (QMSError, NotFound) as exc:
            cell.update(result=None, error=_message(exc, lang))
            continue
        cell["not_applied"] = skipped
        work.append((cell, report, conditions, period, period_field))

    def run(job, on: Session) -> None:
        cell, report, conditions, period, period_field = job
        try:
            result = report_service.run_report(on, actor, report.key, conditions, period, period_field, now,
                                               report=report)
            cell["result"] = result.to_json(lang)
        except (QMSError, NotFound) as exc:
            cell.update(result=None, error=_message(exc, lang))

    bind = session.get_bind()
    work.sort(key=lambda job: _cheap(job[1]))      # the heavy ones start first: the slowest sets the pace
    if len(work) > 1 and isinstance(bind, Engine):
        readers = read_only(bind)          # deferred transactions: SQLite readers never wait for a writer

        def separate(job) -> None:
            with session_scope(readers) as own:
                run(job, own)
        with ThreadPoolExecutor(max_workers=min(PARALLEL, len(work)), thread_name_prefix="dashboard") as pool:
            list(pool.map(separate, work))
    else:
        for job in work:
            run(job, session)
    return {"key": dashboard.key, "label": dashboard.label.get(lang), "refresh": dashboard.refresh,
            "filters": [{"key": f.key, "label": f.label.get(lang), "type": f.type, "field": f.field,
                         "value": values.get(f.key, f.default)} for f in dashboard.filters],
            "items": cells}


def _cheap(report: ReportDef) -> bool:
    """False for reports that read measurements one by one (capability, control charts, histograms)."""
    from engine.reports import CHARTS
    return not (CHARTS.get(report.chart.type).group == "quality" and not CHARTS.get(report.chart.type).uses_dataset_shape
                or any(m.agg in ("cpk", "ppk", "stddev") for m in report.dataset.measures))


def _message(exc: Exception, lang: str) -> str:
    message = getattr(exc, "message", None)
    return message.get(lang) if hasattr(message, "get") else str(exc)


def drill(session: Session, actor: Actor, key: str, report_key: str, point: Mapping[str, Any],
          values: Mapping[str, Any] | None = None, now: datetime | None = None) -> dict:
    """The records behind a point of one of the dashboard's reports, with the shared filters applied."""
    dashboard = load(session, actor, key)
    if report_key not in {i.report for i in dashboard.items}:
        raise NotFound(msg("看板上没有报表“{k}”", "The dashboard has no report '{k}'", k=report_key))
    report = report_service.load(session, actor, report_key)
    forms = report_service.forms_around(session, actor.tenant_id, [report.dataset.form])
    conditions, period, period_field, _ = conditions_for(dashboard, report, dict(values or {}), forms)
    return report_service.drill(session, actor, report_key, point, conditions, period, period_field, now)
