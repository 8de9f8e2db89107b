"""The mail outbox: queue mail in the caller's transaction, deliver it with a job, show and manage it.

:func:`queue_mail` writes one row per recipient — ``pending`` when an SMTP server is configured
for the tenant (or by ``SMTP_*``), else ``held`` until an admin configures one and releases them
— and hands pending rows to :func:`deliver_mail` once the transaction commits. The job claims the
row with a lease (:mod:`engine.services.send_leases`), talks SMTP outside any transaction, then
records ``sent``, a retry with backoff, or ``failed`` after 8 attempts. The lead's periodic sweep
enqueues what :func:`due_jobs` returns, so a lost job or a crashed worker only delays a mail.
Every message carries a stable Message-ID per row, so a rare double send is one mail to clients
that dedupe.
"""
from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Sequence

from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.orm import Session

from engine.errors import Conflict, NotFound
from engine.i18n import msg
from engine.jobs import queue
from engine.notify.checks import body_text, email_address, subject_text
from engine.notify.crypto import SecretUnreadable
from engine.notify.errors import NotifyInputError
from engine.services import send_leases as L
from engine.services import smtp
from engine.storage.db import session_scope
from engine.storage.notify_tables import mail_outbox
from engine.types import Actor

MAIL_JOB = "engine.services.mail:deliver_mail"
MAX_RECIPIENTS = 200
MAX_HTML = 500_000


def _recipients(to: Sequence[str] | str) -> list[str]:
    addresses = [to] if isinstance(to, str) else list(to or ())
    if len(addresses) > MAX_RECIPIENTS:
        raise NotifyInputError(msg("收件人太多（最多 {n} 个）", "Too many recipients (at most {n})", n=MAX_RECIPIENTS), "to")
    seen: dict[str, str] = {}
    for address in addresses:
        clean = email_address(address)
        seen.setdefault(clean.lower(), clean)
    return list(seen.values())


def queue_mail(session: Session, tenant_id: int, to: Sequence[str], subject: str, body: str, *,
               html: str | None = None, source: str | None = None) -> list[int]:
    """One outbox row per recipient (duplicates once); returns the row ids.

    ``pending`` rows are delivered after the caller commits; without any SMTP server they are
    ``held``. NotifyInputError for an invalid address, an empty subject or a non-text body.
    """
    recipients = _recipients(to)
    subject, body = subject_text(subject), body_text(body)
    if html is not None and (not isinstance(html, str) or len(html) > MAX_HTML):
        raise NotifyInputError(msg("HTML 正文无效或太长", "The HTML body is not text or too long"), "html")
    if not recipients:
        return []
    now = L.now_utc()
    status = L.PENDING if smtp.configured(session, tenant_id) else L.HELD
    rows = [{"tenant_id": tenant_id, "to_addr": address, "subject": subject, "body": body, "html": html or None,
             "status": status, "attempts": 0, "next_attempt_at": now if status == L.PENDING else None,
             "source": (source or None) and str(source)[:200], "created_at": now} for address in recipients]
    ids = list(session.execute(insert(mail_outbox).returning(mail_outbox.c.id, sort_by_parameter_order=True),
                               rows).scalars())
    if status == L.PENDING:
        for mail_id in ids:
            queue.after_commit_job(session, MAIL_JOB, mail_id)
    return ids


# ---------------------------------------------------------------------------- the job

def _secret_key() -> str:
    """SECRET_KEY as the web app sees it (job processes share the deployment's environment)."""
    from engine.settings import load_settings
    return load_settings().secret_key


def build_message(row: dict, config: smtp.SmtpConfig) -> EmailMessage:
    """The e-mail for an outbox row, with a Message-ID stable across retries of that row."""
    message = EmailMessage()
    domain = parseaddr(config.from_addr)[1].rpartition("@")[2] or "qms.local"
    message["From"] = config.from_addr
    message["To"] = row["to_addr"]
    message["Subject"] = row["subject"]
    message["Date"] = format_datetime(L.now_utc())
    message["Message-ID"] = f"<qms.{row['tenant_id']}.{row['id']}@{domain}>"
    message["Auto-Submitted"] = "auto-generated"        # RFC 3834: no auto-replies to a robot
    message.set_content(row["body"])
    if row.get("html"):
        message.add_alternative(row["html"], subtype="html")
    return message


def _claim(engine, mail_id: int) -> tuple[dict, smtp.SmtpConfig] | None:
    """Claim the row and read the SMTP settings in one short transaction (None: nothing to do)."""
    with session_scope(engine) as session:
        row = L.claim(session, mail_outbox, mail_id, L.now_utc())
        if row is None:
            return None
        try:
            config = smtp.effective_config(session, row["tenant_id"], _secret_key())
        except SecretUnreadable as exc:
            L.mark_failed_attempt(session, mail_outbox, row, exc.message.en, L.now_utc(), permanent=True)
            return None
        if config is None:
            L.release(session, mail_outbox, row, L.HELD, "No SMTP server is configured")
            return None
        return row, config


def deliver_mail(database_url: str, mail_id: int) -> None:
    """Job: send outbox row ``mail_id`` once; a no-op when it is missing, sent, or leased by another worker."""
    engine = queue.engine_for(database_url)
    claimed = _claim(engine, mail_id)
    if claimed is None:
        return
    row, config = claimed
    try:
        smtp.send(config, build_message(row, config))    # outside any transaction: SMTP may be slow
    except Exception as exc:   # noqa: BLE001 - every failure is recorded on the row, never lost
        with session_scope(engine) as session:
            L.mark_failed_attempt(session, mail_outbox, row, f"{type(exc).__name__}: {exc}", L.now_utc(),
                                  permanent=smtp.permanent(exc))
        return
    with session_scope(engine) as session:
        L.mark_sent(session, mail_outbox, row, "sent_at", L.now_utc())


def due_jobs(session: Session, now: datetime, limit: int = 500) -> list[tuple[str, tuple]]:
    """The job calls the periodic sweep should enqueue: due pending rows and expired leases."""
    url = queue.database_url(session)
    return [(MAIL_JOB, (url, mail_id)) for mail_id in L.due_ids(session, mail_outbox, now, limit)]


# ---------------------------------------------------------------------------- admin

def list_mail(session: Session, actor: Actor, *, status: str | None = None, page: int = 1, per_page: int = 50) -> dict:
    """The tenant's outbox, newest first (admins): ``{"items", "total", "counts", "page", "per_page"}``."""
    smtp.require_admin(actor)
    page, per_page = max(1, int(page)), min(max(1, int(per_page)), 200)
    where = mail_outbox.c.tenant_id == actor.tenant_id
    if status in L.STATUSES:
        where = and_(where, mail_outbox.c.status == status)
    columns = [c for c in mail_outbox.c if c.name not in ("body", "html")]
    rows = session.execute(select(*columns).where(where).order_by(mail_outbox.c.id.desc())
                           .limit(per_page).offset((page - 1) * per_page)).mappings()
    total = session.execute(select(func.count()).select_from(mail_outbox).where(where)).scalar_one()
    counts = dict(session.execute(select(mail_outbox.c.status, func.count()).where(
        mail_outbox.c.tenant_id == actor.tenant_id).group_by(mail_outbox.c.status)).all())
    return {"items": [dict(r) for r in rows], "total": total, "counts": counts, "page": page, "per_page": per_page}


def resend(session: Session, actor: Actor, mail_id: int) -> None:
    """Send a failed (or waiting) mail again now, with a fresh set of attempts (admins)."""
    smtp.require_admin(actor)
    row = session.execute(select(mail_outbox.c.status).where(and_(
        mail_outbox.c.id == mail_id, mail_outbox.c.tenant_id == actor.tenant_id))).first()
    if row is None:
        raise NotFound(msg("邮件 {i} 不存在", "Mail {i} does not exist", i=mail_id))
    if row.status not in (L.FAILED, L.PENDING):
        raise Conflict(msg("只能重发失败或等待中的邮件", "Only failed or waiting mail can be sent again"))
    if not smtp.configured(session, actor.tenant_id):
        raise Conflict(msg("请先配置 SMTP 服务器", "Configure an SMTP server first"))
    session.execute(update(mail_outbox).where(mail_outbox.c.id == mail_id).values(
        status=L.PENDING, attempts=0, next_attempt_at=L.now_utc(), error=None))
    queue.after_commit_job(session, MAIL_JOB, mail_id)


def release_held(session: Session, actor: Actor) -> int:
    """Send every held mail of the tenant now that an SMTP server is configured; returns how many."""
    smtp.require_admin(actor)
    if not smtp.configured(session, actor.tenant_id):
        raise Conflict(msg("请先配置 SMTP 服务器", "Configure an SMTP server first"))
    ids = list(session.execute(select(mail_outbox.c.id).where(and_(
        mail_outbox.c.tenant_id == actor.tenant_id, mail_outbox.c.status == L.HELD))).scalars())
    if ids:
        session.execute(update(mail_outbox).where(mail_outbox.c.id.in_(ids)).values(
            status=L.PENDING, next_attempt_at=L.now_utc(), error=None))
        for mail_id in ids:
            queue.after_commit_job(session, MAIL_JOB, mail_id)
    return len(ids)


def send_test_mail(session: Session, actor: Actor, to: str) -> int:
    """Queue a test mail to ``to`` (admins); Conflict when no SMTP server is configured yet."""
    smtp.require_admin(actor)
    if not smtp.configured(session, actor.tenant_id):
        raise Conflict(msg("请先保存 SMTP 设置再发送测试邮件", "Save the SMTP settings before sending a test mail"))
    ids = queue_mail(session, actor.tenant_id, [to], "QMS 测试邮件 / QMS test mail",
                     "这是一封测试邮件：SMTP 设置可用。\nThis is a test mail: the SMTP settings work.\n",
                     source="test")
    return ids[0]
