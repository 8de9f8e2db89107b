"""App packages: import (validate everything, then publish the forms), export, list.

An import runs inside the caller's transaction and never commits: the package is checked as a
whole first (every problem with its JSON path, nothing written), then its forms are published
and the ``apps`` row is stored. A failure part-way (e.g. a form change storage refuses) raises,
and the caller's rollback undoes the forms already published, so an import is all or nothing.

Decisions:

* Forms that reference each other are published in dependency order (a referenced form
  first). Reference *cycles* are allowed: every form of the package is known while each one
  is published, and references store only record ids, so no pass needs the other table.
* Re-importing a form whose definition (and the definitions of the forms it references) did
  not change publishes no new version.
* Form keys are unique in a tenant: a package form whose key belongs to *another* app is a
  problem. A published form that belongs to no app (made in the designer) is adopted.
* A form the app had but the new package version no longer lists is kept with its records
  and detached from the app (it becomes a stand-alone form), never deleted.
"""
from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping

from sqlalchemy import and_, insert, select, update
from sqlalchemy.orm import Session

from engine.definitions import load_app
from engine.definitions.builder import thaw
from engine.definitions.loader import _too_deep
from engine.definitions.model import AppPackage, FormDef
from engine.errors import DefinitionError, NotFound, PermissionDenied, Problem
from engine.i18n import msg
from engine.services import app_roles
from engine.services import forms as form_service
from engine.storage import form_store
from engine.trace.links import reference_fields
from engine.storage.platform import apps as apps_table
from engine.storage.platform import form_definitions as fd
from engine.types import Actor


@dataclass(frozen=True)
class ImportResult:
    """What an import did: new form versions, forms left as they were, forms detached from the app."""

    app_key: str
    version: str
    created: bool                                 # the app was not installed before
    published: tuple[tuple[str, int], ...]        # (form key, new version) in publish order
    unchanged: tuple[str, ...]
    detached: tuple[str, ...]

    def to_dict(self) -> dict:
        return {"app_key": self.app_key, "version": self.version, "created": self.created,
                "published": [{"form": k, "version": v} for k, v in self.published],
                "unchanged": list(self.unchanged), "detached": list(self.detached)}


# ---------------------------------------------------------------------------- helpers

def require_admin(actor: Actor) -> None:
    """Installing apps is for admins and the system actor (PermissionDenied otherwise)."""
    # engine.access decides per form; installing a whole app is an admin's (or the system's) job.
    if not actor.unrestricted:
        raise PermissionDenied(msg("只有管理员可以导入应用", "Only an administrator can import apps"))


def _canonical(data: Any) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)


def references(form: FormDef) -> set[str]:
    """Keys of the other forms ``form`` references, at any sub-table depth."""
    targets = {f.option("form") for _path, f in reference_fields(form)}
    return {k for k in targets if isinstance(k, str) and k != form.key}


def publish_order(forms: Iterable[FormDef]) -> list[FormDef]:
    """Forms with referenced ones first (stable in package order); members of a cycle in package order."""
    pending = list(forms)
    inside = {f.key for f in pending}
    done: set[str] = set()
    ordered: list[FormDef] = []
    while pending:
        ready = [f for f in pending if references(f) & inside <= done | {f.key}]
        batch = ready[:1] or pending[:1]     # a cycle: take the first remaining, the others follow
        ordered.extend(batch)
        done.update(f.key for f in batch)
        pending = [f for f in pending if f.key not in done]
    return ordered


def _owners(session: Session, tenant_id: int, keys: Iterable[str]) -> dict[str, str | None]:
    """The app each existing form definition belongs to (None: stand-alone), by form key."""
    rows = session.execute(select(fd.c.key, fd.c.app_key).where(and_(fd.c.tenant_id == tenant_id,
                                                                       fd.c.key.in_(list(keys)))))
    return {r.key: r.app_key for r in rows}


def _ownership_problems(app: AppPackage, owners: Mapping[str, str | None]) -> list[Problem]:
    problems = []
    for i, form in enumerate(app.forms):
        owner = owners.get(form.key)
        if owner is not None and owner != app.key:
            problems.append(Problem(f"$.forms[{i}].key", msg(
                "表单编码“{f}”已属于应用“{a}”，同一租户内表单编码不能重复",
                "The form key '{f}' already belongs to the app '{a}'; form keys are unique in a tenant",
                f=form.key, a=owner)))
    return problems


def _unchanged(session: Session, tenant_id: int, form: FormDef, known: Mapping[str, FormDef]) -> bool:
    """Whether the published version already has this definition and the same referenced definitions."""
    row = form_store.version_row(session, tenant_id, form.key)
    if row is None:
        return False
    targets = {k: known[k].to_dict() for k in sorted(references(form)) if k in known}
    return (_canonical(row["definition"]) == _canonical(form.to_dict())
            and _canonical(row["targets"] or {}) == _canonical(targets))


def _prefixed(error: DefinitionError, index: int) -> DefinitionError:
    """A publish error of one form with its paths inside the package (``$.forms[i]…``)."""
    return DefinitionError([Problem(f"$.forms[{index}]" + p.path[1:], p.message) for p in error.problems])


# ---------------------------------------------------------------------------- use cases

def import_app(session: Session, actor: Actor, package: Mapping[str, Any], *,
               base: Mapping[str, Any] | None = None) -> ImportResult:
    """Validate ``package`` as a whole, publish its forms, store the app; DefinitionError lists every problem.

    ``base``: what to remember as the installed template (an upgrade that merged the tenant's
    changes into the template passes the template itself, the next upgrade's common ancestor).
    """
    require_admin(actor)
    tenant_id = actor.tenant_id
    published = form_service.published_forms(session, tenant_id)
    deep = _too_deep(package)           # before the copy below recurses into it
    if deep is not None:
        raise DefinitionError([deep])
    app = load_app(copy.deepcopy(package) if isinstance(package, Mapping) else package, known_forms=published)
    raw = dict(app.raw)
    problems = (app_roles.requirement_problems(session, tenant_id, raw)
                + app_roles.role_problems(raw, [f.key for f in app.forms])
                + _ownership_problems(app, _owners(session, tenant_id, [f.key for f in app.forms])))
    if problems:
        raise DefinitionError(problems)
    known = {**published, **{f.key: f for f in app.forms}}
    index = {f.key: i for i, f in enumerate(app.forms)}
    new_versions, unchanged = [], []
    for form in publish_order(app.forms):
        if _unchanged(session, tenant_id, form, known):
            unchanged.append(form.key)
            continue
        try:
            done = form_service.publish_form(session, actor, form.to_dict(), app.key, known_forms=known)
        except DefinitionError as exc:
            raise _prefixed(exc, index[form.key]) from None
        new_versions.append((form.key, done.version))
    detached = _attach(session, tenant_id, app)
    new_versions += _publish_flows(session, actor, app)
    new_versions += _publish_rules(session, actor, app)
    new_versions += _publish_reports(session, actor, app)
    previous = session.execute(select(apps_table.c.package).where(and_(
        apps_table.c.tenant_id == tenant_id, apps_table.c.key == app.key))).scalar()
    app_roles.install_roles(session, tenant_id, raw, previous)
    created = _store_app(session, tenant_id, app, base)
    return ImportResult(app.key, app.version, created, tuple(new_versions), tuple(unchanged), detached)


def _publish_flows(session: Session, actor: Actor, app: AppPackage) -> list[tuple[str, int]]:
    """Publish the package's flows (after its forms); an unchanged flow keeps its version."""
    from engine.services import flow_defs
    done = []
    for index, flow in enumerate(app.flows):
        data = thaw(flow)
        try:
            current = flow_defs.load_flow_version(session, actor.tenant_id, data.get("key"))
            if _canonical(current.to_dict()) == _canonical(data):
                continue
        except (NotFound, DefinitionError, TypeError):
            pass
        try:
            published = flow_defs.publish_flow(session, actor, data, app.key)
        except DefinitionError as exc:
            raise DefinitionError([Problem(f"$.flows[{index}]" + p.path[1:], p.message) for p in exc.problems]) from None
        done.append((f"flow:{published.key}", published.version))
    return done


def _publish_rules(session: Session, actor: Actor, app: AppPackage) -> list[tuple[str, int]]:
    """Publish the package's rules (after its forms and flows, which they refer to); an unchanged
    rule keeps its version, and a rule the tenant switched off stays off."""
    from engine.services import rule_defs
    done = []
    for index, rule in enumerate(app.rules):
        data = thaw(rule)
        try:
            current = rule_defs.get_rule(session, actor, data.get("key"))
            if _canonical(current["definition"]) == _canonical(data):
                continue
            if not current["enabled"]:
                data["enabled"] = False
        except (NotFound, DefinitionError, TypeError, AttributeError):
            pass
        try:
            published = rule_defs.publish_rule(session, actor, data, app.key)
        except DefinitionError as exc:
            raise DefinitionError([Problem(f"$.rules[{index}]" + p.path[1:], p.message) for p in exc.problems]) from None
        done.append((f"rule:{published.key}", published.version))
    return done


def _publish_reports(session: Session, actor: Actor, app: AppPackage) -> list[tuple[str, int]]:
    """Publish the package's reports, then its dashboards (which place the reports); unchanged
    ones keep their version."""
    from engine.services import dashboards, reports
    from engine.storage.report_tables import dashboard_definitions, report_definitions
    done = []
    for slot, table, publish, kind in (("reports", report_definitions, reports.publish_report, "report"),
                                       ("dashboards", dashboard_definitions, dashboards.publish_dashboard, "dashboard")):
        for index, item in enumerate(getattr(app, slot)):
            data = thaw(item)
            current = session.execute(select(table.c.definition).where(and_(
                table.c.tenant_id == actor.tenant_id, table.c.key == data.get("key")))).scalar()
            if current is not None and _canonical(current) == _canonical(data):
                continue
            try:
                published = publish(session, actor, data, app.key)
            except DefinitionError as exc:
                raise DefinitionError([Problem(f"$.{slot}[{index}]" + p.path[1:], p.message)
                                       for p in exc.problems]) from None
            done.append((f"{kind}:{published.key}", published.version))
    return done


def _attach(session: Session, tenant_id: int, app: AppPackage) -> tuple[str, ...]:
    """Mark the package's forms as the app's; detach forms the new version no longer lists."""
    keys = [f.key for f in app.forms]
    mine = and_(fd.c.tenant_id == tenant_id, fd.c.app_key == app.key)
    gone = sorted(session.execute(select(fd.c.key).where(mine, fd.c.key.not_in(keys))).scalars())
    if gone:
        session.execute(update(fd).where(mine, fd.c.key.in_(gone)).values(app_key=None))
    session.execute(update(fd).where(and_(fd.c.tenant_id == tenant_id, fd.c.key.in_(keys))).values(app_key=app.key))
    return tuple(gone)


def _store_app(session: Session, tenant_id: int, app: AppPackage, base: Mapping[str, Any] | None = None) -> bool:
    """Insert or replace the apps row (``package``: ``base`` or the package); True when the app is new."""
    stored = dict(base) if base is not None else dict(app.raw)
    values = {"version": app.version, "label": app.label.to_dict(), "package": json.loads(_canonical(stored)),
              "installed_at": datetime.now(timezone.utc)}
    where = and_(apps_table.c.tenant_id == tenant_id, apps_table.c.key == app.key)
    if session.execute(select(apps_table.c.id).where(where)).first() is not None:
        session.execute(update(apps_table).where(where).values(**values))
        return False
    session.execute(insert(apps_table).values(tenant_id=tenant_id, key=app.key, **values))
    return True


def app_row(session: Session, tenant_id: int, app_key: str):
    """The tenant's ``apps`` row of ``app_key``; NotFound when the tenant has no such app."""
    row = session.execute(select(apps_table).where(and_(apps_table.c.tenant_id == tenant_id,
                                                        apps_table.c.key == app_key))).mappings().first()
    if row is None:
        raise NotFound(msg("应用“{k}”不存在", "The app '{k}' does not exist", k=app_key))
    return row


def _form_keys(session: Session, tenant_id: int, app_key: str, package: Mapping[str, Any]) -> list[str]:
    """The app's published forms: the package's order first, then forms added later (by key)."""
    stmt = select(fd.c.key).where(and_(fd.c.tenant_id == tenant_id, fd.c.app_key == app_key,
                                       fd.c.current_version > 0))
    attached = set(session.execute(stmt).scalars())
    listed = [f.get("key") for f in package.get("forms") or () if isinstance(f, Mapping)]
    return [k for k in listed if k in attached] + sorted(attached - set(listed))


def export_app(session: Session, tenant_id: int, app_key: str) -> dict:
    """The app package with the *current* published definition of each of its forms (designer changes included)."""
    row = app_row(session, tenant_id, app_key)
    package = copy.deepcopy(dict(row["package"]))
    keys = _form_keys(session, tenant_id, app_key, package)
    package["forms"] = [form_store.load_published(session, tenant_id, k).form.to_dict() for k in keys]
    from engine.services import flow_defs
    flows = [f for f in flow_defs.list_flows(session, tenant_id) if f["app_key"] == app_key]
    if flows or package.get("flows"):
        package["flows"] = [flow_defs.load_flow_version(session, tenant_id, f["key"]).to_dict() for f in flows]
    from engine.services import rule_defs
    rules = rule_defs.app_rules(session, tenant_id, app_key)
    if rules or package.get("rules"):
        package["rules"] = [r.to_dict() for r in rules]
    from engine.services import dashboards, reports
    for slot, items in (("reports", reports.app_reports(session, tenant_id, app_key)),
                        ("dashboards", dashboards.app_dashboards(session, tenant_id, app_key))):
        if items or package.get(slot):
            package[slot] = items
    return package


def _summary(session: Session, tenant_id: int, row) -> dict:
    package = row["package"] or {}
    return {"key": row["key"], "version": row["version"], "label": dict(row["label"]),
            "description": package.get("description"), "installed_at": row["installed_at"],
            "forms": _form_keys(session, tenant_id, row["key"], package)}


def get_app(session: Session, tenant_id: int, app_key: str) -> dict:
    """Key, version, labels, description, install time and form keys of one app; NotFound if absent."""
    return _summary(session, tenant_id, app_row(session, tenant_id, app_key))


def list_apps(session: Session, tenant_id: int) -> list[dict]:
    """Every app installed in the tenant (as :func:`get_app` describes it), by key."""
    rows = session.execute(select(apps_table).where(apps_table.c.tenant_id == tenant_id)
                           .order_by(apps_table.c.key)).mappings()
    return [_summary(session, tenant_id, row) for row in rows]
