"""Turning a notification's subject/body into robot text safely and within the robots' limits.

User-entered text ends up in group chats as markdown: brackets and angle brackets are replaced
by their full-width forms so a record's text cannot forge a link or a ``<font>``/``<at>`` tag.
"""
from __future__ import annotations

_NEUTRAL = str.maketrans({"[": "［", "]": "］", "<": "＜", ">": "＞"})
ELLIPSIS = "…"


def one_line(text: str) -> str:
    """``text`` with line breaks (and other control characters) turned into spaces, trimmed."""
    return " ".join("".join(" " if ord(ch) < 32 or ch == "\x7f" else ch for ch in (text or "")).split())


def neutral(text: str) -> str:
    """``text`` safe to embed in markdown: no link or tag syntax."""
    return (text or "").translate(_NEUTRAL)


def truncate_bytes(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes (on a character boundary, with an ellipsis)."""
    raw = text.encode("utf-8")
    if len(raw) <= limit:
        return text
    room = limit - len(ELLIPSIS.encode("utf-8"))
    return raw[:max(0, room)].decode("utf-8", errors="ignore") + ELLIPSIS


def markdown_lines(text: str) -> str:
    """Body text as markdown where each line stays a line (two trailing spaces = a line break)."""
    lines = [line.rstrip() for line in (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return "  \n".join(lines).strip()


def is_absolute(link: str | None) -> bool:
    """Robots can only open absolute http(s) links (a relative ``/f/ncr/1`` means nothing in a chat)."""
    return bool(link) and link.lower().startswith(("http://", "https://"))
