"""Password hashing with Argon2id (argon2-cffi): memory-hard, salted, self-describing hashes,
and the password policy every way of setting a password goes through."""
from __future__ import annotations

import secrets
import string

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from engine.i18n import Msg, msg

MIN_LENGTH = 10
MAX_LENGTH = 1024   # hashing is deliberately slow; a megabyte "password" is a denial of service
#: Well-known passwords long enough to pass the length rule (compared case-insensitively).
COMMON = frozenset((
    "1234567890", "0123456789", "0987654321", "1111111111", "12345678910", "123456789012",
    "qwertyuiop", "qwertyuiop123", "1q2w3e4r5t", "1qaz2wsx3edc", "q1w2e3r4t5", "asdfghjkl1", "zxcvbnm123",
    "password12", "password123", "password1234", "passw0rd123", "p@ssw0rd123", "p@ssword123",
    "iloveyou12", "iloveyou123", "admin12345", "admin123456", "administrator", "abc1234567",
    "abcdefghij", "welcome123", "welcome1234", "letmein123", "changeme123", "football123", "qwerty1234",
    "qwerty12345", "sunshine123", "superman123", "monkey12345", "princess123", "dragon12345",
    "woaini1314", "a123456789", "aa12345678", "qq123456789", "5201314520", "1314520520",
))


def password_problem(password: object, *, email: str = "", name: str = "") -> Msg | None:
    """Why ``password`` may not be used (bilingual), or None: at least 10 characters, not the
    user's email, email name or display name, not a well-known password, not one repeated character."""
    if not isinstance(password, str) or len(password) < MIN_LENGTH:
        return msg("密码至少 {n} 个字符", "The password needs at least {n} characters", n=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        return msg("密码最多 {n} 个字符", "The password may have at most {n} characters", n=MAX_LENGTH)
    folded = password.strip().casefold()
    email = (email or "").strip().casefold()
    own = {email, email.partition("@")[0], (name or "").strip().casefold()} - {""}
    if folded in own:
        return msg("密码不能与邮箱或姓名相同", "The password must not be your email or name")
    if folded in COMMON or len(set(folded)) == 1:
        return msg("这个密码太常见、容易被猜到，请换一个", "This password is too common and easy to guess; choose another")
    return None

_hasher = PasswordHasher()  # library defaults follow RFC 9106's recommended profile


def hash_password(password: str) -> str:
    """An Argon2id hash of ``password`` (a new random salt each time)."""
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when ``password`` matches ``stored_hash``; never raises for a bad or empty hash."""
    if not stored_hash:
        return False
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """True when the hash was made with weaker parameters than the current ones."""
    return _hasher.check_needs_rehash(stored_hash)


def generate_password(length: int = 16) -> str:
    """A random password without look-alike characters, for generated admin accounts."""
    alphabet = "".join(c for c in string.ascii_letters + string.digits if c not in "0OoIl1")
    return "".join(secrets.choice(alphabet) for _ in range(length))
