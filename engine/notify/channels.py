"""Robot channel kinds: one registered class per kind (WeCom, DingTalk, Feishu group robots).

A kind knows three things and does no I/O:

* :meth:`ChannelKind.check_url` — whether a pasted webhook URL looks like one of its robots';
* :meth:`ChannelKind.message` — the JSON body for a notification (subject, body, optional link);
* :meth:`ChannelKind.signed` — the URL and body to send at a given moment (robots that sign
  check the timestamp, so signing happens at each attempt, never when the message is queued);
* :meth:`ChannelKind.verdict` — what the robot's answer means: sent, retry later, or failed.

The delivery service (:mod:`engine.services.deliveries`) does the sending. A new kind = one
class in its own module registered in ``CHANNEL_KINDS`` (see ``engine/notify/__init__.py``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping
from urllib.parse import urlsplit

from engine.i18n import Msg, msg
from engine.notify.urls import check_url, query_value
from engine.registry import Registry

SENT, RETRY, FAIL = "sent", "retry", "fail"
LINK_LABEL = "查看详情 / Open"
RETRYABLE_HTTP = {408, 425, 429}


@dataclass(frozen=True)
class Verdict:
    """What an answer means for a delivery: ``state`` sent / retry / fail, and why (for the log)."""

    state: str
    error: str | None = None


def http_verdict(status: int) -> Verdict | None:
    """The verdict of an HTTP status alone, or None for a 2xx (the body decides).

    4xx means the request itself is wrong and will stay wrong (fail at once), except 408/425/429
    (timeout, too early, too many requests); 5xx and anything else is worth another try.
    """
    if 200 <= status < 300:
        return None
    if 300 <= status < 400:
        return Verdict(FAIL, f"HTTP {status}: redirected; enter the final URL")
    if 400 <= status < 500 and status not in RETRYABLE_HTTP:
        return Verdict(FAIL, f"HTTP {status}")
    return Verdict(RETRY, f"HTTP {status}")


class ChannelKind:
    """Base of the robot kinds. Subclasses set the class attributes and :meth:`message`."""

    kind: str = ""
    label: Msg = Msg("", "")
    help: Msg = Msg("", "")                 # where the admin finds the URL / secret
    signs: bool = False                     # has a signing secret ("加签" / "签名校验")
    code_field: str = "errcode"             # the JSON field that is 0 on success
    rate_limited: frozenset[int] = frozenset()  # robot codes that mean "too fast: retry later"

    def check_url(self, url: str) -> str:
        """The URL, stripped, if it is usable for this kind; NotifyInputError naming the problem."""
        return check_url(url)

    def message(self, subject: str, body: str, link: str | None = None) -> dict:
        raise NotImplementedError

    def signed(self, url: str, payload: Mapping[str, Any], secret: str | None, now_ms: int) -> tuple[str, dict]:
        """(url, body) to send at ``now_ms`` (Unix milliseconds); unsigned kinds return them as is."""
        return url, dict(payload)

    def verdict(self, status: int, data: Any) -> Verdict:
        """Sent only for a 2xx whose JSON ``code_field`` is 0; rate limits retry, other codes fail."""
        by_http = http_verdict(status)
        if by_http is not None:
            return by_http
        code = _code(data, self.code_field)
        if code == 0:
            return Verdict(SENT)
        text = f"{self.code_field}={code}: {_message(data)}" if code is not None else "no result code in the answer"
        return Verdict(RETRY if code in self.rate_limited or code is None else FAIL, text[:500])


def _code(data: Any, field: str) -> int | None:
    if not isinstance(data, Mapping):
        return None
    value = data.get(field)
    if value is None and field == "code":          # Feishu's older answers: StatusCode
        value = data.get("StatusCode")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _message(data: Mapping) -> str:
    return str(data.get("errmsg") or data.get("msg") or data.get("StatusMessage") or "")


CHANNEL_KINDS: Registry[ChannelKind] = Registry("channel kind")


def channel_kind(kind: str) -> ChannelKind:
    """The registered kind (RegistryError naming the known kinds when unknown)."""
    return CHANNEL_KINDS.get(kind)


def url_problem(url: str, *, query: str | None = None, path_part: str | None = None, example: str) -> Msg | None:
    """Why ``url`` is not a robot URL of the expected shape (a query parameter or a path part), or None."""
    if query and not query_value(url, query):
        return msg("网址中缺少参数 {q}=，请复制机器人的完整 Webhook 地址（例如 {e}）",
                   "The URL has no {q}= parameter; copy the robot's full webhook address (e.g. {e})", q=query, e=example)
    if path_part and path_part not in urlsplit(url).path:
        return msg("网址不像机器人的 Webhook 地址（应包含 {p}，例如 {e}）",
                   "The URL does not look like the robot's webhook address (it should contain {p}, e.g. {e})",
                   p=path_part, e=example)
    return None
