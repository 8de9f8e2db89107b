"""Backup and restore of a whole deployment: the database, the uploaded files and the secret key.

An archive is one ``.tar.gz``: the database dump (``database/qms.sqlite3`` or ``database/qms.pgdump``,
see :mod:`engine.services.backup_db`), ``uploads/…`` (the bytes of every uploaded file),
``secret_key`` (when the data directory keeps one: stored SMTP passwords are encrypted with it) and
``manifest.json`` last — format version, creation time (UTC), product version, the database's
migration revision, dialect, rows per table and the SHA-256 and size of every other member. It is
written to a temporary name and renamed, so a half-written archive never carries the final name.

Restoring stages and verifies the whole archive first: a corrupt, truncated or foreign archive, a
dialect mismatch or a non-empty target without ``force`` is refused with a bilingual message and
nothing is changed. The previous data is kept aside (``*.before-restore-<UTC stamp>``); a backup
from an older release is migrated to the current schema afterwards.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import secrets
import shutil
import tarfile
import tempfile
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, BinaryIO

from engine.i18n import Msg, msg
from engine.services import backup_db as dbs
from engine.services.backup_db import BackupError
from engine.storage.db import alembic_config, upgrade_database

__all__ = ["BackupError", "RestoreResult", "default_archive_name", "make_backup", "restore_backup"]

FORMAT = "qms-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SECRET = "secret_key"
UPLOADS = "uploads"
DB_MEMBER = {"sqlite": "database/qms.sqlite3", "postgresql": "database/qms.pgdump"}
_DIALECT_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
_MAX_MANIFEST = 64 * 1024 * 1024
_CHUNK = 1024 * 1024


def utc_stamp(now: datetime | None = None) -> str:
    return (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%SZ")


def default_archive_name(now: datetime | None = None) -> str:
    """``qms-backup-<UTC timestamp>.tar.gz``."""
    return f"qms-backup-{utc_stamp(now)}.tar.gz"


def product_version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("qms-platform")
    except PackageNotFoundError:
        return "unknown"


# ---------------------------------------------------------------------------- backup

class _Hashing:
    """A reader that hashes and counts what tarfile copies out of it."""

    def __init__(self, raw: BinaryIO):
        self.raw, self.sha, self.size = raw, hashlib.sha256(), 0

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        self.sha.update(data)
        self.size += len(data)
        return data


def _add(tar: tarfile.TarFile, name: str, path: Path, files: dict[str, dict]) -> None:
    """Add the file at ``path`` as member ``name``, recording its checksum (skipped if it vanished)."""
    try:
        handle = path.open("rb")
    except FileNotFoundError:      # an upload removed while the backup ran: not in the snapshot's data
        return
    with handle:
        stat = os.fstat(handle.fileno())
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = stat.st_size, int(stat.st_mtime), 0o600
        reader = _Hashing(handle)
        tar.addfile(info, reader)
    files[name] = {"sha256": reader.sha.hexdigest(), "size": reader.size}


def _upload_files(uploads: Path) -> list[tuple[Path, str]]:
    if not uploads.is_dir():
        return []
    return [(p, p.relative_to(uploads).as_posix()) for p in sorted(uploads.rglob("*"))
            if p.is_file() and not p.is_symlink()]


def make_backup(database_url: str, data_dir: Path | str, output_path: Path | str) -> dict[str, Any]:
    """Write a backup archive of the database and the data directory's files; returns its manifest."""
    target, data_dir = dbs.parse_target(database_url), Path(data_dir)
    output = Path(output_path).expanduser().absolute()
    if output.exists():
        raise BackupError(msg("文件 {p} 已存在，请换一个名字", "{p} already exists; choose another name", p=output))
    if not output.parent.is_dir():
        raise BackupError(msg("目录 {p} 不存在", "The directory {p} does not exist", p=output.parent))
    partial = output.with_name(f".{output.name}.partial-{secrets.token_hex(4)}")
    work = Path(tempfile.mkdtemp(prefix=".qms-backup-", dir=output.parent))
    try:
        dump = work / Path(DB_MEMBER[target.dialect]).name
        counts, revision = (dbs.sqlite_dump if target.dialect == "sqlite" else dbs.pg_dump)(target, dump)
        files: dict[str, dict] = {}
        with tarfile.open(partial, "w:gz", compresslevel=6) as tar:
            os.chmod(partial, 0o600)       # it holds password hashes and the secret key
            _add(tar, DB_MEMBER[target.dialect], dump, files)
            for path, rel in _upload_files(data_dir / UPLOADS):
                _add(tar, f"{UPLOADS}/{rel}", path, files)
            if (data_dir / SECRET).is_file():
                _add(tar, SECRET, data_dir / SECRET, files)
            manifest = {"format": FORMAT, "format_version": FORMAT_VERSION,
                        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                        "product_version": product_version(), "alembic_revision": revision,
                        "dialect": target.dialect, "schema": target.schema, "tables": counts,
                        "uploads": sum(1 for n in files if n.startswith(UPLOADS + "/")), "files": files}
            data = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8")
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime, info.mode = len(data), int(datetime.now(timezone.utc).timestamp()), 0o600
            tar.addfile(info, io.BytesIO(data))
        with partial.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(partial, output)
    except OSError as exc:
        raise BackupError(msg("无法写入备份 {p}：{e}", "Cannot write the backup {p}: {e}", p=output,
                              e=exc.strerror or exc)) from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
        partial.unlink(missing_ok=True)
    return manifest


# ---------------------------------------------------------------------------- reading an archive

def _refused(reason: Msg) -> BackupError:
    return BackupError(Msg(f"备份文件无效，未做任何更改：{reason.zh}",
                           f"The backup archive is not valid; nothing was changed: {reason.en}"))


def _member_name(member: tarfile.TarInfo) -> str:
    name = member.name
    parts = name.split("/")
    known = name in (MANIFEST, SECRET, *DB_MEMBER.values()) or (
        len(parts) >= 2 and parts[0] == UPLOADS
        and all(p not in ("", ".", "..") and "\\" not in p and "\x00" not in p for p in parts[1:]))
    if not known or not member.isfile():
        raise _refused(msg("含有不属于 QMS 备份的条目“{n}”", "it holds '{n}', which is not part of a QMS backup",
                           n=name[:200]))
    return name


def _copy_hashing(source: BinaryIO, dest: Path) -> dict:
    sha, size = hashlib.sha256(), 0
    with dest.open("xb") as out:
        while chunk := source.read(_CHUNK):
            sha.update(chunk)
            size += len(chunk)
            out.write(chunk)
    return {"sha256": sha.hexdigest(), "size": size}


def _extract(archive: Path, staging: Path) -> tuple[bytes | None, dict[str, dict]]:
    """Every member into ``staging`` with its checksum; the manifest's bytes."""
    found: dict[str, dict] = {}
    manifest = None
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                name = _member_name(member)
                if name in found or (name == MANIFEST and manifest is not None):
                    raise _refused(msg("条目“{n}”出现了两次", "the member '{n}' appears twice", n=name[:200]))
                source = tar.extractfile(member)
                if name == MANIFEST:
                    if member.size > _MAX_MANIFEST:
                        raise _refused(msg("manifest.json 过大", "manifest.json is too large"))
                    manifest = source.read()
                    continue
                dest = staging / name
                dest.parent.mkdir(parents=True, exist_ok=True)
                found[name] = _copy_hashing(source, dest)
    except (tarfile.TarError, EOFError, zlib.error) as exc:
        raise _refused(msg("不是完整的 tar.gz 文件（已截断或已损坏：{e}）",
                           "it is not a complete tar.gz file (truncated or damaged: {e})", e=exc)) from None
    except OSError as exc:        # gzip.BadGzipFile included
        raise _refused(msg("无法读取：{e}", "it cannot be read: {e}", e=exc.strerror or exc)) from None
    return manifest, found


def _checked_manifest(raw: bytes | None, found: dict[str, dict]) -> dict[str, Any]:
    if raw is None:
        raise _refused(msg("缺少 manifest.json（不是 QMS 备份，或已截断）",
                           "manifest.json is missing (not a QMS backup, or truncated)"))
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise _refused(msg("manifest.json 不是有效的 JSON", "manifest.json is not valid JSON")) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _refused(msg("不是 QMS 备份", "it is not a QMS backup"))
    version = manifest.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise _refused(msg("备份格式版本 {v} 不受此版本支持", "backup format version {v} is not supported by this release",
                           v=version))
    files = manifest.get("files")
    if manifest.get("dialect") not in DB_MEMBER or not isinstance(files, dict) \
            or not isinstance(manifest.get("tables"), dict) or DB_MEMBER[manifest["dialect"]] not in files:
        raise _refused(msg("manifest.json 不完整", "manifest.json is incomplete"))
    bad = sorted(n for n in set(files) | set(found) if files.get(n) != found.get(n))
    if bad:
        raise _refused(msg("校验和不符或条目缺失：{n}", "checksum mismatch or missing member: {n}",
                           n=", ".join(bad[:5]) + (" …" if len(bad) > 5 else "")))
    return manifest


def read_archive(archive: Path | str, staging: Path) -> dict[str, Any]:
    """Extract ``archive`` into the empty directory ``staging`` and verify it; its manifest."""
    archive = Path(archive)
    if not archive.is_file():
        raise BackupError(msg("备份文件 {p} 不存在", "The backup archive {p} does not exist", p=archive))
    raw, found = _extract(archive, staging)
    return _checked_manifest(raw, found)


# ---------------------------------------------------------------------------- restore

@dataclass
class RestoreResult:
    """What a restore did: the manifest, the restored rows per table and how they compare."""

    manifest: dict[str, Any]
    counts: dict[str, int]
    mismatches: list[tuple[str, int | None, int | None]] = field(default_factory=list)   # table, manifest, now
    extra_tables: list[str] = field(default_factory=list)      # in the target, not in the backup
    kept: list[Path] = field(default_factory=list)              # the previous data, moved aside
    upgraded: bool = False            # the restored database was migrated to this release's schema
    upgraded_from: str | None = None


def _known_revision(revision: str | None) -> tuple[bool, bool]:
    """(known to this release, is the head)."""
    from alembic.script import ScriptDirectory
    script = ScriptDirectory.from_config(alembic_config())
    heads = set(script.get_heads())
    if revision is None:
        return True, False
    try:
        known = script.get_revision(revision) is not None
    except Exception:      # alembic's ResolutionError / CommandError for an unknown id
        known = False
    return known, revision in heads


def _check_target(manifest: dict, target: dbs.DbTarget, data_dir: Path, force: bool) -> None:
    if manifest["dialect"] != target.dialect:
        src, dst = _DIALECT_NAMES[manifest["dialect"]], _DIALECT_NAMES[target.dialect]
        raise BackupError(msg("这是 {s} 数据库的备份，不能恢复到 {d}（DATABASE_URL）；请恢复到 {s} 数据库",
                              "This is a backup of a {s} database; it cannot be restored into {d} (DATABASE_URL). "
                              "Restore it into a {s} database", s=src, d=dst))
    if target.dialect == "postgresql" and manifest.get("schema") != target.schema:
        raise BackupError(msg("备份中的模式为 {a}，目标使用 {b}；请使用相同的 search_path",
                              "The backup holds schema {a}, the target uses {b}; use the same search_path",
                              a=manifest.get("schema") or "public", b=target.schema or "public"))
    known, _head = _known_revision(manifest.get("alembic_revision"))
    if not known:
        raise BackupError(msg("备份来自更新的版本（迁移 {r}）；请先升级 QMS 再恢复",
                              "The backup comes from a newer release (migration {r}); upgrade QMS before restoring",
                              r=manifest.get("alembic_revision")))
    uploads = data_dir / UPLOADS
    if not force and (dbs.has_data(target) or (uploads.is_dir() and any(uploads.iterdir()))):
        raise BackupError(msg("目标数据库或上传目录已有数据；确认覆盖请加 --force（原数据会保留一份副本）",
                              "The target database or uploads directory already holds data; add --force to "
                              "overwrite it (the old data is kept aside)"))


def _swap_in(staged: Path, live: Path, stamp: str, kept: list[Path]) -> None:
    """Put ``staged`` (file or directory, may be missing) at ``live``; what was there is kept aside."""
    if live.is_dir() and not live.is_symlink() and not any(live.iterdir()):
        live.rmdir()
    elif live.exists() or live.is_symlink():
        aside = live.with_name(f"{live.name}.before-restore-{stamp}")
        os.rename(live, aside)
        kept.append(aside)
    if staged.exists():
        os.rename(staged, live)


def restore_backup(archive: Path | str, database_url: str, data_dir: Path | str, force: bool = False) \
        -> RestoreResult:
    """Verify ``archive`` then restore it into the database and data directory (see the module docstring)."""
    target, data_dir = dbs.parse_target(database_url), Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=data_dir))
    stamp = utc_stamp()
    try:
        manifest = read_archive(archive, staging)
        _check_target(manifest, target, data_dir, force)
        dump = staging / DB_MEMBER[target.dialect]
        kept: list[Path] = []
        if target.dialect == "sqlite":
            dbs.sqlite_check(dump)
            before = dbs.sqlite_swap(dump, target, stamp)
            kept += [before] if before else []
        else:
            dbs.pg_restore(target, dump)
        _swap_in(staging / UPLOADS, data_dir / UPLOADS, stamp, kept)
        secret = data_dir / SECRET
        if (staging / SECRET).exists() and not (secret.is_file() and secret.read_bytes() == (staging / SECRET).read_bytes()):
            _swap_in(staging / SECRET, secret, stamp, kept)
        counts, revision = dbs.current_facts(target)
        result = RestoreResult(manifest, counts, kept=kept)
        expected = manifest["tables"]
        result.mismatches = [(t, expected.get(t), counts.get(t)) for t in sorted(expected)
                             if expected.get(t) != counts.get(t)]
        result.extra_tables = sorted(set(counts) - set(expected))
        if not _known_revision(revision)[1]:
            upgrade_database(target.url)
            result.upgraded, result.upgraded_from = True, revision
        return result
    except OSError as exc:
        raise BackupError(msg("恢复失败：{e}", "The restore failed: {e}", e=exc.strerror or exc)) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
