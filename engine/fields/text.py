"""Free-text field types: single-line text, multi-line text and barcodes.

Single-line input is trimmed; an empty string counts as blank (``None``). Storage length is
a constant ``max_length`` when given, else 255 for single-line types. An expression-valued
``max_length`` cannot size a column, so such a field is stored as unbounded TEXT.
"""
from __future__ import annotations

import math
from typing import Any, ClassVar

from engine.expressions.types import TEXT
from engine.fields.base import Column, FieldType, StorageKind, invalid
from engine.i18n import Msg

DEFAULT_TEXT_LENGTH = 255


def constant_int(value: Any) -> int | None:
    """``value`` if it is a plain integer (not an expression, not a bool), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class TextType(FieldType):
    """A single line of text (lot number, part number, remarks)."""

    type = "text"
    label = Msg("单行文本", "Text")
    group = "basic"
    supports = frozenset({"length", "pattern"})
    strip: ClassVar[bool] = True
    default_length: ClassVar[int | None] = DEFAULT_TEXT_LENGTH

    def expr_type(self, field, ctx=None):
        return TEXT

    def storage(self, field, ctx=None):
        return Column(StorageKind.TEXT, length=self.max_chars(field))

    def max_chars(self, field) -> int | None:
        """The longest value storage accepts (None = unbounded)."""
        limit = getattr(field, "max_length", None)
        if limit is None:
            return self.default_length
        limit = constant_int(limit)
        return max(limit, 1) if limit is not None else None

    def coerce(self, field, value):
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise invalid("应为文本，收到 {t}", "Expected text, got {t}", t=type(value).__name__)
        if isinstance(value, float) and not math.isfinite(value):
            raise invalid("应为文本，收到无效数值", "Expected text, got an invalid number")
        text = str(value)
        if self.strip:
            text = text.strip()
        if text == "":
            return None
        limit = self.max_chars(field)
        if limit is not None and len(text) > limit:
            raise invalid("内容过长：最多 {n} 个字符，实际 {m} 个", "Too long: at most {n} characters, got {m}",
                          n=limit, m=len(text))
        return text

    def value_schema(self, field):
        schema: dict = {"type": "string"}
        limit, low = self.max_chars(field), constant_int(getattr(field, "min_length", None))
        if limit is not None:
            schema["maxLength"] = limit
        if low is not None and low > 0:
            schema["minLength"] = low
        return schema


class TextareaType(TextType):
    """Several lines of text (problem description, remarks); not trimmed, unbounded storage."""

    type = "textarea"
    label = Msg("多行文本", "Multi-line text")
    options_schema = {"rows": {"type": "integer", "minimum": 1, "maximum": 50, "default": 4}}
    strip = False
    default_length = None

    def coerce(self, field, value):
        text = super().coerce(field, value)
        return None if text is None or text.strip() == "" else text


class BarcodeType(TextType):
    """A scanned code (phone camera where the browser supports it, typed otherwise)."""

    type = "barcode"
    label = Msg("条码", "Barcode")
    group = "advanced"
    options_schema = {"camera": {"type": "boolean", "default": True}}
