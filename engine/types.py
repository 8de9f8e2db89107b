"""Small frozen value types shared across the engine."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


@dataclass(frozen=True)
class Actor:
    """Who does something: tenant, user and language. ``user_id`` None = the system itself."""

    tenant_id: int
    user_id: int | None = None
    lang: str = "zh-CN"
    roles: tuple[str, ...] = ()
    department_id: int | None = None
    name: str = ""

    @classmethod
    def system(cls, tenant_id: int) -> "Actor":
        return cls(tenant_id=tenant_id, user_id=None, name="system")


class AuditAction(str, Enum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
