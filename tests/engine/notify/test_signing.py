"""Signatures: DingTalk 加签, Feishu 签名校验 and our generic webhook signature, each recomputed the
way the vendors' documentation shows it (string_to_sign, HMAC-SHA256, base64, URL-encoding)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import urllib.parse

from engine.notify.signing import dingtalk_sign, feishu_sign, verify_webhook, webhook_signature


def test_dingtalk_sign_follows_the_documented_python_sample():
    # DingTalk's sample: string_to_sign = '{}\n{}'.format(timestamp, secret); hmac keyed with the secret;
    # sign = urllib.parse.quote_plus(base64.b64encode(hmac_code))
    timestamp, secret = 1577262236757, "this is secret"
    string_to_sign = "{}\n{}".format(timestamp, secret).encode("utf-8")
    expected = base64.b64encode(hmac.new(secret.encode("utf-8"), string_to_sign, digestmod=hashlib.sha256).digest())
    assert dingtalk_sign(secret, timestamp) == expected.decode()
    assert urllib.parse.quote_plus(expected) == urllib.parse.quote(dingtalk_sign(secret, timestamp), safe="")


def test_feishu_sign_keys_the_hmac_with_timestamp_and_secret_over_an_empty_message():
    # Feishu's sample: string_to_sign = '{}\n{}'.format(timestamp, secret);
    # hmac.new(string_to_sign.encode("utf-8"), digestmod=hashlib.sha256).digest(); base64
    timestamp, secret = 1599360473, "demo"
    key = "{}\n{}".format(timestamp, secret).encode("utf-8")
    expected = base64.b64encode(hmac.new(key, digestmod=hashlib.sha256).digest()).decode("utf-8")
    assert feishu_sign(secret, timestamp) == expected
    assert feishu_sign(secret, timestamp) != dingtalk_sign(secret, timestamp)    # not DingTalk's scheme


def test_webhook_signature_is_hex_hmac_of_the_raw_body_and_verifies():
    body = '{"event":"ncr.created","id":7}'.encode()
    signature = webhook_signature("s3cret", body)
    assert signature == "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert verify_webhook("s3cret", body, signature)
    assert not verify_webhook("other", body, signature)
    assert not verify_webhook("s3cret", body + b" ", signature)
    assert not verify_webhook("s3cret", body, None)
