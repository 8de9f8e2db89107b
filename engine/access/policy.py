"""What one actor may do with one form: the rules of all their roles, resolved into FormAccess.

Resolution over the actor's roles: for each role a ``form:<key>`` rule replaces its
``app:<app key>`` rule; then the union (most permissive wins). A field is hidden only if every
role granting read hides it, and read-only only if every role granting a write (create or
update) makes it read-only or hides it — so one role cannot take away what another grants.
Admins and the system actor pass everything. Results are cached on the session (one request).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import reduce
import json
from typing import Any, Iterable

from sqlalchemy import Table, and_, bindparam, literal, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from engine.access.rules import ALL, NONE, Rules, Scope, parse_rules
from engine.access.scopes import Subject, compile_scope, department_subtree
from engine.errors import PermissionDenied
from engine.i18n import msg
from engine.storage.platform import form_definitions, permissions, roles
from engine.types import Actor

ACTIONS = ("create", "read", "update", "delete", "export", "design")
_CACHE = "qms.access"


@dataclass(frozen=True)
class BoundScope:
    """A scope for one actor: ``clause(table)`` is the SQL condition of the records it covers."""

    scope: Scope
    subject: Subject

    @property
    def allows_any(self) -> bool:
        return self.scope.allows_any

    @property
    def is_all(self) -> bool:
        return self.scope.is_all

    def clause(self, table: Table) -> ColumnElement:
        return compile_scope(self.scope, table, self.subject)


@dataclass(frozen=True)
class FormAccess:
    """The resolved permissions of one actor on one form."""

    form_key: str
    can_create: bool
    can_export: bool
    can_design: bool
    read: BoundScope
    update: BoundScope
    delete: BoundScope
    hidden_fields: frozenset[str] = frozenset()
    readonly_fields: frozenset[str] = frozenset()
    unrestricted: bool = False

    def allows(self, action: str) -> bool:
        if action in ("read", "update", "delete"):
            return getattr(self, action).allows_any
        return getattr(self, f"can_{action}")


def require(access: FormAccess, action: str) -> None:
    """PermissionDenied (bilingual) unless ``access`` grants ``action`` at all."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    if not access.allows(action):
        raise PermissionDenied(msg("你没有{a}表单“{k}”记录的权限", "You may not {e} records of form '{k}'",
                                   a=_ZH[action], e=action, k=access.form_key))


_ZH = {"create": "新建", "read": "查看", "update": "修改", "delete": "删除", "export": "导出", "design": "设计"}


def form_access(session: Session, actor: Actor, form_key: str) -> FormAccess:
    """The actor's access to ``form_key`` (cached on the session for the rest of the unit of work)."""
    cache = session.info.setdefault(_CACHE, {})
    try:
        return cache[(actor, form_key)]
    except TypeError:   # unhashable attribute values: just compute
        return _resolve(session, actor, form_key)
    except KeyError:
        access = cache[(actor, form_key)] = _resolve(session, actor, form_key)
        return access


def step_access(actor: Actor, form_key: str, readonly: Iterable[str], hidden: Iterable[str]) -> FormAccess:
    """What a flow step grants its assignee on the step's record: read and change it, except the
    fields the step keeps read-only or hidden (the flow engine decides who holds the step)."""
    full = BoundScope(ALL, Subject(actor.tenant_id, actor.user_id))
    none = BoundScope(NONE, Subject(actor.tenant_id, actor.user_id))
    hidden = frozenset(hidden)
    return FormAccess(form_key, False, False, False, full, full, none, hidden_fields=hidden,
                      readonly_fields=frozenset(readonly) | hidden)


def forget(session: Session) -> None:
    """Drop cached access decisions (after roles or permissions change in this session)."""
    session.info.pop(_CACHE, None)


def _resolve(session: Session, actor: Actor, form_key: str) -> FormAccess:
    if actor.unrestricted:
        subject = Subject(actor.tenant_id, actor.user_id)
        full = BoundScope(ALL, subject)
        return FormAccess(form_key, True, True, True, full, full, full, unrestricted=True)
    rules = _role_rules(session, actor, form_key)
    subject = _subject(session, actor, rules)
    union = lambda attr: BoundScope(reduce(lambda a, r: a | getattr(r, attr), rules, NONE), subject)  # noqa: E731
    readers = [r for r in rules if r.read.allows_any]
    writers = [r for r in rules if r.create or r.update.allows_any]
    return FormAccess(
        form_key, any(r.create for r in rules), any(r.export for r in rules), any(r.design for r in rules),
        union("read"), union("update"), union("delete"),
        hidden_fields=_every(r.fields_in("hidden") for r in readers),
        readonly_fields=_every(r.fields_in("readonly") | r.fields_in("hidden") for r in writers))


def _every(sets: Iterable[frozenset[str]]) -> frozenset[str]:
    sets = list(sets)
    return frozenset.intersection(*sets) if sets else frozenset()


# the permissions of the actor's roles for a form and for the form's app, in one statement
_RULES = (select(permissions.c.role_id, permissions.c.target, permissions.c.rules)
          .join(roles, roles.c.id == permissions.c.role_id)
          .where(and_(permissions.c.tenant_id == bindparam("tenant_id"), roles.c.tenant_id == bindparam("tenant_id"),
                      roles.c.key.in_(bindparam("roles", expanding=True)),
                      or_(permissions.c.target == bindparam("form_target"),
                          permissions.c.target == select(literal("app:") + form_definitions.c.app_key).where(and_(
                              form_definitions.c.tenant_id == bindparam("tenant_id"),
                              form_definitions.c.key == bindparam("form_key"))).scalar_subquery()))))


def _role_rules(session: Session, actor: Actor, form_key: str) -> list[Rules]:
    """One Rules per role of the actor that has any: the form rule, else the app rule."""
    if not actor.roles:
        return []
    rows = session.execute(_RULES, {"tenant_id": actor.tenant_id, "roles": list(actor.roles), "form_key": form_key,
                                    "form_target": f"form:{form_key}"}).all()
    by_role: dict[int, dict[str, dict]] = {}
    for role_id, target, data in rows:
        by_role.setdefault(role_id, {})[target.split(":", 1)[0]] = data
    return [_parsed(found.get("form", found.get("app"))) for _, found in sorted(by_role.items())]


def _parsed(data: Any) -> Rules:
    """Rules of a stored document (checked when saved); parsed once per distinct document."""
    text = json.dumps(data, sort_keys=True)
    hit = _PARSED.get(text)
    if hit is None:
        if len(_PARSED) > 4096:
            _PARSED.clear()
        hit = _PARSED[text] = parse_rules(data)
    return hit


_PARSED: dict[str, Rules] = {}


def _subject(session: Session, actor: Actor, rules: list[Rules]) -> Subject:
    """The actor as scopes see it; the department subtree is read only when a scope needs it."""
    needs_tree = any("department" in s.terms for r in rules for s in (r.read, r.update, r.delete))
    tree = department_subtree(session, actor.tenant_id, actor.department_id) if needs_tree else frozenset()
    return Subject(actor.tenant_id, actor.user_id, tree, dict(actor.attributes))
