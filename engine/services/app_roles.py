"""The roles an app package brings, and the apps it requires.

A package lists the roles its forms need (``{"key", "label", "permissions": {target: rules}}``).
Roles are the tenant's: the same role key in several apps is one role, and each app sets the
rules for its own targets only (``app:<its key>`` or ``form:<one of its forms>``). On
re-import a target's rules are replaced only where the tenant left them as the previous
package version set them; rules an admin changed are kept.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from engine.access.rules import check_rules
from engine.errors import Problem
from engine.i18n import msg
from engine.services import accounts
from engine.storage.platform import apps as apps_table
from engine.storage.platform import roles as roles_table


def requirement_problems(session: Session, tenant_id: int, package: Mapping[str, Any]) -> list[Problem]:
    """Each required app that is not installed in the tenant."""
    wanted = [k for k in package.get("requires") or () if isinstance(k, str)]
    if not wanted:
        return []
    have = set(session.execute(select(apps_table.c.key).where(and_(apps_table.c.tenant_id == tenant_id,
                                                                   apps_table.c.key.in_(wanted)))).scalars())
    return [Problem(f"$.requires[{i}]", msg("需要先安装应用“{k}”", "Install the app '{k}' first", k=key))
            for i, key in enumerate(wanted) if key not in have]


def role_problems(package: Mapping[str, Any], form_keys: Iterable[str]) -> list[Problem]:
    """Targets outside the app and invalid rules, with their JSON paths."""
    own = {f"app:{package.get('key')}"} | {f"form:{k}" for k in form_keys}
    problems: list[Problem] = []
    for i, role in enumerate(package.get("roles") or ()):
        for target, rules in (role.get("permissions") or {}).items():
            path = f"$.roles[{i}].permissions.{target}"
            if target not in own:
                problems.append(Problem(path, msg("应用只能为自己的表单设置权限：{t} 不属于本应用",
                                                  "An app sets permissions on its own forms only: {t} is not in this app",
                                                  t=target)))
            problems += [Problem(path + p.path[1:], p.message) for p in check_rules(rules)]
    return problems


def install_roles(session: Session, tenant_id: int, package: Mapping[str, Any],
                  previous: Mapping[str, Any] | None) -> list[str]:
    """Create missing roles and set each target's rules unless the tenant changed them; the keys of
    the roles created."""
    before = {r["key"]: r.get("permissions") or {} for r in (previous or {}).get("roles") or () if isinstance(r, Mapping)}
    existing = set(session.execute(select(roles_table.c.key).where(roles_table.c.tenant_id == tenant_id)).scalars())
    created = []
    for role in package.get("roles") or ():
        if role["key"] not in existing:
            accounts.create_role(session, tenant_id, role["key"], role["label"])
            existing.add(role["key"])
            created.append(role["key"])
        current = accounts.get_permissions(session, tenant_id, role["key"])
        for target, rules in (role.get("permissions") or {}).items():
            had = current.get(target)
            if had is None or had == before.get(role["key"], {}).get(target):
                accounts.set_permissions(session, tenant_id, role["key"], target, rules)
    return created
