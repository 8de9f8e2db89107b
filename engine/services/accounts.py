"""Account use cases: tenants, users, roles, departments, permissions, and the Actor of a user.

One function per use case, each in the caller's transaction (never commits). Emails are
stored lower-case and are unique per tenant. Sign-in (with rate limiting) and API tokens live
in :mod:`engine.services.logins` and are re-exported here.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping

from sqlalchemy import and_, bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine import access
from engine.access.rules import check_target, parse_rules
from engine.auth.passwords import MIN_LENGTH, hash_password, password_problem
from engine.errors import Conflict, DefinitionError, NotFound, Problem, QMSError
from engine.i18n import msg
from engine.storage.platform import departments, permissions, roles, tenants, user_roles, users
from engine.types import Actor

KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
MIN_PASSWORD = MIN_LENGTH


class AccountError(QMSError):
    """Bad account input (email, key, password, department move)."""

    code = "invalid_account"


def _now() -> datetime:
    return datetime.now(timezone.utc)


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def _key(key: str, what: str) -> str:
    if not isinstance(key, str) or not KEY.match(key):
        raise AccountError(msg("{w}标识“{k}”无效（小写字母开头，仅含小写字母、数字、下划线）",
                               "Invalid {w} key '{k}' (lower-case letter first, then letters, digits, underscores)",
                               w=what, k=str(key)[:60]))
    return key


def _password(password: str, email: str = "", name: str = "") -> str:
    """The hash of ``password`` once it passes the policy (:func:`engine.auth.passwords.password_problem`)."""
    problem = password_problem(password, email=email, name=name)
    if problem is not None:
        raise AccountError(problem)
    return hash_password(password)


def _stored_hash(password: str | None, password_hash: str | None, email: str = "", name: str = "") -> str | None:
    """What a new user's password_hash column holds: the hash of ``password``, or ``password_hash`` as given."""
    if password_hash is None:
        return _password(password, email, name) if password is not None else None
    if password is not None:
        raise AccountError(msg("密码与密码哈希只能给出其中之一", "Give a password or a password hash, not both"))
    if not isinstance(password_hash, str) or not password_hash.startswith("$argon2"):
        raise AccountError(msg("密码哈希必须是 Argon2 哈希（以 $argon2 开头）",
                               "The password hash must be an Argon2 hash (starting with $argon2)"))
    return password_hash


def _insert(session: Session, table, values: dict, duplicate) -> int:
    """Insert in a savepoint so a duplicate becomes a Conflict without spoiling the transaction."""
    try:
        with session.begin_nested():
            return session.execute(insert(table).values(values)).inserted_primary_key[0]
    except IntegrityError:
        raise Conflict(duplicate) from None


# ---------------------------------------------------------------------------- tenants and users

def create_tenant(session: Session, key: str, name: str) -> int:
    """A new tenant (company); Conflict when the key is taken."""
    return _insert(session, tenants, {"key": _key(key, "公司/tenant "), "name": name or key, "created_at": _now()},
                   msg("公司标识“{k}”已存在", "Tenant key '{k}' already exists", k=key))


def create_user(session: Session, tenant_id: int, email: str, name: str = "", password: str | None = None,
                roles: Iterable[str] = (), department: int | str | None = None, is_admin: bool = False,
                attributes: Mapping[str, Any] | None = None, is_external: bool = False, lang: str = "zh-CN",
                password_hash: str | None = None) -> int:
    """A new user of the tenant (email unique per tenant, lower-cased); returns the user id.

    ``password`` is hashed here; ``password_hash`` instead stores an Argon2 hash made beforehand
    (e.g. one hash shared by many generated users, or a hash migrated from another system) — it
    must be an Argon2 hash string, and at most one of the two may be given. Sign-in rehashes a hash
    made with weaker parameters at the user's first sign-in."""
    email = normalize_email(email)
    if not EMAIL.match(email):
        raise AccountError(msg("邮箱“{e}”无效", "Invalid email '{e}'", e=email[:80]))
    user_id = _insert(session, users, {
        "tenant_id": tenant_id, "email": email, "name": name or email, "is_admin": is_admin,
        "password_hash": _stored_hash(password, password_hash, email, name), "lang": lang,
        "department_id": _department_id(session, tenant_id, department), "attributes": dict(attributes or {}),
        "is_external": is_external, "is_active": True, "created_at": _now()},
        msg("邮箱“{e}”已被使用", "Email '{e}' is already in use", e=email))
    if roles:
        set_roles(session, tenant_id, user_id, roles)
    return user_id


def _user(session: Session, tenant_id: int, user_id: int):
    row = session.execute(select(users).where(and_(users.c.id == user_id, users.c.tenant_id == tenant_id))) \
        .mappings().first()
    if row is None:
        raise NotFound(msg("用户 {i} 不存在", "User {i} does not exist", i=user_id))
    return row


def tenant_id_by_key(session: Session, key: str) -> int:
    """The id of the tenant with ``key``; NotFound names the key."""
    found = session.execute(select(tenants.c.id).where(tenants.c.key == key)).scalar()
    if found is None:
        raise NotFound(msg("公司标识“{k}”不存在", "Tenant '{k}' does not exist", k=str(key)[:60]))
    return found


def user_id_by_email(session: Session, tenant_id: int, email: str) -> int:
    """The id of the tenant's user with ``email`` (case-insensitive); NotFound names the email."""
    email = normalize_email(email)
    found = session.execute(select(users.c.id).where(and_(users.c.tenant_id == tenant_id,
                                                          users.c.email == email))).scalar()
    if found is None:
        raise NotFound(msg("用户“{e}”不存在", "No user with the email '{e}'", e=email[:80]))
    return found


def reset_password(session: Session, tenant_id: int, user_id: int, password: str) -> None:
    """Set a new password (hashed, after the policy). Every web session of the user ends (the
    session id carries a stamp of the hash: see ``logins.session_id_for``); API tokens stay valid
    — they are separate credentials, revoked on their own page."""
    row = _user(session, tenant_id, user_id)
    session.execute(update(users).where(users.c.id == user_id)
                    .values(password_hash=_password(password, row["email"], row["name"])))


def set_user_attributes(session: Session, tenant_id: int, user_id: int, attributes: Mapping[str, Any],
                        department: int | str | None = None) -> None:
    """Replace the user's attributes (and department when given)."""
    _user(session, tenant_id, user_id)
    values: dict = {"attributes": dict(attributes)}
    if department is not None:
        values["department_id"] = _department_id(session, tenant_id, department)
    session.execute(update(users).where(users.c.id == user_id).values(**values))
    access.forget(session)


def set_roles(session: Session, tenant_id: int, user_id: int, role_keys: Iterable[str]) -> None:
    """Replace the user's roles; NotFound names an unknown role."""
    _user(session, tenant_id, user_id)
    ids = [_role_id(session, tenant_id, key) for key in dict.fromkeys(role_keys)]
    session.execute(delete(user_roles).where(and_(user_roles.c.tenant_id == tenant_id,
                                                  user_roles.c.user_id == user_id)))
    for role_id in ids:
        session.execute(insert(user_roles).values(tenant_id=tenant_id, user_id=user_id, role_id=role_id))
    access.forget(session)


def actor_for_user(session: Session, user_id: int, lang: str | None = None) -> Actor:
    """The Actor of a user: roles, department, attributes, admin flag (NotFound if absent)."""
    row = session.execute(select(users).where(users.c.id == user_id)).mappings().first()
    if row is None:
        raise NotFound(msg("用户 {i} 不存在", "User {i} does not exist", i=user_id))
    return actor_from_row(session, row, lang)


_ROLE_KEYS = (select(roles.c.key).join(user_roles, user_roles.c.role_id == roles.c.id)
              .where(user_roles.c.user_id == bindparam("user_id")).order_by(roles.c.key))


def actor_from_row(session: Session, row: Mapping[str, Any], lang: str | None = None,
                   role_keys: Iterable[str] | None = None) -> Actor:
    """The Actor of an already-read ``users`` row (one more query for the role keys unless given)."""
    keys = role_keys if role_keys is not None else session.execute(_ROLE_KEYS, {"user_id": row["id"]}).scalars()
    attributes = tuple(sorted((k, _frozen(v)) for k, v in (row["attributes"] or {}).items()))
    return Actor(tenant_id=row["tenant_id"], user_id=row["id"], lang=lang or row["lang"], roles=tuple(keys),
                 department_id=row["department_id"], name=row["name"], is_admin=bool(row["is_admin"]),
                 attributes=attributes)


def _frozen(value: Any) -> Any:
    """Attribute values hashable (Actor is used as a cache key): lists become tuples."""
    return tuple(_frozen(v) for v in value) if isinstance(value, list) else value


def list_users(session: Session, tenant_id: int, active_only: bool = True) -> list[dict]:
    """The tenant's users (id, name, email, department_id), by name; for pickers in forms."""
    stmt = select(users.c.id, users.c.name, users.c.email, users.c.department_id).where(users.c.tenant_id == tenant_id)
    if active_only:
        stmt = stmt.where(users.c.is_active.is_(True))
    return [dict(r) for r in session.execute(stmt.order_by(users.c.name, users.c.id)).mappings()]


# ---------------------------------------------------------------------------- departments

def create_department(session: Session, tenant_id: int, key: str, name: Mapping[str, str],
                      parent: int | str | None = None, head_user_id: int | None = None) -> int:
    """A department (``name`` = {"zh-CN", "en"}), optionally under ``parent`` and with a head."""
    if head_user_id is not None:
        _user(session, tenant_id, head_user_id)
    return _insert(session, departments, {
        "tenant_id": tenant_id, "key": _key(key, "部门/department "), "name": dict(name),
        "parent_id": _department_id(session, tenant_id, parent), "head_user_id": head_user_id},
        msg("部门标识“{k}”已存在", "Department key '{k}' already exists", k=key))


def _department_id(session: Session, tenant_id: int, department: int | str | None) -> int | None:
    """A department of the tenant by id or key (None stays None); NotFound otherwise."""
    if department is None:
        return None
    column = departments.c.key if isinstance(department, str) else departments.c.id
    found = session.execute(select(departments.c.id).where(and_(
        departments.c.tenant_id == tenant_id, column == department))).scalar()
    if found is None:
        raise NotFound(msg("部门“{d}”不存在", "Department '{d}' does not exist", d=department))
    return found


def _parents(session: Session, tenant_id: int) -> dict[int, int | None]:
    return dict(session.execute(select(departments.c.id, departments.c.parent_id)
                                .where(departments.c.tenant_id == tenant_id)).all())


def list_departments(session: Session, tenant_id: int) -> list[dict]:
    """The tenant's departments (id, key, name {"zh-CN","en"}, parent_id, head_user_id), by key."""
    stmt = select(departments.c.id, departments.c.key, departments.c.name, departments.c.parent_id,
                  departments.c.head_user_id).where(departments.c.tenant_id == tenant_id).order_by(departments.c.key)
    return [dict(r) for r in session.execute(stmt).mappings()]


def move_department(session: Session, tenant_id: int, department: int | str, parent: int | str | None) -> None:
    """Put a department under another one (None: top level); refuses to make a cycle."""
    dept_id = _department_id(session, tenant_id, department)
    parent_id = _department_id(session, tenant_id, parent)
    parents, current = _parents(session, tenant_id), parent_id
    while current is not None:
        if current == dept_id:
            raise AccountError(msg("不能把部门移到它自己或它的下级部门之下",
                                   "A department cannot be moved under itself or one of its sub-departments"))
        current = parents.get(current)
    session.execute(update(departments).where(departments.c.id == dept_id).values(parent_id=parent_id))
    access.forget(session)


def set_department_head(session: Session, tenant_id: int, department: int | str, user_id: int | None) -> None:
    """Make ``user_id`` the head of the department (None: no head)."""
    dept_id = _department_id(session, tenant_id, department)
    if user_id is not None:
        _user(session, tenant_id, user_id)
    session.execute(update(departments).where(departments.c.id == dept_id).values(head_user_id=user_id))


def department_head_of(session: Session, tenant_id: int, user_id: int) -> int | None:
    """The head over a user: their department's head, else the nearest head up the tree.

    A head's own head is the head of a department above theirs (nobody approves for
    themselves). None when no department up the tree has one.
    """
    current = _user(session, tenant_id, user_id)["department_id"]
    rows = session.execute(select(departments.c.id, departments.c.parent_id, departments.c.head_user_id)
                           .where(departments.c.tenant_id == tenant_id)).all()
    tree = {d: (p, h) for d, p, h in rows}
    seen: set[int] = set()
    while current is not None and current not in seen:
        seen.add(current)
        parent, head = tree.get(current, (None, None))
        if head is not None and head != user_id:
            return head
        current = parent
    return None


# ---------------------------------------------------------------------------- roles and permissions

def create_role(session: Session, tenant_id: int, key: str, label: Mapping[str, str]) -> int:
    """A role (``label`` = {"zh-CN", "en"}); Conflict when the key is taken."""
    return _insert(session, roles, {"tenant_id": tenant_id, "key": _key(key, "角色/role "), "label": dict(label)},
                   msg("角色标识“{k}”已存在", "Role key '{k}' already exists", k=key))


def _role_id(session: Session, tenant_id: int, role: int | str) -> int:
    column = roles.c.key if isinstance(role, str) else roles.c.id
    found = session.execute(select(roles.c.id).where(and_(roles.c.tenant_id == tenant_id, column == role))).scalar()
    if found is None:
        raise NotFound(msg("角色“{r}”不存在", "Role '{r}' does not exist", r=role))
    return found


def set_permissions(session: Session, tenant_id: int, role: int | str, target: str,
                    rules: Mapping[str, Any] | None) -> None:
    """Set (or with None remove) a role's rules for "app:<key>" / "form:<key>"; DefinitionError if invalid."""
    problems: list[Problem] = check_target(target)
    if problems:
        raise DefinitionError(problems)
    role_id = _role_id(session, tenant_id, role)
    where = and_(permissions.c.tenant_id == tenant_id, permissions.c.role_id == role_id,
                 permissions.c.target == target)
    session.execute(delete(permissions).where(where))
    if rules is not None:
        parse_rules(rules)
        session.execute(insert(permissions).values(tenant_id=tenant_id, role_id=role_id, target=target,
                                                   rules=dict(rules)))
    access.forget(session)


def get_permissions(session: Session, tenant_id: int, role: int | str) -> dict[str, dict]:
    """A role's rules by target."""
    role_id = _role_id(session, tenant_id, role)
    rows = session.execute(select(permissions.c.target, permissions.c.rules).where(and_(
        permissions.c.tenant_id == tenant_id, permissions.c.role_id == role_id)).order_by(permissions.c.target))
    return {target: data for target, data in rows}


from engine.services.logins import (authenticate, create_api_token, list_api_tokens,  # noqa: E402,F401
                                    revoke_api_token, verify_api_token)
