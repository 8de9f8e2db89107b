"""Three-way merge of app packages: the template's new version onto a tenant's customised app.

Pure (no I/O). ``base`` is the package as installed last time, ``mine`` the tenant's current
definitions (an export), ``theirs`` the incoming template version. A change only one side made
wins; the same change on both sides is no change; different changes to the same thing are a
conflict, resolved by the caller's choice or, by default, in favour of the tenant ("mine").

Decisions:

* Forms merge per field (by key, recursively into sub-tables) and per property; labels per
  language, select choices per code. Other lists (validations, accept…) are single values.
* Field order follows the tenant's form: fields the tenant added stay where they are, fields the
  template added go right after the field that precedes them in the template.
* Something the template removed but the tenant still has is *kept* (never drop data) and listed
  as a ``keep`` change — an app import does not delete flows, rules or reports either, so a diff
  saying "removed" would not be true.
* Something the tenant removed (a field, a choice) stays removed unless the template changed it
  since; then it is a conflict.
* Flows, rules, reports, dashboards and roles merge as whole definitions per key. A rule's
  ``enabled`` switch merges on its own, the tenant's choice first: a rule the tenant switched
  off stays off whatever the template does.
* Conflict ids are their paths (``forms[ncr].fields[qty].label.en``): stable between the
  preview a person reads and the apply that uses their answers.
"""
from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any, Mapping

from engine.i18n import Msg, msg

MINE, THEIRS = "mine", "theirs"
KEYED = {"forms": "key", "fields": "key", "choices": "code", "prints": "key"}   # lists merged item by item
WHOLE = ("flows", "rules", "reports", "dashboards", "roles")                   # merged as whole definitions
KIND_OF_LIST = {"forms": "form", "fields": "field", "choices": "choice", "prints": "print", "flows": "flow",
                "rules": "rule", "reports": "report", "dashboards": "dashboard", "roles": "role"}
KIND_NAMES = {"app": ("应用", "App"), "form": ("表单", "Form"), "field": ("字段", "field"),
              "choice": ("选项", "choice"), "print": ("打印模板", "print template"), "flow": ("流程", "Flow"),
              "rule": ("规则", "Rule"), "report": ("报表", "Report"), "dashboard": ("仪表板", "Dashboard"),
              "role": ("角色", "Role")}


class _Absent:
    """Marks a value one side does not have (distinct from JSON null)."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT = _Absent()


@dataclass(frozen=True)
class Change:
    """One difference the merge makes to the tenant's current app.

    ``action``: ``add`` (new from the template), ``update`` (the template's change applied),
    ``keep`` (the template removed it; the tenant's copy stays, with its data).
    """

    kind: str
    key: str
    path: str
    action: str
    before: Any
    after: Any
    description: Msg

    def to_dict(self, lang: str | None = None) -> dict:
        """JSON-ready (absent values as null), the description in ``lang`` and both languages."""
        return {"kind": self.kind, "key": self.key, "path": self.path, "action": self.action,
                "before": _plain(self.before), "after": _plain(self.after),
                "description": self.description.get(lang), "descriptions": self.description.to_dict()}


@dataclass(frozen=True)
class MergeConflict:
    """Both sides changed the same thing differently; ``chosen`` is what the merge used."""

    id: str
    kind: str
    key: str
    path: str
    base: Any
    mine: Any
    theirs: Any
    chosen: str
    description: Msg
    default: str = MINE

    def to_dict(self, lang: str | None = None) -> dict:
        """JSON-ready (absent values as null, with ``*_absent`` flags so null stays distinguishable)."""
        out = {"id": self.id, "kind": self.kind, "key": self.key, "path": self.path, "default": self.default,
               "chosen": self.chosen, "description": self.description.get(lang),
               "descriptions": self.description.to_dict()}
        for name in ("base", "mine", "theirs"):
            value = getattr(self, name)
            out[name], out[f"{name}_absent"] = _plain(value), value is ABSENT
        return out


@dataclass(frozen=True)
class MergeResult:
    """The merged package, what it changes in the tenant's app, and the conflicts met on the way."""

    package: dict
    changes: tuple[Change, ...]
    conflicts: tuple[MergeConflict, ...]


@dataclass(frozen=True)
class _At:
    """Where the merge is: a definition (kind, key), the items inside it, then a property path."""

    kind: str
    key: str
    root: str                                        # path of the definition: "forms[iqc]", "" for the app
    items: tuple[tuple[str, str], ...] = ()          # (list name, item key) below the definition
    prop: tuple[str, ...] = ()

    @property
    def path(self) -> str:
        parts = [self.root] if self.root else []
        parts += [f"{name}[{key}]" for name, key in self.items]
        parts += list(self.prop)
        return ".".join(parts)

    def item(self, list_name: str, key: str) -> "_At":
        if self.kind == "app" and not self.items:          # a definition of the package: its own root
            return _At(KIND_OF_LIST[list_name], key, f"{list_name}[{key}]")
        return _At(self.kind, self.key, self.root, self.items + ((list_name, key),))

    def at(self, name: str) -> "_At":
        return _At(self.kind, self.key, self.root, self.items, self.prop + (name,))

    def where(self) -> Msg:
        """"表单“iqc”字段“lot_no”" / "Form 'iqc', field 'lot_no'"."""
        zh, en = KIND_NAMES[self.kind]
        parts = [(f"{zh}“{self.key}”", f"{en} '{self.key}'")]
        for list_name, key in self.items:
            item_zh, item_en = KIND_NAMES[KIND_OF_LIST[list_name]]
            parts.append((f"{item_zh}“{key}”", f"{item_en} '{key}'"))
        return Msg("".join(p[0] for p in parts), ", ".join(p[1] for p in parts))

    @property
    def item_kind(self) -> str:
        return KIND_OF_LIST[self.items[-1][0]] if self.items else self.kind


# ---------------------------------------------------------------------------- helpers

def _plain(value: Any) -> Any:
    return None if value is ABSENT else value


def _canonical(value: Any) -> str:
    return json.dumps(_plain(value), sort_keys=True, ensure_ascii=False, default=str)


def _same(a: Any, b: Any) -> bool:
    if a is ABSENT or b is ABSENT:
        return a is b
    return _canonical(a) == _canonical(b)


def _short(value: Any) -> str:
    """A value as a person reads it in a one-line description."""
    if value is ABSENT:
        return "—"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "…"


def _describe(at: _At, action: str, before: Any, after: Any) -> Msg:
    where, prop = at.where(), ".".join(at.prop)
    if action == "add" and prop:
        what = msg("{p} 由模板设定为 {a}", "{p} set by the template to {a}", p=prop, a=_short(after))
    elif action == "add":
        what = msg("由模板新增", "added by the template")
    elif action == "keep":
        what = msg("已从模板中删除，保留现有定义及数据", "removed from the template; kept, with its data")
    elif prop:
        what = msg("属性 {p} 由模板更新：{b} → {a}", "{p} updated by the template: {b} → {a}",
                   p=prop, b=_short(before), a=_short(after))
    else:
        what = msg("由模板更新为新版本", "updated to the template's new version")
    return Msg(f"{where.zh}：{what.zh}", f"{where.en}: {what.en}")


# ---------------------------------------------------------------------------- the merge

class _Merge:
    """One merge run: collects changes and conflicts while it walks the three packages."""

    def __init__(self, resolutions: Mapping[str, str] | None):
        self.resolutions = dict(resolutions or {})
        self.changes: list[Change] = []
        self.conflicts: list[MergeConflict] = []

    def change(self, at: _At, action: str, before: Any, after: Any) -> None:
        self.changes.append(Change(at.item_kind, at.key, at.path, action, _plain(before), _plain(after),
                                   _describe(at, action, before, after)))

    def conflict(self, at: _At, base: Any, mine: Any, theirs: Any) -> Any:
        """Record a conflict; the value the caller chose for it (the tenant's by default)."""
        chosen = THEIRS if self.resolutions.get(at.path) == THEIRS else MINE
        what = msg("您和模板都修改了此处", "changed both by you and by the template")
        if at.prop:
            what = msg("您和模板都修改了属性 {p}", "{p} changed both by you and by the template", p=".".join(at.prop))
        where = at.where()
        self.conflicts.append(MergeConflict(at.path, at.item_kind, at.key, at.path, base, mine, theirs, chosen,
                                            Msg(f"{where.zh}：{what.zh}", f"{where.en}: {what.en}")))
        if chosen == THEIRS:
            self.change(at, "add" if mine is ABSENT else "update", mine, theirs)
            return theirs
        return mine

    def value(self, b: Any, m: Any, t: Any, at: _At) -> Any:
        """Three-way merge of one value, taken whole."""
        if _same(m, t):
            return m
        if _same(b, m):
            self.change(at, "add" if m is ABSENT else "update", m, t)
            return t
        if _same(b, t):
            return m
        return self.conflict(at, b, m, t)

    def mapping(self, b: Mapping, m: Mapping, t: Mapping, at: _At) -> dict:
        """Merge property by property (mine's key order, then the template's new keys)."""
        out: dict[str, Any] = {}
        for name in list(m) + [k for k in t if k not in m]:
            bv, mv, tv = b.get(name, ABSENT), m.get(name, ABSENT), t.get(name, ABSENT)
            if name in KEYED and all(isinstance(v, list) or v is ABSENT for v in (bv, mv, tv)) \
                    and _keyed_ok(name, bv, mv, tv):
                merged = self.keyed(name, _list(bv), _list(mv), _list(tv), at)
                merged = merged if merged or mv is not ABSENT or tv is not ABSENT else ABSENT
            elif all(isinstance(v, Mapping) for v in (bv, mv, tv)):
                merged = self.mapping(bv, mv, tv, at.at(name))
            else:
                merged = self.value(bv, mv, tv, at.at(name))
            if merged is not ABSENT:
                out[name] = merged
        return out

    def keyed(self, name: str, b: list, m: list, t: list, at: _At) -> list:
        """Merge a list of items identified by ``KEYED[name]``; mine's order, template additions placed."""
        ident = KEYED[name]
        bi, mi, ti = ({item[ident]: item for item in items} for items in (b, m, t))
        merged: dict[str, Any] = {}
        for key, mine in mi.items():
            merged[key] = self.item(bi.get(key, ABSENT), mine, ti.get(key, ABSENT), at.item(name, key))
        order = list(merged)
        for position, (key, theirs) in enumerate(ti.items()):
            if key in mi:
                continue
            taken = self.item(bi.get(key, ABSENT), ABSENT, theirs, at.item(name, key))
            if taken is not ABSENT:
                merged[key] = taken
                _place(order, key, list(ti)[:position])
        return [merged[key] for key in order]

    def item(self, b: Any, m: Any, t: Any, at: _At) -> Any:
        """One keyed item (a form, field, choice…): property by property when all three have it."""
        if m is not ABSENT and t is ABSENT:
            if b is not ABSENT:
                self.change(at, "keep", m, m)            # the template dropped it: never drop the tenant's data
            return m
        if m is not ABSENT and b is not ABSENT:
            return self.mapping(b, m, t, at)
        return self.value(b, m, t, at)                  # added on one or both sides, or removed by the tenant


def _list(value: Any) -> list:
    return [] if value is ABSENT else value


def _keyed_ok(name: str, *lists: Any) -> bool:
    """Item-by-item merging needs every item to be an object with a unique identifier."""
    ident = KEYED[name]
    for items in lists:
        if items is ABSENT:
            continue
        keys = [item.get(ident) if isinstance(item, Mapping) else None for item in items]
        if any(not isinstance(k, str) for k in keys) or len(set(keys)) != len(keys):
            return False
    return True


def _place(order: list[str], key: str, before_in_theirs: list[str]) -> None:
    """Insert ``key`` right after the nearest item that precedes it in the template (else first)."""
    for previous in reversed(before_in_theirs):
        if previous in order:
            order.insert(order.index(previous) + 1, key)
            return
    order.insert(0, key)


# ---------------------------------------------------------------------------- whole definitions

def _without_enabled(definition: Any) -> Any:
    if isinstance(definition, Mapping):
        return {k: v for k, v in definition.items() if k != "enabled"}
    return definition


def _enabled(definition: Any) -> Any:
    return definition.get("enabled", True) if isinstance(definition, Mapping) else ABSENT


def _merge_whole(run: _Merge, slot: str, b: list, m: list, t: list) -> list:
    """Flows, rules, reports, dashboards, roles: whole definitions per key (rules' switch apart)."""
    ident = "key"
    bi, mi, ti = ({d[ident]: d for d in items if isinstance(d, Mapping) and isinstance(d.get(ident), str)}
                  for items in (b, m, t))
    out = []
    for key in list(mi) + [k for k in ti if k not in mi]:
        at = _At(KIND_OF_LIST[slot], key, f"{slot}[{key}]")
        bv, mv, tv = bi.get(key, ABSENT), mi.get(key, ABSENT), ti.get(key, ABSENT)
        if mv is not ABSENT and tv is ABSENT:
            if bv is not ABSENT:
                run.change(at, "keep", mv, mv)
            out.append(mv)
            continue
        if slot != "rules":
            merged = run.value(bv, mv, tv, at)
        else:
            merged = _merge_rule(run, at, bv, mv, tv)
        if merged is not ABSENT:
            out.append(merged)
    return out


def _merge_rule(run: _Merge, at: _At, b: Any, m: Any, t: Any) -> Any:
    """A rule's definition merges whole; its on/off switch keeps the tenant's choice when they made one."""
    merged = run.value(_without_enabled(b), _without_enabled(m), _without_enabled(t), at)
    if merged is ABSENT:
        return ABSENT
    merged = dict(merged)
    if m is not ABSENT and (b is ABSENT or _enabled(m) != _enabled(b)):
        switched = _enabled(m)                          # the tenant's own choice wins
    else:
        switched = _enabled(t)
    source = m if m is not ABSENT else t
    if switched is False or "enabled" in source:       # an explicit switch only where one was written
        merged["enabled"] = bool(switched)
    return merged


# ---------------------------------------------------------------------------- entry point

def merge_packages(base: Mapping[str, Any] | None, mine: Mapping[str, Any] | None, theirs: Mapping[str, Any],
                   resolutions: Mapping[str, str] | None = None) -> MergeResult:
    """Merge the template's new version ``theirs`` onto the tenant's app ``mine``, both descended from
    ``base``. ``resolutions`` maps conflict ids to ``"mine"`` or ``"theirs"`` (missing: ``"mine"``).
    A first install is ``base = mine = None``: everything in ``theirs`` is an addition."""
    b, m, t = (copy.deepcopy(dict(p)) if p else {} for p in (base, mine, theirs))
    run = _Merge(resolutions)
    app_at = _At("app", str(t.get("key") or m.get("key") or ""), "")
    top = {k: v for k, v in t.items() if k not in WHOLE}
    merged = run.mapping({k: v for k, v in b.items() if k not in WHOLE},
                         {k: v for k, v in m.items() if k not in WHOLE}, top, app_at)
    for slot in WHOLE:
        if slot in b or slot in m or slot in t:
            merged[slot] = _merge_whole(run, slot, b.get(slot) or [], m.get(slot) or [], t.get(slot) or [])
    return MergeResult(merged, tuple(run.changes), tuple(run.conflicts))
