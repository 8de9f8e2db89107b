"""URL checks and masking, text limits, links, addresses, and encryption of stored secrets."""
from __future__ import annotations

import pytest

from engine.notify import crypto
from engine.notify.checks import email_address, link_value, sender_address, subject_text
from engine.notify.errors import NotifyInputError
from engine.notify.text import truncate_bytes
from engine.notify.urls import check_url, mask_url, scrub


@pytest.mark.parametrize("url", ["", "   ", "javascript:alert(1)", "file:///etc/passwd", "http://", "https://a b.c/",
                                 "https://user:pw@host/x", "https://host:99999/", 5, None])
def test_bad_urls_are_refused(url):
    with pytest.raises(NotifyInputError) as err:
        check_url(url)
    assert err.value.field == "url" and isinstance(err.value, ValueError)


def test_good_url_is_kept():
    assert check_url(" https://erp.plant.local:8443/hooks/qms?x=1 ") == "https://erp.plant.local:8443/hooks/qms?x=1"


def test_credentials_are_masked_for_display_and_scrubbed_from_errors():
    assert mask_url("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc-123") == \
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=***"
    assert mask_url("https://oapi.dingtalk.com/robot/send?access_token=tok&x=1") == \
        "https://oapi.dingtalk.com/robot/send?access_token=***&x=1"
    assert mask_url("https://open.feishu.cn/open-apis/bot/v2/hook/0a1b2c3d") == "https://open.feishu.cn/open-apis/bot/v2/hook/***"
    url = "https://h/send?key=abc-123"
    assert scrub("Max retries exceeded with url: /send?key=abc-123", url) == "Max retries exceeded with url: /send?key=***"


def test_links_must_be_app_paths_or_http():
    assert link_value("/f/ncr/12") == "/f/ncr/12" and link_value("https://x.y/z") == "https://x.y/z"
    assert link_value(None) is None and link_value("") is None
    for bad in ("javascript:alert(1)", "//evil.example/x", "data:text/html,x", "/a b"):
        with pytest.raises(NotifyInputError):
            link_value(bad)


def test_subjects_are_one_line_and_not_empty():
    assert subject_text("Lot\r\nrejected\t!") == "Lot rejected !"
    with pytest.raises(NotifyInputError):
        subject_text(" \n ")


def test_addresses():
    assert email_address(" qe@plant.example ") == "qe@plant.example"
    assert sender_address("QMS <qms@plant.example>") == "QMS <qms@plant.example>"
    for bad in ("no-at", "a@b@c", "x@y\nBcc: z@evil", "<a@b.c>", ""):
        with pytest.raises(NotifyInputError):
            email_address(bad)


def test_truncation_respects_utf8_boundaries():
    text = truncate_bytes("检验" * 10, 10)
    assert len(text.encode()) <= 10 and text.endswith("…")


def test_secrets_round_trip_and_a_changed_key_is_a_clear_error():
    token = crypto.encrypt("key-one", "p@ss")
    assert token != "p@ss" and crypto.decrypt("key-one", token) == "p@ss"
    with pytest.raises(crypto.SecretUnreadable) as err:
        crypto.decrypt("key-two", token)
    assert "SECRET_KEY" in err.value.message.en
