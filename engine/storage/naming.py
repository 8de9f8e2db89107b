"""Names of generated tables, columns, indexes and constraints.

Every name is built only from identifiers that passed the definitions' identifier rule and is
re-checked here with a strict regex before any DDL is built, so no user text can reach SQL as
an identifier. PostgreSQL silently truncates identifiers beyond 63 bytes (two long names could
then collide), so longer names are cut and given a short stable hash of the full name.
"""
from __future__ import annotations

import hashlib
import re

from engine.errors import DefinitionError, Problem
from engine.i18n import msg

MAX_IDENTIFIER = 63
HASH_LENGTH = 8
CHILD_SEPARATOR = "__"

# A definition key: what engine.definitions allows (lower snake case, no "__", ≤ 40 chars).
KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
# A generated SQL name: lower snake case, starts with a letter, ≤ 63 chars.
SQL_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


def check_key(key: str, path: str = "$.key") -> str:
    """Return ``key`` if it is a safe definition identifier, else raise DefinitionError."""
    if not isinstance(key, str) or not KEY_RE.match(key) or CHILD_SEPARATOR in key:
        raise DefinitionError([Problem(path, msg(
            "标识符“{k}”不合法：只能用小写字母、数字和下划线，以字母开头，最长 40 个字符，不能含“__”",
            "Identifier '{k}' is invalid: use lower-case letters, digits and underscores, start with "
            "a letter, at most 40 characters, no '__'", k=str(key)[:60]))])
    return key


def shorten(name: str) -> str:
    """``name`` itself if it fits in 63 characters, else a cut prefix + "_" + 8-hex hash of it."""
    if len(name) <= MAX_IDENTIFIER:
        return name
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:HASH_LENGTH]
    prefix = name[:MAX_IDENTIFIER - HASH_LENGTH - 1].rstrip("_")
    return f"{prefix}_{digest}"


def safe_sql_name(name: str) -> str:
    """Assert a generated name is a plain lower-case SQL identifier (defence in depth)."""
    if not SQL_NAME_RE.match(name):
        raise ValueError(f"unsafe SQL identifier {name!r}")
    return name


def record_table_name(tenant_id: int, form_key: str, path: tuple[str, ...] = ()) -> str:
    """``t1_iqc`` for the form, ``t1_iqc__characteristics__readings`` for a nested sub-table."""
    if not isinstance(tenant_id, int) or isinstance(tenant_id, bool) or tenant_id < 0:
        raise ValueError(f"tenant id must be a non-negative integer, got {tenant_id!r}")
    parts = [check_key(form_key)] + [check_key(p, "$.fields") for p in path]
    return safe_sql_name(shorten(f"t{tenant_id}_" + CHILD_SEPARATOR.join(parts)))


def index_name(table: str, column: str) -> str:
    return safe_sql_name(shorten(f"ix_{table}_{column}"))


def fk_name(table: str, column: str) -> str:
    return safe_sql_name(shorten(f"fk_{table}_{column}"))


def pk_name(table: str) -> str:
    return safe_sql_name(shorten(f"pk_{table}"))
