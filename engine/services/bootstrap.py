"""First start: a default tenant and its first admin, created once and never again."""
from __future__ import annotations

from dataclasses import dataclass
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.auth.passwords import generate_password
from engine.services import accounts
from engine.storage.platform import tenants, users

DEFAULT_TENANT_KEY = "default"
DEFAULT_ADMIN_EMAIL = "admin@example.com"


@dataclass(frozen=True)
class SetupResult:
    """What first start did. ``admin_password`` is set only when it was generated just now."""

    created: bool
    tenant_id: int
    admin_email: str
    admin_password: str | None


def ensure_initial_setup(session: Session, admin_email: str | None = None,
                         admin_password: str | None = None) -> SetupResult:
    """Create the default tenant and admin when the database has no tenant yet (idempotent)."""
    existing = session.execute(select(tenants.c.id).order_by(tenants.c.id).limit(1)).scalar()
    if existing is not None:
        email = session.execute(
            select(users.c.email).where(users.c.tenant_id == existing, users.c.is_admin.is_(True))
            .order_by(users.c.id).limit(1)).scalar()
        return SetupResult(False, existing, email or "", None)
    tenant_id = accounts.create_tenant(session, DEFAULT_TENANT_KEY, "Default company / 默认公司")
    email = accounts.normalize_email(admin_email or DEFAULT_ADMIN_EMAIL)
    generated = None if admin_password else generate_password()
    accounts.create_user(session, tenant_id, email, "Administrator", admin_password or generated, is_admin=True)
    return SetupResult(True, tenant_id, email, generated)

