"""The delivery side's pure core: robot message formats and signing, the generic webhook
signature, URL checks and masking, and encryption of stored secrets. No I/O, no SQLAlchemy:
:mod:`engine.services.mail` and :mod:`engine.services.deliveries` do the sending.

``CHANNEL_KINDS`` holds one :class:`~engine.notify.channels.ChannelKind` per robot kind; a new kind
is one class in its own module and one line below.
"""
from __future__ import annotations

from engine.notify.channels import CHANNEL_KINDS, FAIL, RETRY, SENT, ChannelKind, Verdict, channel_kind, http_verdict
from engine.notify.dingtalk import DingTalkRobot
from engine.notify.errors import NotifyInputError
from engine.notify.feishu import FeishuBot
from engine.notify.wecom import WeComRobot

for _cls in (WeComRobot, DingTalkRobot, FeishuBot):
    CHANNEL_KINDS.register(_cls.kind, _cls())

__all__ = ["CHANNEL_KINDS", "ChannelKind", "Verdict", "channel_kind", "http_verdict", "NotifyInputError",
           "SENT", "RETRY", "FAIL"]
