"""WeCom (企业微信) group robot.

Webhook ``https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=<key>``: the key in the URL is the
only credential (no signature). Body ``{"msgtype": "markdown", "markdown": {"content": ...}}``;
markdown content at most 4096 bytes (UTF-8). Answer ``{"errcode": 0, "errmsg": "ok"}``; 45009
means "api freq out of limit" (20 messages a minute per robot): retried later.
"""
from __future__ import annotations

from engine.i18n import msg
from engine.notify.channels import LINK_LABEL, ChannelKind, url_problem
from engine.notify.errors import NotifyInputError
from engine.notify.text import is_absolute, markdown_lines, neutral, one_line, truncate_bytes

MAX_CONTENT = 4096
EXAMPLE = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…"


class WeComRobot(ChannelKind):
    kind = "wecom"
    label = msg("企业微信群机器人", "WeCom group robot")
    help = msg("群聊 → 添加群机器人 → 复制 Webhook 地址（含 key=）。企业微信机器人无需签名密钥。",
               "Group chat → Add group robot → copy the webhook address (with key=). WeCom robots have no signing secret.")
    signs = False
    code_field = "errcode"
    rate_limited = frozenset({45009})

    def check_url(self, url: str) -> str:
        url = super().check_url(url)
        problem = url_problem(url, query="key", example=EXAMPLE)
        if problem:
            raise NotifyInputError(problem, "url")
        return url

    def message(self, subject: str, body: str, link: str | None = None) -> dict:
        tail = f"\n[{LINK_LABEL}]({link})" if is_absolute(link) else ""
        head = f"**{neutral(one_line(subject))}**\n"
        room = MAX_CONTENT - len((head + tail).encode("utf-8"))
        content = head + truncate_bytes(neutral(markdown_lines(body)), max(room, 0)) + tail
        return {"msgtype": "markdown", "markdown": {"content": content}}
