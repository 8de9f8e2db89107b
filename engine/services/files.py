"""Uploaded files: save the bytes outside the web root, read them back with a permission check,
and bind them to the record that uses them.

Bytes live in ``<uploads_dir>/<random key>`` (the name never comes from the user); the
``files`` row keeps the sanitised name, the content type, size and SHA-256. Who may read a file:

- before a record uses it: only the user who uploaded it;
- once bound to a record: anyone who can read that record (``records.get_record`` succeeds).

Anything else — another tenant's file, a file the reader may not see — is NotFound, so a
file's existence is never revealed. Each function runs in the caller's transaction.
"""
from __future__ import annotations

import hashlib
import mimetypes
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

from sqlalchemy import and_, insert, select, update
from sqlalchemy.orm import Session

from engine.errors import NotFound, PermissionDenied, QMSError
from engine.i18n import msg
from engine.storage.platform import files
from engine.types import Actor

FILE_TYPES = ("attachment", "image", "signature")
#: What an attachment field takes when its definition says nothing (no scripts, no HTML, no SVG).
SAFE_EXTENSIONS = (".pdf", ".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".txt", ".csv", ".xlsx",
                   ".xls", ".docx", ".doc", ".pptx", ".ppt", ".zip", ".7z", ".dxf", ".dwg", ".step", ".stp",
                   ".igs", ".iges", ".json", ".xml", ".log", ".msg", ".eml", ".odt", ".ods")
#: Raster images recognised from their first bytes; only these are ever served inline.
_MAGIC = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"), (b"GIF87a", "image/gif"),
          (b"GIF89a", "image/gif"), (b"BM", "image/bmp"))
_IMAGE_EXTENSIONS = {".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp"}
#: Refused whatever a field's ``accept`` says: pages, scripts and programs a browser or a desktop could run.
NEVER_ACCEPTED = frozenset((".html", ".htm", ".xhtml", ".shtml", ".svg", ".svgz", ".js", ".mjs", ".hta", ".exe",
                            ".com", ".bat", ".cmd", ".scr", ".msi", ".ps1", ".vbs", ".jar", ".sh", ".php", ".jsp",
                            ".asp", ".aspx", ".cgi", ".swf", ".xht"))
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f<>:\"/\\|?*]+")


class UploadError(QMSError):
    """An upload that cannot be kept (too large, a type the field does not take, empty)."""

    code = "invalid_upload"


@dataclass(frozen=True)
class StoredFile:
    """One file row, with the path of its bytes."""

    id: int
    tenant_id: int
    name: str
    content_type: str
    size: int
    sha256: str
    path: Path
    form_key: str | None
    record_id: int | None
    field_key: str | None
    created_by: int | None

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")

    def descriptor(self) -> dict[str, Any]:
        """What a file field stores: id, name, size, content type."""
        return {"id": self.id, "name": self.name, "size": self.size, "content_type": self.content_type}


# ---------------------------------------------------------------------------- names and types

def sanitize_name(name: str | None) -> str:
    """A safe display name: no directories, control or reserved characters; at most 200 chars."""
    base = re.split(r"[/\\]", unicodedata.normalize("NFC", name or ""))[-1]
    base = _UNSAFE_NAME.sub("_", base).strip(" .")
    if not base:
        return "file"
    stem, dot, ext = base.rpartition(".")
    if dot and len(ext) <= 10 and stem:
        return stem[:200 - len(ext) - 1] + "." + ext
    return base[:200]


def extension(name: str) -> str:
    stem, dot, ext = name.rpartition(".")
    return f".{ext.lower()}" if dot and stem else ""


def sniff_image(head: bytes) -> str | None:
    """The image type the bytes really are (PNG, JPEG, GIF, WebP, BMP), else None."""
    for magic, ctype in _MAGIC:
        if head.startswith(magic):
            return ctype
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def content_type_for(name: str, head: bytes) -> str:
    """Images by their bytes; a PDF by its signature; anything else by extension (never image/*,
    never HTML or script types, which the browser could run)."""
    image = sniff_image(head)
    if image:
        return image
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    guessed = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if guessed.startswith(("image/", "text/html", "application/javascript", "text/javascript")) \
            or "xml" in guessed or "svg" in guessed:
        return "application/octet-stream" if not guessed.startswith("text/") else "text/plain"
    return guessed


def accepts(accept: Sequence[str] | None, name: str, ctype: str, default: Sequence[str] = SAFE_EXTENSIONS) -> bool:
    """Whether a file fits ``accept`` (".pdf", "image/*", "application/pdf"); ``default`` when unset."""
    patterns = [str(p).lower() for p in (accept or default)]
    ext = extension(name)
    for pattern in patterns:
        if pattern.startswith(".") and ext == pattern:
            return True
        if pattern.endswith("/*") and ctype.startswith(pattern[:-1]):
            return True
        if pattern == ctype:
            return True
    return False


# ---------------------------------------------------------------------------- saving

def save_file(session: Session, actor: Actor, uploads_dir: Path, data: bytes, name: str | None, *,
              accept: Sequence[str] | None = None, images_only: bool = False, max_bytes: int) -> StoredFile:
    """Check and keep an upload; UploadError (bilingual) when it is refused.

    ``accept``: the field's allowed types (default: a list of safe document and image types);
    ``images_only``: image/photo/signature fields take only bytes that really are an image.
    """
    if actor.user_id is None:
        raise PermissionDenied(msg("需要登录后上传文件", "Sign in to upload files"))
    clean = sanitize_name(name)
    _check_upload(data, clean, accept, images_only, max_bytes)
    ctype = content_type_for(clean, data[:32])
    key = secrets.token_hex(24)
    uploads_dir.mkdir(parents=True, exist_ok=True)
    path = uploads_dir / key
    path.write_bytes(data)
    path.chmod(0o600)
    row = {"tenant_id": actor.tenant_id, "name": clean, "content_type": ctype, "size": len(data),
           "sha256": hashlib.sha256(data).hexdigest(), "storage_key": key, "created_by": actor.user_id,
           "created_at": datetime.now(timezone.utc)}
    file_id = session.execute(insert(files).values(row)).inserted_primary_key[0]
    return StoredFile(file_id, actor.tenant_id, clean, ctype, len(data), row["sha256"], path,
                      None, None, None, actor.user_id)


def _check_upload(data: bytes, name: str, accept, images_only: bool, max_bytes: int) -> None:
    if not data:
        raise UploadError(msg("文件“{n}”是空的", "The file '{n}' is empty", n=name))
    if len(data) > max_bytes:
        raise UploadError(msg("文件“{n}”超过 {m} MB 的上限", "The file '{n}' is larger than the {m} MB limit",
                              n=name, m=round(max_bytes / 1024 / 1024, 1)))
    if extension(name) in NEVER_ACCEPTED:
        raise UploadError(msg("出于安全原因不接受“{e}”类型的文件“{n}”", "Files of type '{e}' are never accepted, for safety: '{n}'",
                              e=extension(name), n=name))
    image = sniff_image(data[:32])
    if (images_only or extension(name) in _IMAGE_EXTENSIONS) and image is None:
        raise UploadError(msg("文件“{n}”不是有效的图片（支持 PNG、JPEG、GIF、WebP、BMP）",
                              "The file '{n}' is not a valid image (PNG, JPEG, GIF, WebP or BMP)", n=name))
    ctype = content_type_for(name, data[:32])
    default = ("image/*",) if images_only else SAFE_EXTENSIONS
    if not accepts(accept, name, ctype, default):
        allowed = ", ".join(accept or default)
        raise UploadError(msg("不允许上传此类型的文件“{n}”；允许：{a}", "The file type of '{n}' is not allowed; allowed: {a}",
                              n=name, a=allowed))


# ---------------------------------------------------------------------------- reading

def _stored(row: Mapping, uploads_dir: Path) -> StoredFile:
    return StoredFile(row["id"], row["tenant_id"], row["name"], row["content_type"], row["size"], row["sha256"],
                      uploads_dir / row["storage_key"], row["form_key"], row["record_id"], row["field_key"],
                      row["created_by"])


def _not_found(file_id: Any) -> NotFound:
    return NotFound(msg("文件 {i} 不存在", "File {i} does not exist", i=file_id))


def get_file(session: Session, actor: Actor, file_id: int, uploads_dir: Path) -> StoredFile:
    """A file the actor may read (see the module docstring); NotFound otherwise."""
    row = session.execute(select(files).where(and_(files.c.id == file_id, files.c.tenant_id == actor.tenant_id))) \
        .mappings().first()
    if row is None:
        raise _not_found(file_id)
    if row["record_id"] is None:
        if row["created_by"] != actor.user_id or actor.user_id is None:
            raise _not_found(file_id)
    else:
        from engine.services import records   # records → files is the other direction of use
        try:
            records.get_record(session, actor, row["form_key"], int(row["record_id"]))
        except (NotFound, PermissionDenied):
            raise _not_found(file_id) from None
    return _stored(row, uploads_dir)


# ---------------------------------------------------------------------------- binding to records

def file_refs(fields: Iterable, data: Mapping[str, Any], prefix: str = "", dotted: str = "") \
        -> Iterator[tuple[str, str, Any]]:
    """(problem path, dotted field key, file id) of every file in record ``data`` (through sub-tables)."""
    for f in fields:
        value = data.get(f.key) if isinstance(data, Mapping) else None
        key = f"{dotted}{f.key}"
        if f.fields and isinstance(value, list):
            for i, row in enumerate(value):
                yield from file_refs(f.fields, row, f"{prefix}{f.key}[{i}].", key + ".")
        elif f.type in FILE_TYPES and value:
            items = value if isinstance(value, list) else [value]
            for item in items:
                if isinstance(item, Mapping) and item.get("id") not in (None, ""):
                    yield f"{prefix}{f.key}", key, item.get("id")


def unusable_files(session: Session, actor: Actor, ids: Iterable[Any], form_key: str,
                   record_id: int | None = None) -> set[Any]:
    """File ids the actor cannot put into this record: unknown, another tenant's, another user's
    unbound upload, or already bound to a different record."""
    wanted = {i for i in ids}
    numeric = {int(i) for i in wanted if _as_int(i) is not None}
    if not numeric:
        return wanted
    rows = session.execute(select(files.c.id, files.c.created_by, files.c.form_key, files.c.record_id).where(and_(
        files.c.tenant_id == actor.tenant_id, files.c.id.in_(numeric)))).all()
    ok = {r.id for r in rows if (r.record_id is None and r.created_by == actor.user_id)
          or (record_id is not None and r.record_id == record_id and r.form_key == form_key)}
    return {i for i in wanted if _as_int(i) not in ok}


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def bind_files(session: Session, actor: Actor, form_key: str, record_id: int, fields: Iterable,
               data: Mapping[str, Any]) -> int:
    """Attach the actor's unbound uploads used in ``data`` to the record; returns how many were bound."""
    bound = 0
    for _path, dotted, file_id in file_refs(list(fields), data):
        ident = _as_int(file_id)
        if ident is None:
            continue
        result = session.execute(update(files).where(and_(
            files.c.id == ident, files.c.tenant_id == actor.tenant_id, files.c.record_id.is_(None),
            files.c.created_by == actor.user_id)).values(form_key=form_key, record_id=record_id, field_key=dotted))
        bound += result.rowcount or 0
    return bound


def record_files(session: Session, tenant_id: int, form_key: str, record_id: int, uploads_dir: Path) \
        -> list[StoredFile]:
    """The files bound to one record (the caller has checked the record may be read)."""
    rows = session.execute(select(files).where(and_(files.c.tenant_id == tenant_id, files.c.form_key == form_key,
                                                    files.c.record_id == record_id)).order_by(files.c.id)).mappings()
    return [_stored(r, uploads_dir) for r in rows]
