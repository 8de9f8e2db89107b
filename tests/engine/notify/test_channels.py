"""Robot message formats (WeCom markdown, DingTalk markdown, Feishu post), signing at send time,
URL checks, what an answer means, and the registry's contract over every kind."""
from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest

from engine.notify import CHANNEL_KINDS, FAIL, RETRY, SENT, channel_kind, http_verdict
from engine.notify.errors import NotifyInputError
from engine.notify.signing import dingtalk_sign, feishu_sign
from engine.registry import RegistryError

URLS = {"wecom": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa",
        "dingtalk": "https://oapi.dingtalk.com/robot/send?access_token=abc123",
        "feishu": "https://open.feishu.cn/open-apis/bot/v2/hook/0a1b2c3d-4e5f"}
NOW_MS = 1_700_000_000_123


def test_wecom_markdown_message():
    body = channel_kind("wecom").message("NCR-2026-0001 opened", "Lot L-7 rejected\nSupplier: Acme",
                                         "https://qms.plant/f/ncr/1")
    assert body == {"msgtype": "markdown", "markdown": {"content":
                    "**NCR-2026-0001 opened**\nLot L-7 rejected  \nSupplier: Acme\n[查看详情 / Open](https://qms.plant/f/ncr/1)"}}


def test_wecom_is_not_signed_and_keeps_within_4096_bytes():
    kind = channel_kind("wecom")
    payload = kind.message("s", "缺陷" * 3000)
    assert len(payload["markdown"]["content"].encode()) <= 4096
    assert kind.signed(URLS["wecom"], payload, "ignored", NOW_MS) == (URLS["wecom"], payload)


def test_user_text_cannot_forge_links_or_tags_in_markdown():
    content = channel_kind("wecom").message("[x](http://evil)", "<font color=\"warning\">a</font> [b](http://evil)")
    text = content["markdown"]["content"]
    assert "](http://evil)" not in text and "<font" not in text
    assert "［x］(http://evil)" in text


def test_relative_links_are_left_out_of_robot_messages():
    for kind in CHANNEL_KINDS.keys():
        assert "/f/ncr/1" not in json.dumps(channel_kind(kind).message("s", "b", "/f/ncr/1"))


def test_dingtalk_markdown_and_signed_url():
    kind = channel_kind("dingtalk")
    payload = kind.message("Lot rejected", "line 1\nline 2", "https://qms.plant/f/iqc/9")
    assert payload == {"msgtype": "markdown", "markdown": {
        "title": "Lot rejected", "text": "#### Lot rejected\n\nline 1  \nline 2\n\n[查看详情 / Open](https://qms.plant/f/iqc/9)"}}
    url, body = kind.signed(URLS["dingtalk"], payload, "SECabc", NOW_MS)
    query = parse_qs(urlsplit(url).query)
    assert query == {"access_token": ["abc123"], "timestamp": [str(NOW_MS)], "sign": [dingtalk_sign("SECabc", NOW_MS)]}
    assert "%2B" in url or "%2F" in url or "%3D" in url        # the base64 sign is URL-encoded
    assert body == payload
    assert kind.signed(URLS["dingtalk"], payload, None, NOW_MS)[0] == URLS["dingtalk"]


def test_feishu_post_message_and_signature_in_body():
    kind = channel_kind("feishu")
    payload = kind.message("8D due", "D4 root cause\noverdue", "https://qms.plant/f/8d/3")
    assert payload == {"msg_type": "post", "content": {"post": {"zh_cn": {"title": "8D due", "content": [
        [{"tag": "text", "text": "D4 root cause"}], [{"tag": "text", "text": "overdue"}],
        [{"tag": "a", "text": "查看详情 / Open", "href": "https://qms.plant/f/8d/3"}]]}}}}
    url, body = kind.signed(URLS["feishu"], payload, "fs-secret", NOW_MS)
    assert url == URLS["feishu"]
    assert body["timestamp"] == "1700000000" and body["sign"] == feishu_sign("fs-secret", 1_700_000_000)
    assert body["msg_type"] == "post"


@pytest.mark.parametrize("kind, answer, state", [
    ("wecom", {"errcode": 0, "errmsg": "ok"}, SENT),
    ("wecom", {"errcode": 45009, "errmsg": "api freq out of limit"}, RETRY),
    ("wecom", {"errcode": 93000, "errmsg": "invalid webhook url"}, FAIL),
    ("dingtalk", {"errcode": 0, "errmsg": "ok"}, SENT),
    ("dingtalk", {"errcode": 310000, "errmsg": "sign not match"}, FAIL),
    ("dingtalk", {"errcode": 130101, "errmsg": "send too fast"}, RETRY),
    ("feishu", {"code": 0, "msg": "success"}, SENT),
    ("feishu", {"StatusCode": 0, "StatusMessage": "success"}, SENT),
    ("feishu", {"code": 19021, "msg": "sign match fail"}, FAIL),
    ("feishu", {"code": 11232, "msg": "frequency limited"}, RETRY),
    ("feishu", None, RETRY),
])
def test_robot_answers(kind, answer, state):
    verdict = channel_kind(kind).verdict(200, answer)
    assert verdict.state == state
    if state != SENT:
        assert verdict.error


@pytest.mark.parametrize("status, state", [(200, None), (204, None), (301, FAIL), (400, FAIL), (404, FAIL),
                                           (408, RETRY), (429, RETRY), (500, RETRY), (503, RETRY)])
def test_http_statuses(status, state):
    verdict = http_verdict(status)
    assert (verdict.state if verdict else None) == state


@pytest.mark.parametrize("kind, url, problem", [
    ("wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send", "key="),
    ("dingtalk", "https://oapi.dingtalk.com/robot/send", "access_token="),
    ("feishu", "https://open.feishu.cn/open-apis/bot/v2/", "/hook/"),
    ("wecom", "ftp://qyapi.weixin.qq.com/send?key=1", "http"),
])
def test_urls_of_the_wrong_shape_are_refused_with_a_hint(kind, url, problem):
    with pytest.raises(NotifyInputError) as err:
        channel_kind(kind).check_url(url)
    assert problem in err.value.message.en and err.value.field == "url"


@pytest.mark.parametrize("kind", CHANNEL_KINDS.keys())
def test_every_kind_fulfils_the_contract(kind):
    item = channel_kind(kind)
    assert item.kind == kind and item.label.zh and item.label.en and item.help.zh and item.help.en
    assert item.check_url(URLS[kind]) == URLS[kind]
    payload = item.message("subject", "body", "https://x.example/1")
    json.dumps(payload)
    url, body = item.signed(URLS[kind], payload, "secret", NOW_MS)
    assert url.startswith(URLS[kind]) and json.dumps(body)
    assert item.verdict(500, None).state == RETRY


def test_unknown_kind_names_the_known_ones():
    with pytest.raises(RegistryError, match="wecom"):
        channel_kind("slack")
