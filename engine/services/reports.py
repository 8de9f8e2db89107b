"""Report use cases: publish, list, read, run (the numbers and the figure), drill down, export.

Who may do what: publishing a report needs the ``design`` permission on its form (or admin);
seeing and running it needs ``read`` on the form, and the numbers cover only the records the
viewer may read (their read scope is part of the query; a reference path joins the target form
through the viewer's read scope on it). A path to a field hidden from the viewer refuses the
report for them rather than leaking the field through an aggregate. Exporting the data needs
``export`` on the form.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from datetime import date, datetime, timezone
from typing import Any, Mapping, Sequence

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from engine import access as access_control
from engine.definitions.model import FormDef
from engine.errors import DefinitionError, NotFound, PermissionDenied, Problem
from engine.i18n import msg
from engine.reports import CHARTS, ChartContext, check_report, load_report
from engine.reports.model import Condition, Dataset, ReportDef
from engine.reports.paths import FieldRef, PathError, resolve
from engine.expressions import ast
from engine.reports.conditions import names_in
from engine.reports.query import DatasetQuery, ReportInputError
from engine.reports.result import ReportData, execute
from engine.services import forms as form_service
from engine.services.names import user_names
from engine.storage import buckets, form_store, record_tables, records
from engine.storage.report_tables import report_definitions as rd
from engine.storage.report_tables import definition_row, store_version
from engine.types import Actor

DRILL_LIMIT = 200


def _now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class ReportResult:
    """One run: the definition, the query results by name, the chart's numbers and figure."""

    report: ReportDef
    data: dict[str, Any]
    shaped: dict
    figure: dict
    ms: float

    def to_json(self, lang: str) -> dict:
        main = self.data.get("main")
        return {"key": self.report.key, "label": self.report.label.get(lang), "chart": self.report.chart.type,
                "form": self.report.dataset.form,
                "data": main.to_json() if isinstance(main, ReportData) else None,
                "chart_data": self.shaped, "figure": self.figure, "ms": round(self.ms, 2)}


# ---------------------------------------------------------------------------- definitions

def check(session: Session, tenant_id: int, definition: Any) -> list[Problem]:
    return check_report(definition, form_service.published_forms(session, tenant_id))


def publish_report(session: Session, actor: Actor, definition: Mapping[str, Any], app_key: str | None = None) -> ReportDef:
    """Check and store ``definition`` as the report's next version; DefinitionError lists every problem."""
    tenant_id = actor.tenant_id
    forms = form_service.published_forms(session, tenant_id)
    report = load_report(copy.deepcopy(dict(definition)) if isinstance(definition, Mapping) else definition, forms)
    form_service.require_design(session, actor, report.dataset.form)
    version = store_version(session, rd, "report", tenant_id, report.key, report.to_dict(), actor.user_id, app_key,
                            form_key=report.dataset.form, chart_type=report.chart.type)
    index_for(session, tenant_id, report.dataset, forms[report.dataset.form],
              extra=CHARTS.get(report.chart.type).index_paths(report))
    return replace(report, version=version)


def index_for(session: Session, tenant_id: int, ds: Dataset, form: FormDef, extra: Sequence[str] = ()) -> None:
    """Index what the dataset reads (idempotent):

    * each filtered column of the form's own table, ``(tenant_id, column)``: a dashboard's date
      range or supplier filter is an index range;
    * one *covering* index on the table the rows come from — ``(tenant_id, the dimensions'
      columns, the columns the measures and conditions read)`` — so a report over the whole
      table reads the index in group order instead of fetching every row.
    """
    pub = form_store.load_published(session, tenant_id, form.key)
    tables = record_tables.sa_tables(pub.spec)
    refs = {}
    for path in dataset_paths(ds) + list(extra):
        try:
            refs[path] = resolve(path, form, {})
        except PathError:
            continue
    conn = session.connection()
    top = tables[()]
    for path, grain in [(c.field, c.bucket) for c in ds.filters] + [(p, None) for p in extra]:
        ref = refs.get(path)
        if ref is None or ref.table or ref.via:
            continue
        name = buckets.bucket_column(ref.column, ref.kind, grain) if grain else ref.column
        if name in top.c:
            record_tables.ensure_index(conn, top.name, ("tenant_id", name))
    chains = [r.table for r in refs.values() if r.via is None]
    grain = max(chains, key=len) if chains else ()
    table = tables.get(grain)
    _index_subgroups(conn, ds, refs, grain, table)
    if table is None or not ds.dimensions or any(refs.get(d.field) is None or refs[d.field].table != grain
                                                 or refs[d.field].via for d in ds.dimensions):
        return
    wanted: list[str] = []
    for d in ds.dimensions:
        ref = refs[d.field]
        wanted.append(buckets.bucket_column(ref.column, ref.kind, d.bucket) if d.bucket else ref.column)
    for m in ds.measures:
        for path in (m.field, m.per, m.lsl, m.usl):
            ref = refs.get(path) if isinstance(path, str) else None
            if ref is not None and ref.table == grain and not ref.via:
                wanted.append(ref.column)
        wanted += _expression_columns(m.where, grain)
    wanted += _expression_columns(ds.filter, grain)
    wanted += [refs[c.field].column for c in ds.filters if c.field in refs and refs[c.field].table == grain
               and not refs[c.field].via]
    columns = [c for c in dict.fromkeys(wanted) if c in table.c][:COVERING_COLUMNS]
    if columns:
        record_tables.ensure_index(conn, table.name, ("tenant_id", *columns))


COVERING_COLUMNS = 8


def _index_subgroups(conn, ds: Dataset, refs: Mapping[str, FieldRef], grain: tuple[str, ...], table) -> None:
    """A Cpk of a sub-table column reads the sub-table grouped by record: index ``(tenant_id,
    record_id, the measured and limit columns)`` so that is one ordered pass over an index."""
    if len(grain) != 1 or table is None:
        return
    for m in ds.measures:
        ref = refs.get(m.field) if m.agg == "cpk" and isinstance(m.field, str) else None
        if ref is None or ref.table != grain or ref.via:
            continue
        columns = [ref.column] + [refs[p].column for p in (m.lsl, m.usl)
                                  if isinstance(p, str) and p in refs and refs[p].table == grain]
        record_tables.ensure_index(conn, table.name, ("tenant_id", "record_id", *dict.fromkeys(columns)))


def _expression_columns(source: str | None, grain: tuple[str, ...]) -> list[str]:
    """Columns of the grain table an expression reads (names of the record at the record's grain,
    ``sub.col`` paths at a sub-table's)."""
    out = []
    for node in names_in(source) or ():
        if isinstance(node, ast.Name) and not grain:
            out.append(node.key)
        elif isinstance(node, ast.Path) and tuple(node.parts[:-1]) == grain:
            out.append(node.parts[-1])
    return out


def _row(session: Session, tenant_id: int, key: str, lock: bool = False):
    return definition_row(session, rd, tenant_id, key, lock)


_CHECKED: dict[tuple, ReportDef] = {}      # a stored definition checked against a form version: immutable
_CHECKED_MAX = 512


def load(session: Session, actor: Actor, key: str) -> ReportDef:
    """The report if the actor may read its form (NotFound otherwise: its existence is not revealed).

    A stored definition is checked against the current forms once per (report version, form
    version): running it again costs no re-check."""
    row = _row(session, actor.tenant_id, key)
    if row is None or not access_control.form_access(session, actor, row.form_key).read.allows_any:
        raise NotFound(msg("没有报表“{k}”", "There is no report '{k}'", k=key))
    pub = form_store.load_published(session, actor.tenant_id, row.form_key)
    cache_key = (str(session.get_bind().url), actor.tenant_id, key, row.id, row.version, row.updated_at,
                 row.form_key, pub.current_version)
    hit = _CHECKED.get(cache_key)
    if hit is not None:
        return hit
    forms = form_service.published_forms(session, actor.tenant_id)
    try:
        report = replace(load_report(row.definition, forms), version=row.version)
    except DefinitionError as exc:     # its form changed since: say what no longer fits
        raise ReportInputError(msg("报表“{k}”与表单的当前版本不再相符：{p}", "The report '{k}' no longer fits the current "
                                   "form: {p}", k=key, p=exc.problems[0].message.en if exc.problems else "")) from None
    if len(_CHECKED) >= _CHECKED_MAX:
        _CHECKED.clear()
    _CHECKED[cache_key] = report
    return report


def list_reports(session: Session, actor: Actor, app_key: str | None = None) -> list[dict]:
    rows = session.execute(select(rd).where(rd.c.tenant_id == actor.tenant_id).order_by(rd.c.key)).all()
    out = []
    for r in rows:
        if app_key is not None and r.app_key != app_key:
            continue
        if not access_control.form_access(session, actor, r.form_key).read.allows_any:
            continue
        out.append({"key": r.key, "label": r.definition.get("label"), "form": r.form_key, "chart": r.chart_type,
                    "app": r.app_key, "version": r.version, "updated_at": r.updated_at.isoformat() if r.updated_at else None})
    return out


def definition(session: Session, actor: Actor, key: str) -> dict:
    return load(session, actor, key).to_dict()


def delete_report(session: Session, actor: Actor, key: str) -> None:
    row = _row(session, actor.tenant_id, key, lock=True)
    if row is None:
        raise NotFound(msg("没有报表“{k}”", "There is no report '{k}'", k=key))
    form_service.require_design(session, actor, row.form_key)
    session.execute(rd.delete().where(rd.c.id == row.id))


def app_reports(session: Session, tenant_id: int, app_key: str) -> list[dict]:
    rows = session.execute(select(rd.c.definition).where(and_(rd.c.tenant_id == tenant_id, rd.c.app_key == app_key))
                           .order_by(rd.c.key)).all()
    return [copy.deepcopy(r.definition) for r in rows]


# ---------------------------------------------------------------------------- running

class _Viewer:
    """What one viewer may see of one report's form and the forms it references."""

    def __init__(self, session: Session, actor: Actor, form_key: str):
        self.session, self.actor = session, actor
        self.pub = form_store.load_published(session, actor.tenant_id, form_key)
        self.access = access_control.form_access(session, actor, form_key)
        if not self.access.read.allows_any:
            raise NotFound(msg("没有报表", "There is no such report"))
        self.form = _visible(self.pub.form, self.access.hidden_fields)
        self.forms: dict[str, FormDef] = {}
        self.target_tables = {}
        for f in self.pub.form.fields:
            target = f.option("form") if f.type == "reference" else None
            if isinstance(target, str) and target not in self.forms:
                try:
                    tpub = form_store.load_published(session, actor.tenant_id, target)
                except NotFound:
                    continue
                taccess = access_control.form_access(session, actor, target)
                self.forms[target] = _visible(tpub.form, taccess.hidden_fields)
                self.target_tables[target] = records.top_table(tpub.spec)
        self.zone = buckets.tenant_zone(session, actor.tenant_id)

    def scope(self, form_key: str, table):
        acc = self.access if form_key == self.pub.form.key else access_control.form_access(self.session, self.actor,
                                                                                             form_key)
        if not acc.read.allows_any:
            from sqlalchemy import false
            return false()
        return None if acc.read.is_all else acc.read.clause(table)

    def query(self, ds: Dataset, now: datetime) -> DatasetQuery:
        from engine.storage.record_tables import sa_tables
        return DatasetQuery(ds, self.form, self.forms, sa_tables(self.pub.spec), self.target_tables,
                            tenant_id=self.actor.tenant_id, dialect=self.session.get_bind().dialect.name, now=now,
                            zone=self.zone, scope_for=self.scope)

    def names(self, column, values: list) -> Mapping[Any, str]:
        ref: FieldRef = column.ref
        ids = {v for v in values if isinstance(v, int) and not isinstance(v, bool)}
        if not ids:
            return {}
        if ref.field is None or ref.field.type == "user":
            if ref.column == "id" and ref.field is None:
                return _titles(self.session, self.actor.tenant_id, records.top_table(self.pub.spec), ids,
                               self.scope(self.pub.form.key, records.top_table(self.pub.spec)))
            return user_names(self.session, self.actor.tenant_id, ids)
        if ref.field.type == "reference":
            target = ref.field.option("form")
            table = self.target_tables.get(target)
            if table is None:
                return {}
            return _titles(self.session, self.actor.tenant_id, table, ids, self.scope(target, table))
        if ref.field.type == "department":
            from engine.storage.platform import departments
            rows = self.session.execute(select(departments.c.id, departments.c.name).where(and_(
                departments.c.tenant_id == self.actor.tenant_id, departments.c.id.in_(ids)))).all()
            return {r.id: (r.name.get(self.actor.lang, r.name.get("en")) if isinstance(r.name, dict) else str(r.name))
                    for r in rows}
        return {}


def _titles(session, tenant_id: int, table, ids: set[int], scope) -> dict[int, str]:
    where = and_(table.c.tenant_id == tenant_id, table.c.id.in_(ids))
    if scope is not None:
        where = and_(where, scope)
    rows = session.execute(select(table.c.id, table.c.title, table.c.serial_no).where(where)).all()
    return {r.id: r.title or r.serial_no or f"#{r.id}" for r in rows}


def forms_around(session: Session, tenant_id: int, form_keys) -> dict[str, FormDef]:
    """The published forms ``form_keys`` and the forms their reference fields point to, by key —
    what resolving report paths needs, without loading every form of the tenant."""
    out: dict[str, FormDef] = {}
    for key in form_keys:
        if key in out:
            continue
        try:
            form = form_store.load_published(session, tenant_id, key).form
        except NotFound:
            continue
        out[key] = form
        for f in form.fields:
            target = f.option("form") if f.type == "reference" else None
            if isinstance(target, str) and target not in out:
                try:
                    out[target] = form_store.load_published(session, tenant_id, target).form
                except NotFound:
                    continue
    return out


def _visible(form: FormDef, hidden: frozenset[str]) -> FormDef:
    if not hidden:
        return form
    return replace(form, fields=tuple(f for f in form.fields if f.key not in hidden))


def _runner(viewer: _Viewer, now: datetime, lang: str):
    def run(ds: Dataset) -> ReportData:
        _refuse_hidden(ds, viewer)
        return execute(viewer.session, viewer.query(ds, now).compile(), viewer.names, lang)
    return run


def _refuse_hidden(ds: Dataset, viewer: _Viewer) -> None:
    """A dataset touching a field hidden from the viewer is refused (an aggregate would leak it)."""
    hidden = viewer.access.hidden_fields
    if not hidden:
        return
    heads = {p.split(".")[0] for p in dataset_paths(ds)}
    for source in [ds.filter] + [m.where for m in ds.measures]:
        heads |= expression_heads(source)
    if heads & hidden:
        raise PermissionDenied(msg("报表用到了您无权查看的字段", "The report uses a field you may not see"))


def dataset_paths(ds: Dataset) -> list[str]:
    out = [d.field for d in ds.dimensions] + [c.field for c in ds.filters]
    for m in ds.measures:
        out += [v for v in (m.field, m.per, m.lsl, m.usl) if isinstance(v, str)]
    return out


def expression_heads(source: str | None) -> set[str]:
    """The first names of every name and path in an expression (empty when it does not parse)."""
    return {n.key if isinstance(n, ast.Name) else n.parts[0] for n in names_in(source) or ()}


def run_report(session: Session, actor: Actor, key: str, filters: Sequence[Condition] = (),
               period: tuple[date | None, date | None] | None = None, period_field: str | None = None,
               now: datetime | None = None, report: ReportDef | None = None) -> ReportResult:
    """Run the report for ``actor`` with extra ``filters`` (a dashboard's shared filters) and a
    date range ``period`` on ``period_field`` (a condition, or a KPI card's current period)."""
    import time
    started = time.perf_counter()
    report = report or load(session, actor, key)
    chart = CHARTS.get(report.chart.type)
    filters = list(filters)
    if period and period_field and not chart.handles_period:
        filters.append(Condition(period_field, "between", [d.isoformat() if d else None for d in period]))
    if filters:
        report = replace(report, dataset=report.dataset.with_filters(tuple(filters)))
    viewer = _Viewer(session, actor, report.dataset.form)
    now = now or _now()
    lang = actor.lang or "zh-CN"
    ctx = ChartContext(now, viewer.zone, lang, period, period_field)
    data = chart.run(report, _runner(viewer, now, lang), ctx)
    shaped = chart.shape(report, data, lang)
    figure = chart.figure(report, shaped, lang)
    return ReportResult(report, data, shaped, figure, (time.perf_counter() - started) * 1000)


def run_definition(session: Session, actor: Actor, definition: Any, filters: Sequence[Condition] = (),
                   now: datetime | None = None) -> ReportResult:
    """Run an unpublished report definition (a designer's draft) as ``actor``: the same checks as
    publishing (DefinitionError listing every problem), the ``design`` permission on its form,
    and the numbers the actor may see — exactly what the published report would show them."""
    forms = form_service.published_forms(session, actor.tenant_id)
    report = load_report(copy.deepcopy(dict(definition)) if isinstance(definition, Mapping) else definition, forms)
    form_service.require_design(session, actor, report.dataset.form)
    return run_report(session, actor, report.key, filters, now=now, report=report)


def drill(session: Session, actor: Actor, key: str, point: Mapping[str, Any], filters: Sequence[Condition] = (),
          period: tuple[date | None, date | None] | None = None, period_field: str | None = None,
          now: datetime | None = None) -> dict:
    """The records behind one point of the chart (at most DRILL_LIMIT, newest first), with the
    conditions that select them (a list page can show them as its filter)."""
    result = run_report(session, actor, key, filters, period, period_field, now)
    report = result.report
    chart = CHARTS.get(report.chart.type)
    conditions = chart.drill(report, result.data, point)
    if conditions is None:
        raise ReportInputError(msg("这个点没有可下钻的记录", "This point has no records to drill into"), "$.point")
    ds = replace(report.dataset, filters=report.dataset.filters + tuple(conditions), dimensions=(), measures=(),
                 sort=(), limit=None)
    viewer = _Viewer(session, actor, ds.form)
    query = viewer.query(ds, now or _now())
    inner = query.record_ids().subquery()
    top = query.tables[()]
    total = session.execute(select(func.count()).select_from(inner)).scalar_one()
    rows = session.execute(select(top.c.id, top.c.serial_no, top.c.title, top.c.status, top.c.created_at)
                           .where(and_(top.c.tenant_id == actor.tenant_id, top.c.id.in_(select(inner.c.id))))
                           .order_by(top.c.id.desc()).limit(DRILL_LIMIT)).all()
    return {"form": ds.form, "total": total, "conditions": [c.to_dict() for c in conditions],
            "records": [{"id": r.id, "serial_no": r.serial_no, "title": r.title, "status": r.status,
                         "created_at": r.created_at.isoformat() if r.created_at else None} for r in rows]}


def export_rows(session: Session, actor: Actor, key: str, filters: Sequence[Condition] = (),
                period=None, period_field=None) -> tuple[ReportResult, list[str], list[list]]:
    """The report's numbers as a header and rows (labels for dimensions), for Excel/CSV export;
    needs the ``export`` permission on the form."""
    report = load(session, actor, key)
    access_control.require(access_control.form_access(session, actor, report.dataset.form), "export")
    result = run_report(session, actor, key, filters, period, period_field, report=report)
    main = result.data.get("main")
    lang = actor.lang or "zh-CN"
    if not isinstance(main, ReportData):
        return result, [], []
    header = [c.label.get(lang) for c in main.columns]
    nd = len(main.dimensions)
    rows = [list(lab) + r[nd:] for r, lab in zip(main.rows, main.labels)]
    return result, header, rows


def aggregate_rows(session: Session, actor: Actor, dataset: Mapping[str, Any], now: datetime | None = None,
                   limit: int = 5000) -> list[dict]:
    """Run a dataset (report dataset JSON) as ``actor`` and return its rows as raw values by
    column key — what rules that summarise records (``aggregate_into``) write elsewhere."""
    from engine.reports.definition import dataset_from
    from engine.reports.result import rows_as_dicts
    ds = dataset_from(dataset)
    if ds.limit is None or ds.limit > limit:
        ds = replace(ds, limit=limit)
    viewer = _Viewer(session, actor, ds.form)
    _refuse_hidden(ds, viewer)
    data = execute(session, viewer.query(ds, now or _now()).compile(), None, actor.lang or "zh-CN")
    return list(rows_as_dicts(data))
