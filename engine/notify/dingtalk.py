"""DingTalk (钉钉) custom group robot.

Webhook ``https://oapi.dingtalk.com/robot/send?access_token=<token>``. Body
``{"msgtype": "markdown", "markdown": {"title": ..., "text": ...}}`` (the title shows in the
conversation list). Security "加签": ``&timestamp=<ms>&sign=<urlencoded base64 HMAC-SHA256>``
appended to the URL at each attempt (DingTalk rejects timestamps more than an hour off). With the
"custom keyword" security setting the text must contain a keyword: put it in the rule's subject.
Answer ``{"errcode": 0, "errmsg": "ok"}``; 130101 ("send too fast") is retried later.
"""
from __future__ import annotations

from typing import Any, Mapping

from engine.i18n import msg
from engine.notify.channels import LINK_LABEL, ChannelKind, url_problem
from engine.notify.errors import NotifyInputError
from engine.notify.signing import dingtalk_sign
from engine.notify.text import is_absolute, markdown_lines, neutral, one_line, truncate_bytes
from engine.notify.urls import add_query

MAX_TEXT = 18000       # DingTalk limits the request to 20 KB
EXAMPLE = "https://oapi.dingtalk.com/robot/send?access_token=…"


class DingTalkRobot(ChannelKind):
    kind = "dingtalk"
    label = msg("钉钉群机器人", "DingTalk group robot")
    help = msg("群设置 → 智能群助手 → 添加自定义机器人 → 复制 Webhook；安全设置选“加签”时填写 SEC 开头的密钥。",
               "Group settings → Bots → add a custom robot → copy the webhook; with the “sign” security setting, "
               "enter the secret that starts with SEC.")
    signs = True
    code_field = "errcode"
    rate_limited = frozenset({130101})

    def check_url(self, url: str) -> str:
        url = super().check_url(url)
        problem = url_problem(url, query="access_token", example=EXAMPLE)
        if problem:
            raise NotifyInputError(problem, "url")
        return url

    def message(self, subject: str, body: str, link: str | None = None) -> dict:
        title = neutral(one_line(subject))
        tail = f"\n\n[{LINK_LABEL}]({link})" if is_absolute(link) else ""
        head = f"#### {title}\n\n"
        room = MAX_TEXT - len((head + tail).encode("utf-8"))
        text = head + truncate_bytes(neutral(markdown_lines(body)), max(room, 0)) + tail
        return {"msgtype": "markdown", "markdown": {"title": truncate_bytes(title, 200) or "QMS", "text": text}}

    def signed(self, url: str, payload: Mapping[str, Any], secret: str | None, now_ms: int) -> tuple[str, dict]:
        if not secret:
            return url, dict(payload)
        return add_query(url, timestamp=str(now_ms), sign=dingtalk_sign(secret, now_ms)), dict(payload)
