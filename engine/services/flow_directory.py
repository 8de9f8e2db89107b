"""The tenant's people as flow assignee resolution sees them (engine.flows.assignees.Directory),
plus standing delegations ("out of office") applied when tasks are created."""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Iterable

from sqlalchemy import and_, bindparam, exists, insert, select, update
from sqlalchemy.orm import Session

from engine.errors import FieldProblem, NotFound, PermissionDenied, RecordValidationError
from engine.i18n import msg
from engine.storage.flow_tables import flow_delegations as dl
from engine.storage.platform import departments, roles, user_roles, users
from engine.types import Actor

MAX_TREE_DEPTH = 50


_delegate = users.alias("delegate")


def _away_today():
    """The outer join to today's delegation of the user (``on`` parameter), if any — only to an
    active delegate: tasks never go to someone who has left."""
    return and_(dl.c.user_id == users.c.id, dl.c.tenant_id == users.c.tenant_id, dl.c.revoked_at.is_(None),
                dl.c.starts_on <= bindparam("on"), dl.c.ends_on >= bindparam("on"),
                exists().where(and_(_delegate.c.id == dl.c.delegate_id, _delegate.c.is_active.is_(True))).correlate(dl))


_WITH_ROLE = (select(user_roles.c.user_id, dl.c.delegate_id)
              .select_from(user_roles.join(roles, roles.c.id == user_roles.c.role_id)
                           .join(users, users.c.id == user_roles.c.user_id).outerjoin(dl, _away_today()))
              .where(and_(roles.c.tenant_id == bindparam("tenant_id"), roles.c.key == bindparam("role"),
                          users.c.is_active.is_(True))).order_by(user_roles.c.user_id, dl.c.id))
# active users among ids, each with today's delegate if they are away (one statement for both)
_ACTIVE = (select(users.c.id, dl.c.delegate_id).select_from(users.outerjoin(dl, _away_today()))
           .where(and_(users.c.tenant_id == bindparam("tenant_id"), users.c.id.in_(bindparam("ids", expanding=True)),
                       users.c.is_active.is_(True))).order_by(users.c.id, dl.c.id))
_DELEGATE = (select(dl.c.delegate_id).join(users, users.c.id == dl.c.delegate_id)
             .where(and_(dl.c.tenant_id == bindparam("tenant_id"), dl.c.user_id == bindparam("user_id"),
                         dl.c.revoked_at.is_(None), dl.c.starts_on <= bindparam("on"), dl.c.ends_on >= bindparam("on"),
                         users.c.is_active.is_(True))).order_by(dl.c.id.desc()).limit(1))


class SqlDirectory:
    """Users, roles and department heads of one tenant, read with the caller's session."""

    def __init__(self, session: Session, tenant_id: int, on: date | None = None):
        self.session, self.tenant_id = session, tenant_id
        self.on = on or datetime.now(timezone.utc).date()
        self.known_active: set[int] = set()        # found by a query that already required is_active
        self.delegates: dict[int, int] = {}        # user → delegate today, for users whose row was read here
        self.delegates_known: set[int] = set()

    def users_with_role(self, role_key: str) -> list[int]:
        rows = self.session.execute(_WITH_ROLE, {"tenant_id": self.tenant_id, "role": role_key, "on": self.on}).all()
        self._remember(rows)
        return list(dict.fromkeys(user_id for user_id, _ in rows))

    def _remember(self, rows) -> None:
        """Users read with their delegation (rows of user id, delegate id or None), all active."""
        for user_id, delegate in rows:
            self.known_active.add(user_id)
            self.delegates_known.add(user_id)
            if delegate is not None and delegate != user_id:
                self.delegates[user_id] = delegate       # the newest delegation wins (ordered by id)

    def department_head(self, user_id: int, level: int) -> int | None:
        """The head ``level`` departments up from the user's own; a department without a head
        passes to its parent (and so does one whose head is the user)."""
        dept = self.session.execute(select(users.c.department_id).where(and_(
            users.c.tenant_id == self.tenant_id, users.c.id == user_id))).scalar()
        climbed = 0
        for _ in range(MAX_TREE_DEPTH):
            if dept is None:
                return None
            row = self.session.execute(select(departments.c.parent_id, departments.c.head_user_id).where(and_(
                departments.c.tenant_id == self.tenant_id, departments.c.id == dept))).first()
            if row is None:
                return None
            if row.head_user_id and row.head_user_id != user_id:
                climbed += 1
                if climbed >= level:
                    return row.head_user_id
            dept = row.parent_id
        return None

    def active_users(self, ids: Iterable[int]) -> list[int]:
        ids = list(ids)
        unknown = [i for i in ids if i not in self.known_active]
        if unknown:
            self._remember(self.session.connection().execute(
                _ACTIVE, {"tenant_id": self.tenant_id, "ids": unknown, "on": self.on}).all())
        return [i for i in ids if i in self.known_active]

    def admins(self) -> list[int]:
        return list(self.session.execute(select(users.c.id).where(and_(
            users.c.tenant_id == self.tenant_id, users.c.is_admin.is_(True), users.c.is_active.is_(True)))
            .order_by(users.c.id)).scalars())

    def name(self, user_id: int | None) -> str:
        if user_id is None:
            return ""
        return self.session.execute(select(users.c.name).where(and_(
            users.c.tenant_id == self.tenant_id, users.c.id == user_id))).scalar() or f"#{user_id}"


# ---------------------------------------------------------------------------- delegations

_DELEGATES = (select(dl.c.user_id, dl.c.delegate_id).join(users, users.c.id == dl.c.delegate_id)
              .where(and_(dl.c.tenant_id == bindparam("tenant_id"), dl.c.user_id.in_(bindparam("ids", expanding=True)),
                          dl.c.revoked_at.is_(None), dl.c.starts_on <= bindparam("on"), dl.c.ends_on >= bindparam("on"),
                          users.c.is_active.is_(True))).order_by(dl.c.id))


def delegates_for(session: Session, tenant_id: int, user_ids: list[int], on: date) -> dict[int, int]:
    """{user id: delegate id} for those of ``user_ids`` who are away on ``on`` (one query)."""
    if not user_ids:
        return {}
    rows = session.execute(_DELEGATES, {"tenant_id": tenant_id, "ids": list(user_ids), "on": on}).all()
    return {r.user_id: r.delegate_id for r in rows}       # newest delegation wins (ordered by id)


def delegate_of(session: Session, tenant_id: int, user_id: int, on: date) -> int | None:
    """Who takes ``user_id``'s new tasks on ``on`` (an active delegate), else None. No chains."""
    row = session.execute(_DELEGATE, {"tenant_id": tenant_id, "user_id": user_id, "on": on}).first()
    return row.delegate_id if row else None


def set_delegation(session: Session, actor: Actor, delegate_id: int, starts_on: date, ends_on: date,
                   user_id: int | None = None) -> int:
    """From ``starts_on`` to ``ends_on`` (inclusive) new tasks of the actor (or, for an admin, of
    ``user_id``) go to ``delegate_id``."""
    owner = user_id if user_id is not None else actor.user_id
    if owner != actor.user_id and not actor.unrestricted:
        raise PermissionDenied(msg("只能为自己设置委托", "You can only delegate your own tasks"))
    if not isinstance(starts_on, date) or not isinstance(ends_on, date) or ends_on < starts_on:
        raise RecordValidationError([FieldProblem("ends_on", msg("委托的结束日期不能早于开始日期",
                                                                 "The delegation must end on or after its start"))])
    if delegate_id == owner:
        raise RecordValidationError([FieldProblem("delegate_id", msg("不能委托给自己", "You cannot delegate to yourself"))])
    directory = SqlDirectory(session, actor.tenant_id)
    if not directory.active_users([delegate_id]) or not directory.active_users([owner]):
        raise NotFound(msg("用户 {i} 不存在或已停用", "User {i} does not exist or is inactive", i=delegate_id))
    return session.execute(insert(dl).values(
        tenant_id=actor.tenant_id, user_id=owner, delegate_id=delegate_id, starts_on=starts_on, ends_on=ends_on,
        created_at=datetime.now(timezone.utc)).returning(dl.c.id)).scalar_one()


def revoke_delegation(session: Session, actor: Actor, delegation_id: int) -> None:
    row = session.execute(select(dl).where(and_(dl.c.tenant_id == actor.tenant_id, dl.c.id == delegation_id))
                          ).mappings().first()
    if row is None or (row["user_id"] != actor.user_id and not actor.unrestricted):
        raise NotFound(msg("委托 {i} 不存在", "Delegation {i} does not exist", i=delegation_id))
    session.execute(update(dl).where(dl.c.id == delegation_id).values(revoked_at=datetime.now(timezone.utc)))


def list_delegations(session: Session, actor: Actor) -> list[dict]:
    rows = session.execute(select(dl).where(and_(dl.c.tenant_id == actor.tenant_id, dl.c.user_id == actor.user_id,
                                                 dl.c.revoked_at.is_(None))).order_by(dl.c.starts_on)).mappings()
    return [dict(r) for r in rows]
