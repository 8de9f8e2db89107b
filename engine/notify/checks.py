"""Checks shared by notifications, mail and deliveries: subjects, bodies, links, addresses."""
from __future__ import annotations

import re
from email.utils import parseaddr

from engine.i18n import msg
from engine.notify.errors import NotifyInputError
from engine.notify.text import one_line

MAX_SUBJECT = 300
MAX_BODY = 100_000
MAX_LINK = 1000
EMAIL = re.compile(r"^[^@\s<>()\[\],;:\"\\]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")


def subject_text(subject: str) -> str:
    """One line of at most 300 characters; NotifyInputError when empty."""
    text = one_line(subject if isinstance(subject, str) else "")
    if not text:
        raise NotifyInputError(msg("标题不能为空", "The subject is empty"), "subject")
    return text[:MAX_SUBJECT]


def body_text(body: str) -> str:
    """The body (at most 100 000 characters, cut beyond); NotifyInputError when not text."""
    if not isinstance(body, str):
        raise NotifyInputError(msg("正文必须是文本", "The body must be text"), "body")
    return body[:MAX_BODY]


def link_value(link: str | None) -> str | None:
    """A path in this app (``/f/ncr/12``) or an http(s) URL; anything else (``javascript:``…) refused."""
    if link is None or link == "":
        return None
    if not isinstance(link, str) or len(link) > MAX_LINK or any(ord(ch) < 32 or ch.isspace() for ch in link):
        raise NotifyInputError(msg("链接无效", "The link is invalid"), "link")
    if link.startswith("/") and not link.startswith("//") and "\\" not in link:
        return link
    if link.lower().startswith(("http://", "https://")):
        return link
    raise NotifyInputError(msg("链接必须是以 / 开头的站内路径或 http(s) 网址",
                               "The link must be a path in this app (starting with /) or an http(s) URL"), "link")


def email_address(value: str, field: str = "to") -> str:
    """A bare e-mail address (lower-cased domain kept as typed); NotifyInputError naming it otherwise."""
    text = value.strip() if isinstance(value, str) else ""
    if not text or len(text) > 254 or not EMAIL.match(text):
        shown = one_line(str(value))[:80]
        raise NotifyInputError(msg("邮箱地址“{a}”无效", "The e-mail address '{a}' is invalid", a=shown), field)
    return text


def sender_address(value: str, field: str = "from_addr") -> str:
    """``qms@plant.example`` or ``QMS <qms@plant.example>``; NotifyInputError otherwise."""
    text = one_line(value if isinstance(value, str) else "")
    addr = parseaddr(text)[1]
    if not addr or len(text) > 254 or not EMAIL.match(addr):
        raise NotifyInputError(msg("发件人地址“{a}”无效（例如 QMS <qms@example.com>）",
                                   "The sender address '{a}' is invalid (e.g. QMS <qms@example.com>)", a=text[:80]), field)
    return text
