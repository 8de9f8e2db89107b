"""Sign-in with rate limiting, and API tokens (hashed at rest, scoped to a tenant and a user).

Rate limits are counted in the ``login_attempts`` table, so every process (gunicorn workers,
several machines) shares them: ≥ 5 failures for an email (since its last success) or ≥ 20 for
an IP within 15 minutes lock that email/IP until enough failures have left the window.

A token reads ``qms_<prefix>_<secret>``: the prefix finds the row, the sha256 of the whole
token is compared in constant time; the plaintext is shown once and never stored.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import and_, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from engine.auth.passwords import hash_password, needs_rehash, verify_password
from engine.errors import NotFound, TooManyAttempts
from engine.i18n import msg
from engine.storage.db import stored_utc
from engine.storage.platform import api_tokens, login_attempts, roles, tenants, user_roles, users
from engine.types import Actor

WINDOW = timedelta(minutes=15)
MAX_EMAIL_FAILURES = 5
MAX_IP_FAILURES = 20
TOKEN_TOUCH_EVERY = timedelta(minutes=1)
_DUMMY_HASH = hash_password("not-a-real-password")   # equal work when the user does not exist


def _utc(now: datetime | None) -> datetime:
    return (now or datetime.now(timezone.utc)).astimezone(timezone.utc)


# ---------------------------------------------------------------------------- sign-in

def authenticate(session: Session, tenant_key_or_id: int | str, email: str, password: str,
                 ip: str | None = None, *, now: datetime | None = None) -> Actor | None:
    """The Actor for a correct email + password of an active user, else None.

    Raises TooManyAttempts (with seconds to wait) while the email or IP is locked; attempts
    made while locked are not counted, so waiting always unlocks.
    """
    from engine.services.accounts import actor_for_user, normalize_email

    now, email = _utc(now), normalize_email(email)
    tenant_id = _tenant_id(session, tenant_key_or_id)
    wait = _locked_for(session, tenant_id, email, ip, now)
    if wait:
        raise TooManyAttempts(wait)
    row = None
    if tenant_id is not None:
        row = session.execute(select(users.c.id, users.c.password_hash, users.c.is_active).where(and_(
            users.c.tenant_id == tenant_id, users.c.email == email))).first()
    ok = verify_password(row.password_hash if row else _DUMMY_HASH, password) and bool(row and row.is_active)
    session.execute(insert(login_attempts).values(tenant_id=tenant_id, email=email, ip=ip, at=now, success=ok))
    if not ok:
        return None
    if needs_rehash(row.password_hash):
        session.execute(update(users).where(users.c.id == row.id).values(password_hash=hash_password(password)))
    return actor_for_user(session, row.id)


def _tenant_id(session: Session, tenant_key_or_id: int | str) -> int | None:
    column = tenants.c.id if isinstance(tenant_key_or_id, int) else tenants.c.key
    return session.execute(select(tenants.c.id).where(column == tenant_key_or_id)).scalar()


def _locked_for(session: Session, tenant_id: int | None, email: str, ip: str | None, now: datetime) -> int:
    """Seconds until the email or IP may try again (0: not locked)."""
    start = now - WINDOW
    last_ok = session.execute(select(func.max(login_attempts.c.at)).where(and_(
        login_attempts.c.email == email, login_attempts.c.tenant_id.is_(None) if tenant_id is None
        else login_attempts.c.tenant_id == tenant_id, login_attempts.c.success.is_(True)))).scalar()
    since = max(start, stored_utc(last_ok)) if last_ok is not None else start
    email_fail = and_(login_attempts.c.email == email, login_attempts.c.success.is_(False),
                      login_attempts.c.at > since,
                      login_attempts.c.tenant_id.is_(None) if tenant_id is None
                      else login_attempts.c.tenant_id == tenant_id)
    waits = [_wait(session, email_fail, MAX_EMAIL_FAILURES, now)]
    if ip:
        ip_fail = and_(login_attempts.c.ip == ip, login_attempts.c.success.is_(False), login_attempts.c.at > start)
        waits.append(_wait(session, ip_fail, MAX_IP_FAILURES, now))
    return max(waits)


def _wait(session: Session, condition, limit: int, now: datetime) -> int:
    """Failures matching ``condition``, newest first: locked until the ``limit``-th newest leaves the window."""
    times = session.execute(select(login_attempts.c.at).where(condition)
                            .order_by(login_attempts.c.at.desc()).limit(limit)).scalars().all()
    if len(times) < limit:
        return 0
    remaining = (stored_utc(times[-1]) + WINDOW - now).total_seconds()
    return max(1, int(remaining + 0.999)) if remaining > 0 else 0


# ---------------------------------------------------------------------------- API tokens

def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_api_token(session: Session, tenant_id: int, user_id: int, name: str,
                     expires_at: datetime | None = None, *, now: datetime | None = None) -> str:
    """A new token for the user; the plaintext is returned once (only its hash is stored)."""
    owner = session.execute(select(users.c.id).where(and_(users.c.id == user_id, users.c.tenant_id == tenant_id)))
    if owner.scalar() is None:
        raise NotFound(msg("用户 {i} 不存在", "User {i} does not exist", i=user_id))
    prefix = secrets.token_hex(6)
    token = f"qms_{prefix}_{secrets.token_urlsafe(32)}"
    session.execute(insert(api_tokens).values(
        tenant_id=tenant_id, user_id=user_id, name=(name or "API")[:200], prefix=prefix, token_hash=_hash(token),
        created_at=_utc(now), expires_at=expires_at))
    return token


# Built once: the token row (columns prefixed "token_") joined with its user's row
_TOKEN_WITH_USER = (   # one row per role of the user (one row with role_key NULL when there is none)
    select(*[api_tokens.c[k].label(f"token_{k}") for k in ("id", "token_hash", "expires_at", "last_used_at",
                                                           "revoked_at")],
           *[users.c[k] for k in ("id", "tenant_id", "name", "lang", "department_id", "is_admin", "is_active",
                                  "attributes")], roles.c.key.label("role_key"))
    .join(users, users.c.id == api_tokens.c.user_id)
    .outerjoin(user_roles, user_roles.c.user_id == users.c.id)
    .outerjoin(roles, roles.c.id == user_roles.c.role_id)
    .where(api_tokens.c.prefix == bindparam("prefix")))


@dataclass(frozen=True)
class TokenCheck:
    """A valid token's Actor, and whether its ``last_used_at`` is due to be written."""

    actor: Actor
    token_id: int
    touch_due: bool


def verify_api_token(session: Session, token: str, *, now: datetime | None = None) -> Actor | None:
    """The Actor of a valid token (not revoked, not expired, active user), else None."""
    checked = check_api_token(session, token, now=now)
    if checked is None:
        return None
    if checked.touch_due:
        touch_api_token(session, checked.token_id, now=now)
    return checked.actor


def check_api_token(session: Session, token: str, *, now: datetime | None = None) -> TokenCheck | None:
    """Like :func:`verify_api_token` but read-only: one query (token with its user and roles)."""
    from engine.services.accounts import actor_from_row

    parts = token.split("_", 2) if isinstance(token, str) else []
    if len(parts) != 3 or parts[0] != "qms" or not parts[1] or not parts[2]:
        return None
    rows = session.execute(_TOKEN_WITH_USER, {"prefix": parts[1]}).mappings().all()
    row = rows[0] if rows else None
    now = _utc(now)
    if row is None or not hmac.compare_digest(row["token_token_hash"], _hash(token)):
        return None
    if row["token_revoked_at"] is not None:
        return None
    if row["token_expires_at"] is not None and stored_utc(row["token_expires_at"]) <= now:
        return None
    if not row["is_active"]:
        return None
    last = stored_utc(row["token_last_used_at"])
    due = last is None or now - last >= TOKEN_TOUCH_EVERY    # not a write on every API call
    role_keys = sorted({r["role_key"] for r in rows if r["role_key"] is not None})
    return TokenCheck(actor_from_row(session, row, role_keys=role_keys), row["token_id"], due)


def touch_api_token(session: Session, token_id: int, *, now: datetime | None = None) -> None:
    """Record that the token was used (callers do it at most once a minute: see ``touch_due``)."""
    session.execute(update(api_tokens).where(api_tokens.c.id == token_id).values(last_used_at=_utc(now)))


def revoke_api_token(session: Session, tenant_id: int, token_id: int, *, now: datetime | None = None) -> None:
    """Revoke a token (it stops working at once); NotFound for another tenant's token."""
    done = session.execute(update(api_tokens).where(and_(
        api_tokens.c.id == token_id, api_tokens.c.tenant_id == tenant_id, api_tokens.c.revoked_at.is_(None)))
        .values(revoked_at=_utc(now)))
    if done.rowcount != 1:
        exists = session.execute(select(api_tokens.c.id).where(and_(
            api_tokens.c.id == token_id, api_tokens.c.tenant_id == tenant_id))).scalar()
        if exists is None:
            raise NotFound(msg("令牌 {i} 不存在", "Token {i} does not exist", i=token_id))


def list_api_tokens(session: Session, tenant_id: int, user_id: int | None = None) -> list[dict]:
    """Tokens of the tenant (or one user), without anything secret."""
    cols = [api_tokens.c[k] for k in ("id", "user_id", "name", "prefix", "created_at", "expires_at",
                                      "last_used_at", "revoked_at")]
    stmt = select(*cols).where(api_tokens.c.tenant_id == tenant_id).order_by(api_tokens.c.id)
    if user_id is not None:
        stmt = stmt.where(api_tokens.c.user_id == user_id)
    return [dict(r) for r in session.execute(stmt).mappings()]


# ---------------------------------------------------------------------------- web sessions

def _stamp(password_hash: str | None) -> str:
    """A short digest of the password hash: a password change ends every existing session."""
    return hashlib.sha256((password_hash or "").encode()).hexdigest()[:16]


def session_id_for(session: Session, user_id: int) -> str:
    """What the session cookie keeps for a signed-in user: ``<user id>.<stamp>``."""
    row = session.execute(select(users.c.password_hash).where(users.c.id == user_id)).first()
    return f"{user_id}.{_stamp(row.password_hash if row else None)}"


def session_actor(session: Session, session_id: str) -> Actor | None:
    """The Actor behind a session id, or None once the user is inactive or changed password."""
    from engine.services.accounts import actor_for_user

    user_part, _, stamp = (session_id or "").partition(".")
    if not user_part.isdigit() or not stamp:
        return None
    row = session.execute(select(users.c.password_hash, users.c.is_active)
                          .where(users.c.id == int(user_part))).first()
    if row is None or not row.is_active or not hmac.compare_digest(_stamp(row.password_hash), stamp):
        return None
    return actor_for_user(session, int(user_part))


def change_password(session: Session, actor: Actor, current: str, new: str, ip: str | None = None, *,
                    now: datetime | None = None) -> str | None:
    """The user changes their own password: ``current`` is checked like a sign-in (rate limited,
    TooManyAttempts while locked), ``new`` goes through the policy (AccountError). Returns the
    new session id for the caller's own session — every other session of the user ends — or
    None when ``current`` is wrong. API tokens stay valid (separate credentials)."""
    from engine.services.accounts import reset_password

    row = session.execute(select(users.c.email).where(and_(
        users.c.id == actor.user_id, users.c.tenant_id == actor.tenant_id))).first()
    if row is None:
        raise NotFound(msg("用户 {i} 不存在", "User {i} does not exist", i=actor.user_id))
    if authenticate(session, actor.tenant_id, row.email, current if isinstance(current, str) else "", ip,
                    now=now) is None:
        return None
    reset_password(session, actor.tenant_id, actor.user_id, new)
    return session_id_for(session, actor.user_id)


def set_language(session: Session, tenant_id: int, user_id: int, lang: str) -> None:
    """Remember the user's UI language ("zh-CN" or "en")."""
    if lang not in ("zh-CN", "en"):
        raise ValueError(f"unsupported language {lang!r}")
    session.execute(update(users).where(and_(users.c.id == user_id, users.c.tenant_id == tenant_id)).values(lang=lang))
