"""SMTP servers: the tenant's own settings (set by an admin), the deployment's ``SMTP_*`` default,
and sending one message with :mod:`smtplib`.

A tenant's password is stored encrypted (:mod:`engine.notify.crypto`, key derived from
SECRET_KEY, passed in by the caller: the web app its ``SECRET_KEY``, jobs
``load_settings().secret_key``). Environment: ``SMTP_HOST``, ``SMTP_PORT``, ``SMTP_USER``,
``SMTP_PASSWORD``, ``SMTP_FROM``, ``SMTP_SECURITY`` (none / starttls / ssl; by default ssl on
port 465, starttls on 587, none otherwise).
"""
from __future__ import annotations

import os
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime, timezone
from email.message import EmailMessage
from typing import Any, Mapping

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from engine.errors import FieldProblem, PermissionDenied
from engine.i18n import msg
from engine.notify import crypto
from engine.notify.checks import sender_address
from engine.notify.errors import NotifyInputError
from engine.storage.notify_tables import smtp_settings
from engine.types import Actor

SECURITY = ("none", "starttls", "ssl")
DEFAULT_PORT = {"none": 25, "starttls": 587, "ssl": 465}
TIMEOUT = 30


@dataclass(frozen=True)
class SmtpConfig:
    """Where and how to send: ``origin`` is "tenant" (admin's settings) or "env" (deployment default)."""

    host: str
    port: int
    security: str
    username: str | None
    password: str | None
    from_addr: str
    origin: str


def require_admin(actor: Actor) -> None:
    if not actor.unrestricted:
        raise PermissionDenied(msg("只有管理员可以管理邮件和通知渠道", "Only admins can manage mail and notification channels"))


def _security(value: str | None, port: int | None) -> str:
    value = (value or "").strip().lower()
    if value in SECURITY:
        return value
    return {465: "ssl", 587: "starttls"}.get(port or 0, "none")


def env_config(env: Mapping[str, str] | None = None) -> SmtpConfig | None:
    """The deployment default from ``SMTP_*`` (``env`` defaults to the process environment), or None."""
    env = os.environ if env is None else env
    host = (env.get("SMTP_HOST") or "").strip()
    if not host:
        return None
    try:
        port = int(env.get("SMTP_PORT") or 0) or None
    except ValueError:
        port = None
    security = _security(env.get("SMTP_SECURITY"), port)
    user = env.get("SMTP_USER") or None
    return SmtpConfig(host, port or DEFAULT_PORT[security], security, user, env.get("SMTP_PASSWORD") or None,
                      env.get("SMTP_FROM") or user or f"qms@{host}", "env")


def _row(session: Session, tenant_id: int) -> dict | None:
    row = session.execute(select(smtp_settings).where(smtp_settings.c.tenant_id == tenant_id)).mappings().first()
    return dict(row) if row else None


def configured(session: Session, tenant_id: int, env: Mapping[str, str] | None = None) -> bool:
    """True when mail can be sent for the tenant (its own settings, or the deployment default)."""
    return _row(session, tenant_id) is not None or env_config(env) is not None


def effective_config(session: Session, tenant_id: int, secret_key: str,
                     env: Mapping[str, str] | None = None) -> SmtpConfig | None:
    """The tenant's settings (password decrypted; SecretUnreadable if SECRET_KEY changed), else the default."""
    row = _row(session, tenant_id)
    if row is None:
        return env_config(env)
    password = crypto.decrypt(secret_key, row["password_enc"]) if row["password_enc"] else None
    return SmtpConfig(row["host"], row["port"], row["security"], row["username"], password, row["from_addr"], "tenant")


def get_settings(session: Session, actor: Actor) -> dict | None:
    """The tenant's own settings for the admin form (never the password: ``has_password`` instead)."""
    require_admin(actor)
    row = _row(session, actor.tenant_id)
    if row is None:
        return None
    return {**{k: row[k] for k in ("host", "port", "security", "username", "from_addr", "updated_at")},
            "has_password": bool(row["password_enc"])}


def check_settings(values: Mapping[str, Any]) -> dict:
    """Clean settings from a form/API body; NotifyInputError listing *every* bad field."""
    problems, clean = [], {}
    host = str(values.get("host") or "").strip()
    if not host or len(host) > 255 or any(c.isspace() or c in "/:@" for c in host):
        problems.append(FieldProblem("host", msg("请填写 SMTP 服务器主机名（如 smtp.example.com）",
                                                 "Enter the SMTP server's host name (e.g. smtp.example.com)")))
    security = str(values.get("security") or "").strip().lower()
    if security not in SECURITY:
        problems.append(FieldProblem("security", msg("加密方式须为 none、starttls 或 ssl",
                                                     "Security must be none, starttls or ssl")))
    port = _port(values.get("port"), security)
    if port is None:
        problems.append(FieldProblem("port", msg("端口须为 1–65535 的整数", "The port must be a whole number 1–65535")))
    try:
        clean["from_addr"] = sender_address(str(values.get("from_addr") or ""))
    except NotifyInputError as exc:
        problems.extend(exc.problems)
    username = str(values.get("username") or "").strip()
    if len(username) > 255:
        problems.append(FieldProblem("username", msg("用户名太长", "The user name is too long")))
    if problems:
        raise NotifyInputError(msg("SMTP 设置有 {n} 处错误", "The SMTP settings have {n} error(s)", n=len(problems)),
                               problems=problems)
    return {**clean, "host": host, "port": port, "security": security, "username": username or None}


def _port(value: Any, security: str) -> int | None:
    if value in (None, ""):
        return DEFAULT_PORT.get(security, 25)
    try:
        port = int(str(value).strip())
    except ValueError:
        return None
    return port if 1 <= port <= 65535 else None


def save_settings(session: Session, actor: Actor, values: Mapping[str, Any], *, secret_key: str) -> None:
    """Create or replace the tenant's SMTP settings. An empty ``password`` keeps the stored one;
    ``clear_password`` true removes it (a server without authentication)."""
    require_admin(actor)
    clean = check_settings(values)
    password = values.get("password") or ""
    if len(password) > 1000:
        raise NotifyInputError(msg("密码太长", "The password is too long"), "password")
    existing = _row(session, actor.tenant_id)
    row = {**clean, "updated_at": datetime.now(timezone.utc), "updated_by": actor.user_id}
    if password:
        row["password_enc"] = crypto.encrypt(secret_key, password)
    elif values.get("clear_password") or existing is None:
        row["password_enc"] = None
    if existing is None:
        session.execute(insert(smtp_settings).values(tenant_id=actor.tenant_id, **row))
    else:
        session.execute(update(smtp_settings).where(smtp_settings.c.tenant_id == actor.tenant_id).values(**row))


def delete_settings(session: Session, actor: Actor) -> None:
    """Remove the tenant's own settings (the deployment default, if any, applies again)."""
    require_admin(actor)
    session.execute(delete(smtp_settings).where(smtp_settings.c.tenant_id == actor.tenant_id))


def send(config: SmtpConfig, message: EmailMessage, timeout: float = TIMEOUT) -> None:
    """Send one message; smtplib's exceptions (and OSError) propagate to the caller."""
    context = ssl.create_default_context()
    if config.security == "ssl":
        client = smtplib.SMTP_SSL(config.host, config.port, timeout=timeout, context=context)
    else:
        client = smtplib.SMTP(config.host, config.port, timeout=timeout)
    with client:
        client.ehlo()
        if config.security == "starttls":
            client.starttls(context=context)
            client.ehlo()
        if config.username:
            client.login(config.username, config.password or "")
        client.send_message(message)


def permanent(exc: BaseException) -> bool:
    """True when retrying cannot help this message: the server refused the recipient or the content (5xx)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(500 <= code < 600 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPDataError):
        return 500 <= exc.smtp_code < 600
    return False
