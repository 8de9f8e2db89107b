"""Robot channels (WeCom / DingTalk / Feishu group robots) configured by an admin, by key.

Rules refer to a channel by its key (``quality_group``); the webhook URL holds the robot's key,
so pages show it masked, and the signing secret is stored encrypted. Re-exported by
:mod:`engine.services.deliveries` (``list_channels``, ``save_channel``, ``delete_channel``).
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import and_, delete, insert, select, update
from sqlalchemy.orm import Session

from engine.definitions.identifiers import identifier_problem
from engine.errors import FieldProblem, NotFound
from engine.i18n import msg
from engine.notify import CHANNEL_KINDS, crypto
from engine.notify.errors import NotifyInputError
from engine.notify.text import one_line
from engine.notify.urls import mask_url
from engine.services.smtp import require_admin
from engine.storage.notify_tables import notify_channels
from engine.types import Actor

MAX_SECRET = 500


def _public(row) -> dict:
    return {"id": row["id"], "key": row["key"], "kind": row["kind"], "name": row["name"],
            "url_display": mask_url(row["url"]), "has_secret": bool(row["secret_enc"]),
            "updated_at": row["updated_at"]}


def list_channels(session: Session, actor: Actor) -> list[dict]:
    """The tenant's channels by name (masked URL, never the secret): for pickers and the admin page."""
    rows = session.execute(select(notify_channels).where(notify_channels.c.tenant_id == actor.tenant_id)
                           .order_by(notify_channels.c.name, notify_channels.c.key)).mappings()
    return [_public(r) for r in rows]


def channel_row(session: Session, tenant_id: int, key: str) -> dict:
    """The full row (URL, encrypted secret) of channel ``key``; NotFound naming the key."""
    row = session.execute(select(notify_channels).where(and_(
        notify_channels.c.tenant_id == tenant_id, notify_channels.c.key == key))).mappings().first()
    if row is None:
        raise NotFound(msg("通知渠道“{k}”不存在", "There is no notification channel '{k}'", k=str(key)[:40]))
    return dict(row)


def get_channel(session: Session, actor: Actor, key: str) -> dict:
    """One channel for the admin's edit form (masked URL, ``has_secret``)."""
    require_admin(actor)
    return _public(channel_row(session, actor.tenant_id, key))


def _checked(key: str, kind: str, name: str, url: str, secret: str | None) -> tuple[str, str, str, str | None]:
    problems = []
    problem = identifier_problem(key)
    if problem:
        problems.append(FieldProblem("key", problem))
    if kind not in CHANNEL_KINDS:
        problems.append(FieldProblem("kind", msg("渠道类型须为 {k} 之一", "The kind must be one of {k}",
                                                 k=", ".join(CHANNEL_KINDS.keys()))))
    name = one_line(name if isinstance(name, str) else "")[:200]
    if not name:
        problems.append(FieldProblem("name", msg("请填写名称", "Enter a name")))
    if kind in CHANNEL_KINDS:
        try:
            url = CHANNEL_KINDS.get(kind).check_url(url)
        except NotifyInputError as exc:
            problems.extend(exc.problems or [FieldProblem("url", exc.message)])
    if secret is not None and (not isinstance(secret, str) or len(secret) > MAX_SECRET):
        problems.append(FieldProblem("secret", msg("密钥太长", "The secret is too long")))
    if problems:
        raise NotifyInputError(msg("渠道设置有 {n} 处错误", "The channel has {n} error(s)", n=len(problems)),
                               problems=problems)
    return key, kind, name, url


def save_channel(session: Session, actor: Actor, key: str, kind: str, name: str, url: str, secret: str | None, *,
                 secret_key: str, clear_secret: bool = False) -> int:
    """Create or update channel ``key`` (admins); returns its id.

    ``secret`` empty or None keeps a stored secret, ``clear_secret`` removes it; kinds that do not
    sign (WeCom) never keep one. NotifyInputError lists every bad input at once.
    """
    require_admin(actor)
    secret = (secret or "").strip() or None
    key, kind, name, url = _checked((key or "").strip(), kind, name, url, secret)
    values = {"kind": kind, "name": name, "url": url, "updated_at": datetime.now(timezone.utc),
              "updated_by": actor.user_id}
    if not CHANNEL_KINDS.get(kind).signs or clear_secret:
        values["secret_enc"] = None
    elif secret:
        values["secret_enc"] = crypto.encrypt(secret_key, secret)
    existing = session.execute(select(notify_channels.c.id).where(and_(
        notify_channels.c.tenant_id == actor.tenant_id, notify_channels.c.key == key))).scalar()
    if existing is None:
        return session.execute(insert(notify_channels).values(tenant_id=actor.tenant_id, key=key, **values)
                               .returning(notify_channels.c.id)).scalar_one()
    session.execute(update(notify_channels).where(notify_channels.c.id == existing).values(**values))
    return existing


def delete_channel(session: Session, actor: Actor, key: str) -> None:
    """Remove channel ``key`` (admins); its past deliveries stay in the log. NotFound if absent."""
    require_admin(actor)
    row = channel_row(session, actor.tenant_id, key)
    session.execute(delete(notify_channels).where(notify_channels.c.id == row["id"]))
