"""Electronic signatures on flow steps (21 CFR Part 11 style, see qms-reference §5.1).

Signing asks for the signer's password again (counted like sign-in attempts, so guessing is
rate-limited); the signature keeps the printed name, user id, UTC time and meaning, and two
hashes: ``content_hash`` over the record's content at the signed version, and
``signature_hash`` over everything the signature says. :func:`verify` recomputes both: a changed
signature row no longer verifies, and a record changed after signing no longer matches.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import and_, insert, select
from sqlalchemy.orm import Session

from engine.auth.passwords import verify_password
from engine.errors import FieldProblem, NotFound, RecordValidationError, TooManyAttempts
from engine.flows.model import NodeDef
from engine.i18n import msg
from engine.services import logins
from engine.storage.db import stored_utc
from engine.storage.flow_tables import flow_signatures as sigs
from engine.storage.platform import login_attempts, users
from engine.types import Actor


def _digest(data: Any) -> str:
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def content_hash(form_key: str, record_id: int, version: int, data: dict) -> str:
    """The hash a signature binds to: the record's identity, version and JSON content."""
    return _digest({"form": form_key, "record": record_id, "version": version, "data": data})


def _signature_hash(row: dict) -> str:
    keys = ("tenant_id", "instance_id", "task_id", "form_key", "record_id", "record_version", "user_id",
            "printed_name", "meaning", "content_hash")
    signed_at = stored_utc(row["signed_at"]).replace(tzinfo=None)
    return _digest({**{k: row[k] for k in keys}, "meaning_label": row["meaning_label"],
                    "signed_at": signed_at.isoformat(timespec="microseconds")})


class SignatureRejected(RecordValidationError):
    """A wrong signing password. The action is undone, so its caller records the failed attempt
    afterwards with :func:`record_rejection` (in the transaction that follows the rollback) —
    otherwise guessing would never reach the rate limit."""

    def __init__(self, tenant_id: int, email: str, at):
        super().__init__([FieldProblem("password", msg(
            "密码不正确，签名需要重新输入你的登录密码", "Wrong password: signing needs your sign-in password again"))])
        self.tenant_id, self.email, self.at = tenant_id, email, at


def record_rejection(session: Session, rejected: SignatureRejected) -> None:
    """Count a failed signing attempt like a failed sign-in (after the action was rolled back)."""
    session.execute(insert(login_attempts).values(tenant_id=rejected.tenant_id, email=rejected.email, ip=None,
                                                  at=rejected.at, success=False))


def check_password(session: Session, actor: Actor, password: str | None, now) -> dict:
    """The signer's user row when ``password`` is theirs; SignatureRejected otherwise (rate-limited)."""
    user = session.execute(select(users).where(and_(users.c.tenant_id == actor.tenant_id,
                                                    users.c.id == actor.user_id))).mappings().first()
    if user is None:
        raise NotFound(msg("用户不存在", "The user does not exist"))
    wait = logins._locked_for(session, actor.tenant_id, user["email"], None, now)
    if wait:
        raise TooManyAttempts(wait)
    ok = isinstance(password, str) and bool(password) and verify_password(user["password_hash"], password)
    if not ok:
        raise SignatureRejected(actor.tenant_id, user["email"], now)
    session.execute(insert(login_attempts).values(tenant_id=actor.tenant_id, email=user["email"], ip=None, at=now,
                                                  success=True))
    return dict(user)


def sign(move, node: NodeDef, task: dict, password: str | None) -> int:
    """Sign the record at its current version for ``task``; returns the signature id."""
    from engine.services import records as record_service
    session, actor = move.session, move.actor
    user = check_password(session, actor, password, move.now)
    record = record_service.get_record(session, Actor.system(actor.tenant_id), move.row["form_key"],
                                       move.row["record_id"])
    rule = node.signature
    row = {"tenant_id": actor.tenant_id, "instance_id": move.row["id"], "task_id": task["id"],
           "form_key": move.row["form_key"], "record_id": record.id, "record_version": record.version,
           "user_id": actor.user_id, "printed_name": user["name"], "meaning": rule.meaning,
           "meaning_label": {"zh-CN": rule.label.zh, "en": rule.label.en}, "signed_at": move.now,
           "content_hash": content_hash(record.form_key, record.id, record.version, record.data)}
    row["signature_hash"] = _signature_hash(row)
    signature_id = session.execute(insert(sigs).values(**row).returning(sigs.c.id)).scalar_one()
    from engine.services import flows
    flows.event(move, "signed", node.id, task_id=task["id"],
                data={"signature_id": signature_id, "meaning": rule.meaning, "label": row["meaning_label"],
                      "printed_name": user["name"]})
    return signature_id


def record_signatures(session: Session, tenant_id: int, form_key: str, record_id: int) -> list[dict]:
    """The record's signatures, oldest first, each with ``intact`` and ``matches_record``."""
    from engine.services import records as record_service
    rows = [dict(r) for r in session.execute(select(sigs).where(and_(
        sigs.c.tenant_id == tenant_id, sigs.c.form_key == form_key, sigs.c.record_id == record_id))
        .order_by(sigs.c.id)).mappings()]
    try:
        current = record_service.get_record(session, Actor.system(tenant_id), form_key, record_id)
        now_hash = content_hash(current.form_key, current.id, current.version, current.data)
    except NotFound:
        now_hash = None
    for row in rows:
        row["intact"] = _signature_hash(row) == row["signature_hash"]
        row["matches_record"] = row["intact"] and row["content_hash"] == now_hash
    return rows


def verify(session: Session, tenant_id: int, signature_id: int) -> dict:
    """One signature with ``intact`` (its own hash recomputes) and ``matches_record`` (the record
    still has the content that was signed)."""
    row = session.execute(select(sigs.c.form_key, sigs.c.record_id).where(and_(
        sigs.c.tenant_id == tenant_id, sigs.c.id == signature_id))).first()
    if row is None:
        raise NotFound(msg("签名 {i} 不存在", "Signature {i} does not exist", i=signature_id))
    return next(s for s in record_signatures(session, tenant_id, row.form_key, row.record_id) if s["id"] == signature_id)
