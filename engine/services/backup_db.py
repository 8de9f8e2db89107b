"""The database half of a backup: a consistent dump and its restore, for SQLite and PostgreSQL.

SQLite is copied through sqlite3's online backup API (never a raw copy of a live file) and
restored by an atomic rename beside the target, the old file kept as ``<name>.before-restore-<ts>``.
PostgreSQL is dumped with ``pg_dump --format=custom`` inside an exported snapshot (so the row
counts in the manifest are those of the dump) and restored with ``pg_restore --clean
--single-transaction`` (a failure leaves the old data). When the SQLAlchemy URL carries
``options=-csearch_path=<schema>`` only that schema is dumped.
"""
from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, create_engine, inspect
from sqlalchemy.engine import make_url

from engine.errors import QMSError
from engine.i18n import msg
from engine.storage.db import make_engine, normalize_url

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")
_CONNINFO_KEY = re.compile(r"^[a-z_]+$")
_SEARCH_PATH = re.compile(r"-c\s*search_path\s*=\s*(\S+)")
#: tables whose rows do not make a target "non-empty" (an empty, migrated database has them)
_BOOKKEEPING = {"alembic_version"}


class BackupError(QMSError):
    """A backup that cannot be made or an archive that cannot be restored (nothing was changed)."""

    code = "backup_error"


@dataclass(frozen=True)
class DbTarget:
    """Where a database lives: a SQLite file, or a PostgreSQL connection for pg_dump/pg_restore."""

    url: str
    dialect: str                      # "sqlite" | "postgresql"
    sqlite_path: Path | None = None
    conninfo: str = ""                # libpq keyword=value string (no password)
    env: dict[str, str] = field(default_factory=dict)     # PGPASSWORD, kept off the command line
    schema: str | None = None         # the search_path schema of the URL, if any


def _conninfo_value(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def search_path_schema(options: str) -> str | None:
    """The first schema of ``-csearch_path=…`` in libpq ``options``; BackupError when unusable."""
    found = _SEARCH_PATH.search(options or "")
    if not found:
        return None
    schema = found.group(1).split(",")[0].strip().strip('"')
    if not _IDENT.match(schema):
        raise BackupError(msg("search_path 中的模式名“{s}”无效", "The schema name '{s}' in search_path is not valid",
                              s=schema))
    return schema


def parse_target(database_url: str) -> DbTarget:
    """The backup view of a DATABASE_URL (SQLAlchemy form, e.g. ``postgresql+psycopg://…``)."""
    url = normalize_url(database_url)
    try:
        parsed = make_url(url)
    except Exception:     # sqlalchemy.exc.ArgumentError and friends: any unreadable URL
        raise BackupError(msg("无法解析 DATABASE_URL", "DATABASE_URL cannot be parsed")) from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            raise BackupError(msg("内存数据库无法备份", "An in-memory SQLite database cannot be backed up"))
        return DbTarget(url, "sqlite", sqlite_path=Path(parsed.database).expanduser().resolve())
    if backend != "postgresql":
        raise BackupError(msg("不支持备份 {d} 数据库（仅 SQLite 与 PostgreSQL）",
                              "Backups support SQLite and PostgreSQL only, not {d}", d=backend))
    params: dict[str, str] = {}
    for key, value in (("host", parsed.host), ("port", parsed.port), ("user", parsed.username),
                       ("dbname", parsed.database)):
        if value not in (None, ""):
            params[key] = str(value)
    for key, value in parsed.query.items():
        value = value[-1] if isinstance(value, tuple) else value
        if not _CONNINFO_KEY.match(key):
            raise BackupError(msg("DATABASE_URL 的参数“{k}”无效", "The DATABASE_URL parameter '{k}' is not valid", k=key))
        params[key] = str(value)
    conninfo = " ".join(f"{k}={_conninfo_value(v)}" for k, v in params.items())
    env = {"PGPASSWORD": parsed.password} if parsed.password else {}
    return DbTarget(url, "postgresql", conninfo=conninfo, env=env, schema=search_path_schema(params.get("options", "")))


# ---------------------------------------------------------------------------- facts about a database

def table_counts(conn: Connection) -> dict[str, int]:
    """Rows per table of the connection's (default) schema, by table name."""
    quote = conn.dialect.identifier_preparer.quote
    names = sorted(inspect(conn).get_table_names())
    return {name: int(conn.exec_driver_sql(f"SELECT count(*) FROM {quote(name)}").scalar()) for name in names}


def alembic_revision(conn: Connection) -> str | None:
    """The platform migration the database is at (None when it was never migrated)."""
    if "alembic_version" not in inspect(conn).get_table_names():
        return None
    return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


def has_data(target: DbTarget) -> bool:
    """Whether the target database holds any row (besides migration bookkeeping)."""
    if target.dialect == "sqlite" and not (target.sqlite_path.exists() and target.sqlite_path.stat().st_size):
        return False
    engine = make_engine(target.url)
    try:
        with engine.connect() as conn:
            quote = conn.dialect.identifier_preparer.quote
            for name in inspect(conn).get_table_names():
                if name not in _BOOKKEEPING and \
                        conn.exec_driver_sql(f"SELECT 1 FROM {quote(name)} LIMIT 1").first() is not None:
                    return True
        return False
    finally:
        engine.dispose()


# ---------------------------------------------------------------------------- SQLite

def sqlite_dump(target: DbTarget, dest: Path) -> tuple[dict[str, int], str | None]:
    """A consistent copy of the live database in ``dest`` (online backup API); its counts and revision."""
    source = target.sqlite_path
    if not source.is_file():
        raise BackupError(msg("数据库文件 {p} 不存在", "The database file {p} does not exist", p=source))
    with closing(sqlite3.connect(source, timeout=30)) as src, \
            closing(sqlite3.connect(dest)) as copy:
        src.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")     # a self-contained file: no WAL state to carry
    return _sqlite_facts(dest)


def _sqlite_facts(path: Path) -> tuple[dict[str, int], str | None]:
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            return table_counts(conn), alembic_revision(conn)
    finally:
        engine.dispose()


def sqlite_check(path: Path) -> tuple[dict[str, int], str | None]:
    """Counts and revision of a staged copy; BackupError when it is not a sound SQLite database."""
    try:
        with closing(sqlite3.connect(path)) as conn:
            result = conn.execute("PRAGMA quick_check").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        result = str(exc)
    if result != "ok":
        raise BackupError(msg("备份中的数据库已损坏：{e}", "The database in the backup is damaged: {e}", e=result))
    return _sqlite_facts(path)


def sqlite_swap(staged: Path, target: DbTarget, stamp: str) -> Path | None:
    """Atomically put ``staged`` in place of the target file; the old file stays as
    ``<name>.before-restore-<stamp>`` (returned). Refused while another process has the database open."""
    path = target.sqlite_path
    path.parent.mkdir(parents=True, exist_ok=True)
    beside = path.with_name(f"{path.name}.restore-{stamp}.tmp")
    shutil.move(str(staged), beside)          # a rename when on the same file system
    before = None
    try:
        if path.exists():
            with closing(sqlite3.connect(path, timeout=30)) as conn:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            if Path(f"{path}-wal").exists():   # the last connection to close removes it
                raise BackupError(msg("数据库 {p} 正被其他进程使用；请先停止 QMS（网页与 worker）再恢复",
                                      "The database {p} is in use by another process; stop QMS (web and "
                                      "workers) before restoring", p=path))
            before = path.with_name(f"{path.name}.before-restore-{stamp}")
            try:
                os.link(path, before)
            except OSError:
                shutil.copy2(path, before)
        os.replace(beside, path)
    finally:
        beside.unlink(missing_ok=True)
    return before


# ---------------------------------------------------------------------------- PostgreSQL

def _run(tool: str, args: list[str], target: DbTarget) -> None:
    try:
        done = subprocess.run([tool, *args], env={**os.environ, **target.env}, capture_output=True, text=True)
    except FileNotFoundError:
        raise BackupError(msg("找不到 {t}：请安装与服务器同版本或更新的 PostgreSQL 客户端工具",
                              "{t} was not found: install the PostgreSQL client tools (the server's version "
                              "or newer)", t=tool)) from None
    if done.returncode != 0:
        detail = " | ".join(done.stderr.strip().splitlines()[-5:])
        raise BackupError(msg("{t} 失败：{e}", "{t} failed: {e}", t=tool, e=detail))


def pg_dump(target: DbTarget, dest: Path) -> tuple[dict[str, int], str | None]:
    """``pg_dump --format=custom`` of the database (or its search_path schema) into ``dest``, with
    the row counts and revision read in the very snapshot pg_dump dumps."""
    engine = make_engine(target.url)
    try:
        with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
            with conn.begin():
                snapshot = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar()
                counts, revision = table_counts(conn), alembic_revision(conn)
                args = ["--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot}",
                        f"--file={dest}", f"--dbname={target.conninfo}"]
                if target.schema:
                    args.append(f"--schema={target.schema}")
                _run("pg_dump", args, target)
    finally:
        engine.dispose()
    return counts, revision


def pg_restore(target: DbTarget, dump: Path) -> None:
    """Restore a custom-format dump over the target in one transaction (all or nothing)."""
    _run("pg_restore", ["--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
                        f"--dbname={target.conninfo}", str(dump)], target)


def current_facts(target: DbTarget) -> tuple[dict[str, int], str | None]:
    """Row counts and revision of the target database as it is now."""
    engine = make_engine(target.url)
    try:
        with engine.connect() as conn:
            return table_counts(conn), alembic_revision(conn)
    finally:
        engine.dispose()
