"""Small frozen value types shared across the engine."""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any


@dataclass(frozen=True)
class Actor:
    """Who does something: tenant, user, language, and what access decisions need.

    ``roles`` are role keys; ``attributes`` are (name, value) pairs such as ``("supplier", 12)``
    for a supplier's staff. Admins (``is_admin``) and the system (``is_system``: background
    jobs, migrations; ``user_id`` None) pass every permission check.
    """

    tenant_id: int
    user_id: int | None = None
    lang: str = "zh-CN"
    roles: tuple[str, ...] = ()
    department_id: int | None = None
    name: str = ""
    is_admin: bool = False
    is_system: bool = False
    attributes: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def system(cls, tenant_id: int) -> "Actor":
        return cls(tenant_id=tenant_id, user_id=None, name="system", is_system=True)

    @property
    def unrestricted(self) -> bool:
        """True for admins and the system: no permission applies to them."""
        return self.is_admin or self.is_system

    def attribute(self, name: str, default: Any = None) -> Any:
        """The value of one attribute (``default`` when the user has none)."""
        return next((v for k, v in self.attributes if k == name), default)


class AuditAction(str, Enum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
