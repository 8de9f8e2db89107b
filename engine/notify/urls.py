"""Outbound URLs: what may be called, and how a URL is shown without its credentials.

Robot webhooks carry their credential in the URL (WeCom ``key=``, DingTalk ``access_token=``,
Feishu the last path segment of ``/hook/<token>``); logs and pages show the masked form only.
"""
from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from engine.i18n import msg
from engine.notify.errors import NotifyInputError

MAX_URL = 2000
SECRET_PARAMS = {"key", "access_token", "token", "secret", "sign", "signature", "password", "apikey", "api_key"}
MASK = "***"
_HOOK_PATH = re.compile(r"(/hook/)([^/?#]+)")


def check_url(url: str, field: str = "url") -> str:
    """``url`` stripped, when it is an absolute http(s) URL with a host; NotifyInputError otherwise."""
    url = (url or "").strip() if isinstance(url, str) else ""
    if not url:
        raise NotifyInputError(msg("请填写网址", "Enter the URL"), field)
    if len(url) > MAX_URL:
        raise NotifyInputError(msg("网址太长（最多 {n} 个字符）", "The URL is too long (at most {n} characters)",
                                   n=MAX_URL), field)
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise NotifyInputError(msg("网址中不能有空格或换行", "The URL must not contain spaces or line breaks"), field)
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise NotifyInputError(msg("网址格式不正确", "The URL is malformed"), field) from None
    if parts.scheme.lower() not in ("http", "https"):
        raise NotifyInputError(msg("网址必须以 http:// 或 https:// 开头", "The URL must start with http:// or https://"),
                               field)
    if not parts.hostname:
        raise NotifyInputError(msg("网址缺少主机名", "The URL has no host name"), field)
    if parts.username or parts.password:
        raise NotifyInputError(msg("网址中不能包含用户名或密码", "The URL must not contain a user name or password"),
                               field)
    return url


def mask_url(url: str) -> str:
    """``url`` with credential query values and a ``/hook/<token>`` segment replaced by ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return MASK
    query = [(k, MASK if k.lower() in SECRET_PARAMS and v else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    path = _HOOK_PATH.sub(lambda m: m.group(1) + (MASK if len(m.group(2)) > 4 else m.group(2)), parts.path)
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, path, urlencode(query, safe="*", quote_via=quote), ""))


def query_value(url: str, name: str) -> str | None:
    """The first value of query parameter ``name`` in ``url`` (None when absent or empty)."""
    for key, value in parse_qsl(urlsplit(url).query, keep_blank_values=True):
        if key == name and value:
            return value
    return None


def add_query(url: str, **params: str) -> str:
    """``url`` with ``params`` appended to its query string (values percent-encoded)."""
    parts = urlsplit(url)
    extra = urlencode(params, quote_via=quote)
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def secret_values(url: str) -> list[str]:
    """The credential values inside ``url`` (to scrub them from error texts that quote the URL)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return []
    found = [v for k, v in parse_qsl(parts.query, keep_blank_values=True) if k.lower() in SECRET_PARAMS and v]
    found += [m.group(2) for m in _HOOK_PATH.finditer(parts.path) if len(m.group(2)) > 4]
    return found


def scrub(text: str, url: str) -> str:
    """``text`` with every credential of ``url`` replaced by ``***``."""
    for value in sorted(secret_values(url), key=len, reverse=True):
        text = text.replace(value, MASK).replace(quote(value, safe=""), MASK)
    return text
