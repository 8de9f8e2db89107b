"""Names for ids that records hold: users, departments, and the titles of referenced records.

Pages show these instead of bare ids. One query per kind for a whole page; titles of referenced
records are read through the reader's read scope on the target form, so a reference to a
record the reader may not see shows only its id (its title is never revealed).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from engine import access as access_control
from engine.definitions.model import FieldDef
from engine.errors import NotFound
from engine.storage import form_store, records
from engine.storage.platform import departments, users
from engine.types import Actor


@dataclass
class Names:
    """Looked-up names: ``users[id]``, ``departments[id]`` ({"zh-CN", "en"}), ``titles[(form, id)]``."""

    users: dict[int, str] = field(default_factory=dict)
    departments: dict[int, dict] = field(default_factory=dict)
    titles: dict[tuple[str, int], str] = field(default_factory=dict)


def names_for(session: Session, actor: Actor, fields: Iterable[FieldDef], rows: Iterable[Mapping[str, Any]]) -> Names:
    """The names of every user, department and referenced record in ``rows`` (sub-tables included)."""
    wanted: dict[str, set] = {"user": set(), "department": set()}
    refs: dict[str, set[int]] = {}
    fields = list(fields)
    for row in rows:
        _collect(fields, row, wanted, refs)
    names = Names()
    tenant = actor.tenant_id
    names.users = user_names(session, tenant, wanted["user"])
    if wanted["department"]:
        names.departments = dict(session.execute(select(departments.c.id, departments.c.name).where(and_(
            departments.c.tenant_id == tenant, departments.c.id.in_(wanted["department"])))).all())
    for form_key, ids in refs.items():
        names.titles.update({(form_key, i): t for i, t in _titles(session, actor, form_key, ids).items()})
    return names


def user_names(session: Session, tenant_id: int, ids: Iterable[Any]) -> dict[int, str]:
    """{user id: name} of the tenant's users among ``ids`` (one query; none for no ids)."""
    ids = {i for i in ids if _is_id(i)}
    if not ids:
        return {}
    return dict(session.execute(select(users.c.id, users.c.name).where(and_(
        users.c.tenant_id == tenant_id, users.c.id.in_(ids)))).all())


def _collect(fields: list[FieldDef], row: Mapping[str, Any], wanted: dict, refs: dict) -> None:
    for field in fields:
        value = row.get(field.key) if isinstance(row, Mapping) else None
        if value is None:
            continue
        f = field.shown_as()
        if f.type in wanted:
            wanted[f.type].update(v for v in (value if isinstance(value, list) else [value]) if _is_id(v))
        elif f.type == "reference" and _is_id(value) and isinstance(f.option("form"), str):
            refs.setdefault(f.option("form"), set()).add(value)
        elif f.fields and isinstance(value, list):
            for sub in value:
                _collect(list(f.fields), sub, wanted, refs)


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63


def _titles(session: Session, actor: Actor, form_key: str, ids: set[int]) -> dict[int, str]:
    """Title (else serial number) of each record the actor may read."""
    try:
        pub = form_store.load_published(session, actor.tenant_id, form_key)
    except NotFound:
        return {}
    read = access_control.form_access(session, actor, form_key).read
    if not read.allows_any:
        return {}
    table = records.top_table(pub.spec)
    where = table.c.id.in_(ids)
    if not read.is_all:
        where = and_(where, read.clause(table))
    rows = session.execute(select(table.c.id, table.c.title, table.c.serial_no).where(and_(
        table.c.tenant_id == actor.tenant_id, where))).all()
    return {r.id: r.title or r.serial_no or f"#{r.id}" for r in rows}
