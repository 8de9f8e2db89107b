"""Files: attachments, images/photos and signatures.

A value is a list of file descriptors: objects with at least an ``id`` (from the upload
service) and optionally ``name``, ``size`` (bytes), ``content_type``, ``url``. A single
descriptor is accepted and wrapped in a list. When a descriptor says its type or size, the
field's ``accept`` / ``max_size_mb`` options are enforced here too (the upload service checks
the bytes themselves).
"""
from __future__ import annotations

from typing import ClassVar

from engine.expressions.types import FILE
from engine.fields.base import Column, FieldType, StorageKind, invalid, shown
from engine.i18n import Msg

MAX_FILES = 100
# A file descriptor as the upload service hands it out (extra properties are kept as given).
FILE_SCHEMA = {
    "type": "object",
    "required": ["id"],
    "properties": {
        "id": {"type": ["string", "number"], "minLength": 1},
        "name": {"type": "string"},
        "size": {"type": "number", "minimum": 0},
        "content_type": {"type": "string"},
        "url": {"type": "string"},
    },
}


def _matches(descriptor: dict, accept) -> bool:
    """Whether a descriptor's content type / extension fits one of ``accept`` ("image/*", ".pdf")."""
    ctype = str(descriptor.get("content_type") or "").lower()
    name = str(descriptor.get("name") or "").lower()
    for pattern in accept:
        pattern = str(pattern).lower()
        if pattern.startswith(".") and name.endswith(pattern):
            return True
        if pattern.endswith("/*") and ctype.startswith(pattern[:-1]):
            return True
        if pattern == ctype:
            return True
    return not ctype and not name


class AttachmentType(FieldType):
    """Any uploaded files (certificate of analysis, drawings, test reports)."""

    type = "attachment"
    label = Msg("附件", "Attachment")
    group = "media"
    default_accept: ClassVar[tuple[str, ...]] = ()
    options_schema = {
        "multiple": {"type": "boolean", "default": True},
        "max_files": {"type": "integer", "minimum": 1, "maximum": MAX_FILES},
        "accept": {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 100}},
        "max_size_mb": {"type": "number", "exclusiveMinimum": 0, "maximum": 1024},
    }

    def expr_type(self, field, ctx=None):
        return FILE

    def storage(self, field, ctx=None):
        return Column(StorageKind.JSON)

    def limit(self, field) -> int:
        """How many files the field takes."""
        if not field.option("multiple", True):
            return 1
        return field.option("max_files") or MAX_FILES

    def coerce(self, field, value):
        if value is None or value == [] or value == "":
            return None
        items = [value] if isinstance(value, dict) else value
        if not isinstance(items, (list, tuple)):
            raise invalid("应为文件列表，收到 {v}", "Expected a list of files, got {v}", v=shown(value))
        if len(items) > self.limit(field):
            raise invalid("最多 {n} 个文件，收到 {m} 个", "At most {n} file(s), got {m}", n=self.limit(field), m=len(items))
        return [self._descriptor(field, item) for item in items]

    def _descriptor(self, field, item) -> dict:
        if not isinstance(item, dict) or item.get("id") in (None, "") or isinstance(item.get("id"), (bool, dict, list)):
            raise invalid("文件信息应为带 id 的对象，收到 {v}", "A file must be an object with an id, got {v}", v=shown(item))
        accept = field.option("accept") or self.default_accept
        if accept and not _matches(item, accept):
            raise invalid("文件“{n}”的类型不允许；允许：{a}", "The file '{n}' is not an allowed type; allowed: {a}",
                          n=shown(item.get("name") or item["id"]), a=", ".join(accept))
        size, max_mb = item.get("size"), field.option("max_size_mb")
        if max_mb and isinstance(size, (int, float)) and size > max_mb * 1024 * 1024:
            raise invalid("文件“{n}”超过 {m} MB", "The file '{n}' is larger than {m} MB",
                          n=shown(item.get("name") or item["id"]), m=max_mb)
        return dict(item)

    def to_json(self, field, value):
        return [dict(v) for v in value] if isinstance(value, (list, tuple)) else value

    def value_schema(self, field):
        """A list of file descriptors (a single descriptor is accepted on input too)."""
        many = {"type": "array", "items": FILE_SCHEMA, "maxItems": self.limit(field)}
        return {"anyOf": [many, FILE_SCHEMA]}


class ImageType(AttachmentType):
    """Photos and images (defect photos taken on a phone at the dock)."""

    type = "image"
    label = Msg("图片", "Image")
    default_accept = ("image/*",)


class SignatureType(AttachmentType):
    """A hand-written signature captured as an image (one per field)."""

    type = "signature"
    label = Msg("手写签名", "Signature")
    default_accept = ("image/*",)
    options_schema = {}

    def limit(self, field) -> int:
        return 1
