"""Feishu / Lark (飞书) custom bot.

Webhook ``https://open.feishu.cn/open-apis/bot/v2/hook/<token>``. Body: a rich-text post
``{"msg_type": "post", "content": {"post": {"zh_cn": {"title": ..., "content": [[{"tag": "text",
"text": ...}], [{"tag": "a", "text": ..., "href": ...}]]}}}}`` (plain text tags: no markdown to
escape). Security "签名校验": ``"timestamp"`` (seconds, as a string) and ``"sign"`` added to the body
at each attempt. Request at most 20 KB. Answer ``{"code": 0, "msg": "success"}`` (older answers:
``StatusCode``); 11232 is the rate limit, retried later.
"""
from __future__ import annotations

from typing import Any, Mapping

from engine.i18n import msg
from engine.notify.channels import LINK_LABEL, ChannelKind, url_problem
from engine.notify.errors import NotifyInputError
from engine.notify.signing import feishu_sign
from engine.notify.text import is_absolute, one_line, truncate_bytes

MAX_TEXT = 16000
EXAMPLE = "https://open.feishu.cn/open-apis/bot/v2/hook/…"


class FeishuBot(ChannelKind):
    kind = "feishu"
    label = msg("飞书群机器人", "Feishu group bot")
    help = msg("群设置 → 群机器人 → 添加自定义机器人 → 复制 Webhook；安全设置选“签名校验”时填写密钥。",
               "Group settings → Bots → add a custom bot → copy the webhook; with “signature verification”, "
               "enter its secret.")
    signs = True
    code_field = "code"
    rate_limited = frozenset({11232})

    def check_url(self, url: str) -> str:
        url = super().check_url(url)
        problem = url_problem(url, path_part="/hook/", example=EXAMPLE)
        if problem:
            raise NotifyInputError(problem, "url")
        return url

    def message(self, subject: str, body: str, link: str | None = None) -> dict:
        text = truncate_bytes((body or "").replace("\r\n", "\n").strip(), MAX_TEXT)
        lines = [[{"tag": "text", "text": line}] for line in text.split("\n")] if text else []
        if is_absolute(link):
            lines.append([{"tag": "a", "text": LINK_LABEL, "href": link}])
        post = {"title": truncate_bytes(one_line(subject), 300), "content": lines}
        return {"msg_type": "post", "content": {"post": {"zh_cn": post}}}

    def signed(self, url: str, payload: Mapping[str, Any], secret: str | None, now_ms: int) -> tuple[str, dict]:
        if not secret:
            return url, dict(payload)
        seconds = now_ms // 1000
        return url, {"timestamp": str(seconds), "sign": feishu_sign(secret, seconds), **payload}
