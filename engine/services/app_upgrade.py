"""Upgrading an installed app in place: preview the three-way merge, then apply it.

``base`` is the package stored when the app was installed or last upgraded (``apps.package``),
``mine`` the tenant's app as it is now (:func:`engine.services.apps.export_app`, with each rule's
on/off switch), ``theirs`` the incoming template version. :mod:`engine.services.app_merge` does
the merge; this module loads the three, checks, and imports the result.

Decisions:

* Applying imports the *merged* package but stores the *incoming template* as the new base
  (``import_app(..., base=…)``), so the next upgrade sees only what the template changed since.
* A version lower than the installed one is refused (preview says so first); the same version
  with nothing to change is reported as "already up to date" and imports nothing.
* The resolutions of an apply must answer conflicts of *this* merge: an id the merge does not
  produce means the app or the package changed since the preview, and the apply is refused.
* Preview checks the incoming package fully and the merged forms against the schema and the
  checklist; what only publishing can find (a storage change refused) surfaces when applying,
  which then rolls back as any import does.
"""
from __future__ import annotations

import copy
import json
import re
from typing import Any, Mapping

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from engine.definitions import check_definition, load_app
from engine.definitions.builder import thaw
from engine.errors import Conflict, DefinitionError, Problem
from engine.i18n import Msg, msg
from engine.services import apps
from engine.services import forms as form_service
from engine.services.app_merge import MINE, THEIRS, MergeResult, merge_packages
from engine.storage.platform import apps as apps_table
from engine.types import Actor

_SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?")


def version_key(version: str) -> tuple:
    """Sort key of a semantic version: 1.10.0 > 1.9.0, and 2.0.0-rc1 < 2.0.0."""
    found = _SEMVER.match(str(version or ""))
    if not found:
        return (0, 0, 0, 0, str(version))
    major, minor, patch, pre = found.groups()
    return (int(major), int(minor), int(patch), 0 if pre else 1, pre or "")


def _incoming(session: Session, actor: Actor, package: Any) -> dict:
    """The incoming package checked as a whole (paths into it) and upgraded to the current format."""
    if not isinstance(package, Mapping):
        raise DefinitionError([Problem("$", msg("应用包必须是 JSON 对象", "An app package must be a JSON object"))])
    published = form_service.published_forms(session, actor.tenant_id)
    app = load_app(copy.deepcopy(dict(package)), known_forms=published)
    return json.loads(json.dumps(thaw(app.raw), ensure_ascii=False, default=str))


def _installed(session: Session, tenant_id: int, key: str) -> tuple[str, dict] | None:
    """(version, stored base package) of the installed app, or None when it is not installed."""
    row = session.execute(select(apps_table.c.version, apps_table.c.package).where(and_(
        apps_table.c.tenant_id == tenant_id, apps_table.c.key == key))).first()
    return None if row is None else (row.version, copy.deepcopy(dict(row.package or {})))


def _current(session: Session, actor: Actor, key: str) -> tuple[dict, dict[str, dict]]:
    """The tenant's app now, each rule carrying its on/off switch (kept outside its definition), and the
    stored definitions of the rules that switch changed."""
    from engine.services import rule_defs
    package = apps.export_app(session, actor.tenant_id, key)
    switches = {r["key"]: r["enabled"] for r in rule_defs.list_rules(session, actor, key)}
    stored = {}
    for rule in package.get("rules") or ():
        if switches.get(rule.get("key")) is False and rule.get("enabled", True):
            stored[rule["key"]] = copy.deepcopy(rule)
            rule["enabled"] = False
    return package, stored


def _restore_switches(merged: dict, mine: Mapping[str, Any], stored: Mapping[str, dict]) -> None:
    """A switched-off rule the merge leaves as it is gets its stored definition back, so the import
    sees it unchanged and publishes no needless version (the switch stays off in any case)."""
    now = {r.get("key"): r for r in mine.get("rules") or ()}
    for index, rule in enumerate(merged.get("rules") or ()):
        key = rule.get("key")
        if key in stored and rule == now.get(key):
            merged["rules"][index] = copy.deepcopy(stored[key])


class _Plan:
    """Everything preview and apply need: the three packages, versions, and the merge."""

    def __init__(self, session: Session, actor: Actor, package: Any, resolutions: Mapping[str, str] | None):
        self.incoming = _incoming(session, actor, package)
        self.key = self.incoming["key"]
        installed = _installed(session, actor.tenant_id, self.key)
        self.new_app = installed is None
        self.from_version, base = installed if installed else (None, None)
        mine, stored = _current(session, actor, self.key) if not self.new_app else (None, {})
        self.merge: MergeResult = merge_packages(base, mine, self.incoming, resolutions)
        self.package = copy.deepcopy(self.merge.package)
        _restore_switches(self.package, mine or {}, stored)
        self.lang = actor.lang

    @property
    def direction(self) -> str:
        if self.new_app:
            return "install"
        order = (version_key(self.incoming["version"]), version_key(self.from_version))
        return "upgrade" if order[0] > order[1] else "downgrade" if order[0] < order[1] else "same"

    def notice(self) -> Msg | None:
        """What a person should know before applying (None when there is nothing special)."""
        to, was = self.incoming["version"], self.from_version
        if self.direction == "downgrade":
            return msg("应用包版本 {to} 低于已安装的版本 {was}，不能降级", "The package version {to} is lower "
                       "than the installed version {was}; an app cannot be downgraded", to=to, was=was)
        if self.direction == "same" and not self.merge.changes:
            return msg("应用“{k}”已是版本 {to}，没有需要更新的内容", "The app '{k}' is already at version {to}; "
                       "there is nothing to update", k=self.key, to=to)
        if self.direction == "same":
            return msg("版本号未变（{to}），但应用包内容与已安装的不同", "The version is unchanged ({to}) but the "
                       "package differs from the installed one", to=to)
        return None

    def problems(self, session: Session, tenant_id: int) -> list[dict]:
        """Problems of the merged package (a merge of two valid packages can still clash)."""
        published = form_service.published_forms(session, tenant_id)
        return [p.to_dict(self.lang) for p in check_definition(copy.deepcopy(self.package), "app",
                                                                 known_forms=published)]

    def to_dict(self) -> dict:
        notice = self.notice()
        return {"app": self.key, "label": self.incoming.get("label"), "from_version": self.from_version,
                "to_version": self.incoming["version"], "new_app": self.new_app, "direction": self.direction,
                "notice": notice.to_dict() if notice else None,
                "changes": [c.to_dict(self.lang) for c in self.merge.changes],
                "conflicts": [c.to_dict(self.lang) for c in self.merge.conflicts]}


def preview(session: Session, actor: Actor, package: Any) -> dict:
    """What importing ``package`` would do to the installed app (nothing is written).

    Returns ``{app, label, from_version, to_version, new_app, direction, notice, changes,
    conflicts, problems}``; ``direction`` is install / upgrade / same / downgrade, each conflict
    has an ``id`` to answer with ``"mine"`` (the default: keep the tenant's change) or ``"theirs"``.
    DefinitionError when the package itself is invalid.
    """
    apps.require_admin(actor)
    plan = _Plan(session, actor, package, None)
    return {**plan.to_dict(), "problems": plan.problems(session, actor.tenant_id)}


def _check_resolutions(plan: _Plan, resolutions: Mapping[str, str]) -> None:
    known = {c.id for c in plan.merge.conflicts}
    stale = sorted(set(resolutions) - known)
    if stale:
        raise Conflict(msg("应用或应用包在预览后已变化（冲突 {ids} 已不存在），请重新预览",
                           "The app or the package changed since the preview (no conflict {ids} now); preview again",
                           ids=", ".join(stale)))
    wrong = [k for k, v in resolutions.items() if v not in (MINE, THEIRS)]
    if wrong:
        raise DefinitionError([Problem(f"$.resolutions.{k}", msg("只能选择 mine（保留我的修改）或 theirs（采用模板）",
                                                                 "Choose mine (keep my change) or theirs (take the "
                                                                 "template's)")) for k in wrong])


def apply(session: Session, actor: Actor, package: Any, resolutions: Mapping[str, str] | None = None) -> dict:
    """Merge ``package`` onto the installed app with the chosen ``resolutions`` (conflict id → "mine" /
    "theirs"; unanswered: "mine") and import the result, storing ``package`` as the new base.

    Returns the preview's keys plus ``applied`` and ``result`` (the import's summary). Conflict for a
    downgrade or stale resolutions; DefinitionError when the package or the merged app is invalid.
    The caller commits (or rolls back on an error: nothing is then changed).
    """
    apps.require_admin(actor)
    resolutions = dict(resolutions or {})
    plan = _Plan(session, actor, package, resolutions)
    _check_resolutions(plan, resolutions)
    summary = plan.to_dict()
    if plan.direction == "downgrade":
        raise Conflict(plan.notice())
    if plan.direction == "same" and not plan.merge.changes:
        return {**summary, "applied": False, "result": None}
    result = apps.import_app(session, actor, plan.package, base=plan.incoming)
    return {**summary, "applied": True, "result": result.to_dict()}
