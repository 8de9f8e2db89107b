"""Builders for definition tests: small valid forms with overrides, and the fixture files.

Kept out of conftest.py so test modules can import the builders directly.
"""
from __future__ import annotations

import json
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "definitions"


def read_fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def fld(key: str, type_: str = "text", **props) -> dict:
    """A field dict with a bilingual label; ``props`` are added as they are."""
    return {"key": key, "type": type_, "label": {"zh-CN": f"字段{key}", "en": f"Field {key}"}, **props}


def form(*fields: dict, key: str = "ncr", **overrides) -> dict:
    """A form dict (valid unless the fields or overrides make it invalid)."""
    return {"format": 1, "key": key, "label": {"zh-CN": "不合格品报告", "en": "Nonconformance report"},
            "fields": list(fields), **overrides}


def app(*forms: dict, **overrides) -> dict:
    return {"key": "qms", "version": "1.0.0", "label": {"zh-CN": "质量管理", "en": "Quality management"},
            "forms": list(forms), **overrides}


CHOICES = [{"code": "OK", "label": {"zh-CN": "合格", "en": "OK"}}, {"code": "NG", "label": {"zh-CN": "不合格", "en": "NG"}}]

