"""What the designer needs to know about each definition kind: where its current definition and
its published versions live, how to check one without writing, how to publish one, and the
smallest definition a new one starts from.

The five kinds keep their versions in different tables (``form_versions``, ``flow_versions``,
``rule_versions``, ``report_versions`` with kind report|dashboard); :class:`Kind` reads them
uniformly. Checking calls the same check functions the publish services run (never a publish
rolled back: version caches keyed by number must not see a version that never existed).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from sqlalchemy import Table, and_, select
from sqlalchemy.orm import Session

from engine.errors import DefinitionError, NotFound, Problem
from engine.i18n import msg
from engine.storage import flow_tables, form_store, record_tables, report_tables, rule_tables
from engine.storage.platform import form_definitions, form_versions
from engine.types import Actor

PLURALS = {"forms": "form", "flows": "flow", "rules": "rule", "reports": "report", "dashboards": "dashboard"}


@dataclass(frozen=True)
class Kind:
    """One definition kind: its definitions table and its versions table."""

    name: str
    defs: Table
    current: str                    # column of ``defs`` holding the current version number
    versions: Table
    version_key: str                # column of ``versions`` holding the definition key
    version_kind: str | None = None  # report_versions holds two kinds
    form_column: str | None = "form_key"

    def _of_key(self, tenant_id: int, key: str):
        v = self.versions
        cond = and_(v.c.tenant_id == tenant_id, v.c[self.version_key] == key)
        return and_(cond, v.c.kind == self.version_kind) if self.version_kind else cond

    def row(self, session: Session, tenant_id: int, key: str) -> dict | None:
        """``{key, app_key, form_key, version}`` of the definition (version 0: never published), or None."""
        d = self.defs
        cols = [d.c.key, d.c.app_key, d.c[self.current].label("version")]
        if self.form_column:
            cols.append(d.c[self.form_column].label("form_key"))
        found = session.execute(select(*cols).where(and_(d.c.tenant_id == tenant_id, d.c.key == key))).mappings().first()
        if found is None:
            return None
        out = dict(found)
        out.setdefault("form_key", key if self.name == "form" else None)
        return out

    def version_rows(self, session: Session, tenant_id: int, key: str) -> list[dict]:
        """Every published version (newest first): version, published_at, published_by."""
        v = self.versions
        stmt = (select(v.c.version, v.c.published_at, v.c.published_by).where(self._of_key(tenant_id, key))
                .order_by(v.c.version.desc()))
        return [dict(r) for r in session.execute(stmt).mappings()]

    def version(self, session: Session, tenant_id: int, key: str, number: int | None = None) -> dict:
        """One published version (newest when ``number`` is None) with its definition; NotFound otherwise."""
        v = self.versions
        stmt = select(v.c.version, v.c.definition, v.c.published_at, v.c.published_by).where(self._of_key(tenant_id, key))
        stmt = stmt.where(v.c.version == number) if number is not None else stmt.order_by(v.c.version.desc())
        found = session.execute(stmt.limit(1)).mappings().first()
        if found is None:
            raise NotFound(msg("“{k}”没有已发布的版本 {n}", "'{k}' has no published version {n}", k=key,
                               n=number if number is not None else ""))
        return {**dict(found), "definition": copy.deepcopy(found["definition"])}

    def app_items(self, session: Session, tenant_id: int, app_key: str) -> list[dict]:
        """The app's published definitions: key, version, definition, published_at/by, form_key."""
        d, v = self.defs, self.versions
        join_on = and_(v.c.tenant_id == d.c.tenant_id, v.c[self.version_key] == d.c.key, v.c.version == d.c[self.current])
        if self.version_kind:
            join_on = and_(join_on, v.c.kind == self.version_kind)
        cols = [d.c.key, d.c[self.current].label("version"), v.c.definition, v.c.published_at, v.c.published_by]
        if self.form_column:
            cols.append(d.c[self.form_column].label("form_key"))
        stmt = (select(*cols).select_from(d.join(v, join_on))
                .where(and_(d.c.tenant_id == tenant_id, d.c.app_key == app_key, d.c[self.current] > 0)).order_by(d.c.key))
        return [dict(r) for r in session.execute(stmt).mappings()]


KINDS: dict[str, Kind] = {
    "form": Kind("form", form_definitions, "current_version", form_versions, "form_key", form_column=None),
    "flow": Kind("flow", flow_tables.flow_definitions, "current_version", flow_tables.flow_versions, "flow_key"),
    "rule": Kind("rule", rule_tables.rule_definitions, "current_version", rule_tables.rule_versions, "rule_key"),
    "report": Kind("report", report_tables.report_definitions, "version", report_tables.report_versions, "key",
                   version_kind="report"),
    "dashboard": Kind("dashboard", report_tables.dashboard_definitions, "version", report_tables.report_versions, "key",
                      version_kind="dashboard", form_column=None),
}


def kind_of(name: str) -> Kind:
    """The Kind named ``name`` (singular or plural); NotFound naming the known kinds otherwise."""
    found = KINDS.get(PLURALS.get(name, name))
    if found is None:
        raise NotFound(msg("没有“{k}”这种定义（可用：{all}）", "There is no definition kind '{k}' (known: {all})",
                           k=name, all=", ".join(KINDS)))
    return found


# ---------------------------------------------------------------------------- starting points

def starter(kind: str, key: str, label: Mapping[str, str], form: str | None) -> dict:
    """The smallest definition of ``kind`` a new draft starts from (its shape is valid)."""
    head = {"format": 1, "key": key, "label": dict(label)}
    if kind == "form":
        return {**head, "fields": []}
    if kind == "flow":
        return {**head, "form": form, "nodes": [{"id": "start", "type": "start", "next": "end"},
                                                {"id": "end", "type": "end"}]}
    if kind == "rule":
        return {**head, "form": form, "trigger": {"type": "record_created"}, "actions": []}
    if kind == "report":
        return {**head, "dataset": {"form": form, "measures": [
            {"agg": "count", "key": "count", "label": {"zh-CN": "记录数", "en": "Records"}}]}, "chart": {"type": "kpi"}}
    return {**head, "items": []}


# ---------------------------------------------------------------------------- checking without writing

def _check_form(session: Session, actor: Actor, data: Any) -> list[Problem]:
    from engine.definitions import load_form
    from engine.services.forms import published_forms
    form = load_form(copy.deepcopy(data), known_forms=published_forms(session, actor.tenant_id))
    desired = record_tables.form_spec(form, actor.tenant_id)
    stored = form_store.stored_spec(form_store.version_row(session, actor.tenant_id, form.key))
    # the storage planner refuses unsafe column changes before any DDL; reflection only reads
    record_tables.plan_migration(form, record_tables.current_spec(session.connection(), desired, stored), desired)
    return []


def _check_flow(session: Session, actor: Actor, data: Any) -> list[Problem]:
    from engine.flows.definition import check_flow, load_flow
    from engine.services import flow_defs
    form_key = data.get("form")
    try:
        form = form_store.load_published(session, actor.tenant_id, form_key).form if isinstance(form_key, str) else None
    except NotFound:
        form = None
    if form is None:
        return check_flow(data, None) or [Problem("$.form", msg(
            "流程所属的表单不存在或尚未发布", "The flow's form does not exist or is not published"))]
    flow = load_flow(data, form)
    # the same two checks publish_flow runs after loading (they raise DefinitionError)
    flow_defs._check_automatic_actions(session, actor.tenant_id, data, form)
    flow_defs._refuse_second_auto_start(session, actor.tenant_id, flow)
    return []


def _check_rule(session: Session, actor: Actor, data: Any) -> list[Problem]:
    from engine.services import rule_defs
    return rule_defs.check(session, actor.tenant_id, data)


def _check_report(session: Session, actor: Actor, data: Any) -> list[Problem]:
    from engine.services import reports
    return reports.check(session, actor.tenant_id, data)


def _check_dashboard(session: Session, actor: Actor, data: Any) -> list[Problem]:
    from engine.reports.dashboard import check_dashboard
    from engine.services import dashboards
    from engine.services.forms import published_forms
    forms = published_forms(session, actor.tenant_id)
    return check_dashboard(data, dashboards._reports(session, actor.tenant_id, forms, data), forms)


_CHECKS: dict[str, Callable[[Session, Actor, Any], list[Problem]]] = {
    "form": _check_form, "flow": _check_flow, "rule": _check_rule, "report": _check_report, "dashboard": _check_dashboard}


def problems(session: Session, actor: Actor, kind: str, key: str, data: Any) -> list[Problem]:
    """Every problem publishing ``data`` as ``kind`` ``key`` would report (``$``-paths); writes nothing."""
    if not isinstance(data, dict):
        return [Problem("$", msg("定义必须是 JSON 对象", "The definition must be a JSON object"))]
    found = []
    if data.get("key") != key:
        found.append(Problem("$.key", msg("定义的键必须是“{k}”（草稿的键）", "The definition's key must be '{k}' (the draft's key)",
                                          k=key)))
    try:
        found += _CHECKS[kind](session, actor, data)
    except DefinitionError as exc:
        found += exc.problems
    return list(dict.fromkeys(found))


# ---------------------------------------------------------------------------- publishing

def publish(session: Session, actor: Actor, kind: str, data: dict, app_key: str | None) -> int:
    """Publish ``data`` through the kind's own publish service; the new version number."""
    from engine.services import dashboards, flow_defs, forms, reports, rule_defs
    service = {"form": forms.publish_form, "flow": flow_defs.publish_flow, "rule": rule_defs.publish_rule,
               "report": reports.publish_report, "dashboard": dashboards.publish_dashboard}[kind]
    return service(session, actor, copy.deepcopy(data), app_key).version
