"""What publishing a draft would do: readable changes, the impact on data and running flows, refusals.

:func:`plan` compares a draft with the newest published version of the same definition
(nothing published: everything is "added") and never writes. The designer's publish dialog
shows its result; a non-empty ``refused`` means publishing would lose data and must not go on.

Running flows: an instance is pinned to the flow version it started with
(``flow_instances.flow_version``, see :func:`engine.services.flows.start_flow`); every later
step, and a resubmission after a return or withdrawal, loads that same version
(:func:`engine.services.flows.load_move`). Publishing a flow therefore changes nothing for
instances already started; only new submissions use the new version.
"""
from __future__ import annotations

from typing import Any, Mapping

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from engine.i18n import Msg
from engine.services.design_diff import diff
from engine.services.design_form_impact import form_impact
from engine.services.forms import published_forms
from engine.storage.flow_tables import flow_instances as fi
from engine.storage.flow_tables import flow_versions
from engine.storage.platform import form_versions
from engine.storage.report_tables import report_versions
from engine.storage.rule_tables import rule_versions

KINDS = ("form", "flow", "rule", "report", "dashboard")
WAITING = ("returned", "withdrawn")          # may be resubmitted: continues on its pinned version


def plan(session: Session, tenant_id: int, kind: str, key: str, definition: Mapping[str, Any],
         lang: str = "zh-CN") -> dict:
    """``{"changes": [...], "impact": {records, running_flows, messages}, "refused": [{path, message}]}``.

    ``definition`` is the draft (it need not be valid); ``lang`` ("zh-CN" | "en") chooses the
    language of labels, details and messages. Only ``tenant_id``'s data is read.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    old = published_definition(session, tenant_id, kind, key)
    changes = diff(kind, old, definition, lang)
    impact: dict = {"records": 0, "running_flows": 0, "messages": []}
    refused: list[dict] = []
    if kind == "form" and old is not None:
        known = published_forms(session, tenant_id)
        impact, refused = form_impact(session, tenant_id, key, old, definition, known, lang)
    elif kind == "flow" and old is not None:
        impact = flow_impact(session, tenant_id, key, lang)
    return {"changes": changes, "impact": impact, "refused": refused}


def published_definition(session: Session, tenant_id: int, kind: str, key: str) -> dict | None:
    """The definition of the newest published version of (kind, key), or None."""
    if kind == "form":
        t, where = form_versions, [form_versions.c.form_key == key]
    elif kind == "flow":
        t, where = flow_versions, [flow_versions.c.flow_key == key]
    elif kind == "rule":
        t, where = rule_versions, [rule_versions.c.rule_key == key]
    else:
        t, where = report_versions, [report_versions.c.kind == kind, report_versions.c.key == key]
    stmt = select(t.c.definition).where(and_(t.c.tenant_id == tenant_id, *where)).order_by(t.c.version.desc()).limit(1)
    found = session.execute(stmt).scalar_one_or_none()
    return dict(found) if isinstance(found, Mapping) else None


def flow_impact(session: Session, tenant_id: int, key: str, lang: str) -> dict:
    """Instances of the flow that keep running on their own version, by version."""
    stmt = (select(fi.c.flow_version, fi.c.state, func.count())
            .where(and_(fi.c.tenant_id == tenant_id, fi.c.flow_key == key, fi.c.state.in_(("running",) + WAITING)))
            .group_by(fi.c.flow_version, fi.c.state).order_by(fi.c.flow_version))
    running: dict[int, int] = {}
    waiting: dict[int, int] = {}
    for version, state, n in session.execute(stmt):
        target = running if state == "running" else waiting
        target[version] = target.get(version, 0) + n
    messages = [Msg("{n} 个进行中的审批继续按第 {v} 版运行（之后的驳回和重新提交也一样）；新提交的审批使用新版本",
                    "{n} running approvals continue on version {v} (also through later rejections and "
                    "resubmissions); new submissions use the new version").format(n=n, v=v).get(lang)
                for v, n in running.items()]
    messages += [Msg("{n} 个已退回或撤回的审批重新提交时仍按第 {v} 版运行",
                     "{n} returned or withdrawn approvals continue on version {v} when resubmitted")
                 .format(n=n, v=v).get(lang) for v, n in waiting.items()]
    return {"records": 0, "running_flows": sum(running.values()), "messages": messages}
