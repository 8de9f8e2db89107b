"""Bilingual text: every user-facing message and label exists in zh-CN and en."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"


@dataclass(frozen=True)
class Msg:
    """A message in both languages. ``str(msg)`` gives English (for logs and tracebacks)."""

    zh: str
    en: str

    def get(self, lang: str | None = None) -> str:
        """Text in ``lang`` ("zh-CN"/"zh" or "en"); unknown languages fall back to zh-CN."""
        if lang and lang.lower().startswith("en"):
            return self.en
        return self.zh

    def to_dict(self) -> dict[str, str]:
        return {"zh-CN": self.zh, "en": self.en}

    def __str__(self) -> str:
        return self.en

    def format(self, **kwargs: Any) -> "Msg":
        """Fill ``{name}`` placeholders in both languages."""
        return Msg(self.zh.format(**kwargs), self.en.format(**kwargs))


def msg(zh: str, en: str, **kwargs: Any) -> Msg:
    """Shorthand: ``msg("字段 {k} 未知", "Unknown field {k}", k=key)``."""
    m = Msg(zh, en)
    return m.format(**kwargs) if kwargs else m


def label_text(label: Mapping[str, str] | Msg | str | None, lang: str | None = None) -> str:
    """Text of a definition label (``{"zh-CN": ..., "en": ...}``) in ``lang`` with fallback."""
    if label is None:
        return ""
    if isinstance(label, str):
        return label
    if isinstance(label, Msg):
        return label.get(lang)
    want = "en" if lang and lang.lower().startswith("en") else "zh-CN"
    other = "zh-CN" if want == "en" else "en"
    return label.get(want) or label.get(other) or ""
