"""Watch for the SPC-violation trigger: when a record of a form with enabled ``spc_violation``
rules is saved, compute each rule's control chart inside the same transaction and say which
rules' charts flag the record's own point.

Called by :func:`engine.services.rule_events.record_event` only when the form has such rules
(the rule lookup every write already makes tells), so other forms pay nothing. An update is
watched only when it changes the rule's field.

* The chart: the SPC report the trigger's ``report`` option names (same form, charting the
  trigger's ``field``), else I-MR for a field of the record or X̄-R with one subgroup per record
  for a sub-table column; over the last ``last`` subgroups (the trigger's, else the report's,
  else 50), the new record included.
* It runs with the system's view — every record of the tenant, not the saving user's read
  scope: a control chart judges the process, not what one person may see.
* The record's point: the subgroup that is the record (record subgroups, I-MR), or the one its
  subgroup field puts it in. It fires when a rule flags that point (the point completing the
  pattern), on either panel.
* A chart that cannot be computed (too few points, subgroups out of range, a definition that no
  longer fits the form) fires nothing and never fails the save: its queries run in a savepoint.
  A ``report`` option naming no fitting SPC report gives a failed run with the reason instead,
  since the rule checker cannot see reports.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Mapping

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from engine.definitions.model import label_from
from engine.errors import QMSError
from engine.i18n import Msg, msg
from engine.reports import dataset_from
from engine.reports.chart_quality import DEFAULT_LAST, SPC_KINDS, subgroup_dimension
from engine.reports.model import ChartDef, Condition, Dataset, Measure, ReportDef
from engine.reports.paths import PathError, resolve
from engine.reports.result import json_value
from engine.rules import RuleDef
from engine.storage import form_store
from engine.storage.report_tables import report_definitions as rd
from engine.types import Actor

log = logging.getLogger(__name__)
WATCHED = ("record.created", "record.updated")


@dataclass(frozen=True)
class Finding:
    """A rule to fire with ``event`` (an ``spc.violation``), or, with ``error``, to record as failed."""

    rule: RuleDef
    event: dict
    error: str | None = None


class _Unfit(Exception):
    """The rule's chart cannot be set up (``message`` says why, bilingual)."""

    def __init__(self, message: Msg):
        super().__init__(message.en)
        self.message = message


def findings(session: Session, actor: Actor, rules: list[RuleDef], event: Mapping[str, Any],
             now: datetime | None = None) -> list[Finding]:
    """The ``spc_violation`` rules among ``rules`` whose chart flags the saved record (``event``:
    the record event being written), each with its ``spc.violation`` event."""
    if event.get("kind") not in WATCHED or event.get("record_id") is None:
        return []
    out, judged = [], {}
    for rule in rules:
        if rule.trigger.type != "spc_violation" or not _touched(rule, event):
            continue
        key = (rule.trigger.option("field"), rule.trigger.option("report"), rule.trigger.option("last"),
               repr(_partition(rule, event)))
        if key not in judged:
            judged[key] = _judge(session, actor, rule, event, now)
        violation, error = judged[key]
        if violation is not None or error is not None:
            out.append(Finding(rule, _spc_event(event, violation), error))
    return out


def _touched(rule: RuleDef, event: Mapping[str, Any]) -> bool:
    """A new record always counts; an update only when it changed the rule's field."""
    if event.get("kind") == "record.created":
        return True
    head = str(rule.trigger.option("field") or "").split(".")[0]
    return head in set(event.get("changed") or ())


def _partition(rule: RuleDef, event: Mapping[str, Any]) -> tuple[Condition, ...]:
    """Conditions keeping the chart to the records that share the saved record's ``by`` values."""
    values = event.get("values") or {}
    return tuple(Condition(key, "blank", None) if values.get(key) in (None, "") else Condition(key, "=", values[key])
                 for key in rule.trigger.option("by") or ())


def _spc_event(event: Mapping[str, Any], violation: dict | None) -> dict:
    out = {k: event[k] for k in ("form", "record_id", "values", "actor_id", "lang") if k in event}
    return {"kind": "spc.violation", **out, "violation": violation or {}}


def _judge(session: Session, actor: Actor, rule: RuleDef, event: Mapping[str, Any],
           now: datetime | None) -> tuple[dict | None, str | None]:
    """(violation, error) for one chart: both None when the record's point is not flagged."""
    try:
        report = chart_report(session, actor.tenant_id, rule)
    except _Unfit as exc:
        return None, exc.message.get(actor.lang)
    if _partition(rule, event):
        report = replace(report, dataset=report.dataset.with_filters(_partition(rule, event)))
    system = replace(Actor.system(actor.tenant_id), lang=actor.lang or "zh-CN")
    try:
        with session.begin_nested():      # a failing query must not spoil the save's transaction
            shaped = _run(session, system, report, now).shaped
            point = _own_point(session, system, report, shaped, event["record_id"], now)
    except QMSError as exc:               # too few points and the like: nothing to judge yet
        log.debug("SPC chart of rule %s not computed: %s", rule.key, exc)
        return None, None
    except Exception:  # noqa: BLE001 - a save never fails because its chart could not be drawn
        log.warning("SPC chart of rule %s failed", rule.key, exc_info=True)
        return None, None
    hits = [v for v in shaped["violations"] if v["point"] == point] if point is not None else []
    if not hits:
        return None, None
    return {"field": rule.trigger.option("field"), "rules": sorted({v["rule"] for v in hits}),
            "chart": report.chart.type, "point": point, "rule_set": hits[0]["rule_set"],
            "report": rule.trigger.option("report"), "names": sorted({v["name"] for v in hits})}, None


def _run(session: Session, system: Actor, report: ReportDef, now: datetime | None):
    from engine.services.reports import run_report
    return run_report(session, system, report.key, now=now, report=report)


def chart_report(session: Session, tenant_id: int, rule: RuleDef) -> ReportDef:
    """The report whose chart judges ``rule``'s field (the named one, else the default chart)."""
    field, name, last = rule.trigger.option("field"), rule.trigger.option("report"), rule.trigger.option("last")
    if name:
        report = _named(session, tenant_id, rule, name)
    else:
        form = form_store.load_published(session, tenant_id, rule.form).form
        try:
            ref = resolve(field, form, {})
        except PathError as exc:
            raise _Unfit(exc.message) from None
        kind = "xbar_r" if ref.table else "imr"
        report = ReportDef(f"spc_{rule.key}", rule.label, Dataset(rule.form),
                           ChartDef(kind, {"type": kind, "value": field, "last": DEFAULT_LAST}))
    if last:
        report = replace(report, chart=ChartDef(report.chart.type, {**report.chart.options, "last": last}))
    return report


def _named(session: Session, tenant_id: int, rule: RuleDef, name: str) -> ReportDef:
    row = session.execute(select(rd.c.form_key, rd.c.definition).where(
        and_(rd.c.tenant_id == tenant_id, rd.c.key == name))).first()
    if row is None:
        raise _Unfit(msg("SPC 规则引用的报表“{k}”不存在", "The report '{k}' named by the SPC rule does not exist", k=name))
    chart = dict(row.definition.get("chart") or {})
    if row.form_key != rule.form or chart.get("type") not in SPC_KINDS:
        raise _Unfit(msg("报表“{k}”不是表单“{f}”上的 SPC 控制图", "The report '{k}' is not an SPC control chart of the "
                         "form '{f}'", k=name, f=rule.form))
    charted = chart.get("value") or chart.get("defectives") or chart.get("defects")
    if charted != rule.trigger.option("field"):
        raise _Unfit(msg("报表“{k}”绘制的是“{v}”，不是规则的字段“{f}”", "The report '{k}' charts '{v}', not the rule's "
                         "field '{f}'", k=name, v=charted or "-", f=rule.trigger.option("field")))
    definition = row.definition
    return ReportDef(name, label_from(definition["label"]), dataset_from(definition["dataset"]),
                     ChartDef(chart["type"], chart), raw=definition)


def _own_point(session: Session, system: Actor, report: ReportDef, shaped: dict, record_id: int,
               now: datetime | None) -> int | None:
    """Index of the point whose subgroup holds the record (None: not among the charted ones)."""
    dim = subgroup_dimension(report.chart.options)
    key: Any = record_id
    if dim.field != "id":           # the record's subgroup value, read as the chart reads it
        ds = report.dataset
        probe = ReportDef(report.key, report.label, Dataset(
            ds.form, ds.filter, ds.filters + (Condition("id", "=", record_id),), (dim,), (Measure("n", "count"),)),
            ChartDef("table", {"type": "table"}))
        rows = _run(session, system, probe, now).data["main"].rows
        if not rows:
            return None
        key = json_value(rows[0][0])
    keys = shaped.get("keys") or []
    return keys.index(key) if key in keys else None
