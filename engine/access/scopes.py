"""Compile a read/update/delete scope into a SQL condition on a record table (never filter in Python).

* ``all`` → no condition; ``none`` (no term) → false
* ``own`` → ``created_by = <user>``
* ``department`` → ``created_by IN (SELECT id FROM users WHERE department_id IN <my department subtree>)``
* ``{"field", "attribute"}`` → ``<field column> = <user's attribute>`` (false when the user lacks it)
* several terms → OR
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from sqlalchemy import Table, and_, false, or_, select, true
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from engine.access.rules import Scope
from engine.storage.platform import departments, users


@dataclass(frozen=True)
class Subject:
    """What scopes compare records with: the user, their department subtree and attributes."""

    tenant_id: int
    user_id: int | None
    departments: frozenset[int] = frozenset()
    attributes: Mapping[str, Any] = field(default_factory=dict)


def department_subtree(session: Session, tenant_id: int, department_id: int | None) -> frozenset[int]:
    """``department_id`` and every department below it (one query; the tree is walked in Python)."""
    if department_id is None:
        return frozenset()
    rows = session.execute(select(departments.c.id, departments.c.parent_id)
                           .where(departments.c.tenant_id == tenant_id)).all()
    children: dict[int, list[int]] = {}
    for dept_id, parent_id in rows:
        children.setdefault(parent_id, []).append(dept_id)
    found, stack = set(), [department_id]
    while stack:
        current = stack.pop()
        if current in found:      # a cycle cannot be stored through the services, but never loop
            continue
        found.add(current)
        stack.extend(children.get(current, ()))
    return frozenset(found)


def compile_scope(scope: Scope, table: Table, subject: Subject) -> ColumnElement:
    """The SQL condition selecting the rows of ``table`` inside ``scope`` for ``subject``."""
    if scope.is_all:
        return true()
    terms = [_term(term, table, subject) for term in sorted(scope.terms, key=repr)]
    terms = [t for t in terms if t is not None]
    return or_(*terms) if terms else false()


def _term(term, table: Table, subject: Subject) -> ColumnElement | None:
    if term == "own":
        return None if subject.user_id is None else table.c.created_by == subject.user_id
    if term == "department":
        if not subject.departments:
            return None
        members = select(users.c.id).where(and_(users.c.tenant_id == subject.tenant_id,
                                                users.c.department_id.in_(sorted(subject.departments))))
        return table.c.created_by.in_(members)
    field_key, attribute = term
    value = subject.attributes.get(attribute)
    if value is None or field_key not in table.c:
        return None
    column = table.c[field_key]
    if isinstance(value, (list, tuple, set, frozenset)):
        return column.in_(list(value)) if value else None
    return column == value
