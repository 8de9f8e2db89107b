"""Secrets at rest (SMTP passwords, robot signing secrets): Fernet with a key derived from SECRET_KEY.

The app's SECRET_KEY is stretched with HKDF-SHA256 (a label per purpose), so the key that
encrypts stored secrets is never the one that signs session cookies. Changing SECRET_KEY makes
stored secrets unreadable: :func:`decrypt` then raises :class:`SecretUnreadable`, and the admin
enters them again.
"""
from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from engine.errors import QMSError
from engine.i18n import msg

_INFO = b"qms-notify-secrets-v1"


class SecretUnreadable(QMSError):
    code = "secret_unreadable"

    def __init__(self):
        super().__init__(msg("无法解密已保存的密码/密钥（SECRET_KEY 已更改？），请重新填写",
                             "A stored password/secret cannot be decrypted (was SECRET_KEY changed?); enter it again"))


def _fernet(secret_key: str) -> Fernet:
    if not secret_key:
        raise ValueError("secret_key is empty")
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret_key.encode("utf-8"))
    return Fernet(base64.urlsafe_b64encode(raw))


def encrypt(secret_key: str, plain: str) -> str:
    """``plain`` encrypted (a Fernet token, ASCII) under a key derived from ``secret_key``."""
    return _fernet(secret_key).encrypt(plain.encode("utf-8")).decode("ascii")


def decrypt(secret_key: str, token: str) -> str:
    """The plain text of :func:`encrypt`'s token; :class:`SecretUnreadable` when the key differs."""
    try:
        return _fernet(secret_key).decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, ValueError, UnicodeError):
        raise SecretUnreadable() from None
