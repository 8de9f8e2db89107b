"""The inbound-webhook URL of a webhook rule: a sample body from the declared payload fields and
the curl command an integrator can paste (signed with HMAC-SHA256 when the URL has a secret)."""
from __future__ import annotations

import json
import secrets
import shlex
from typing import Any, Mapping

SAMPLES = {"text": "ABC-001", "number": 1, "boolean": True, "date": "2025-01-31",
           "datetime": "2025-01-31T08:00:00+08:00", "list": ["A", "B"]}
SECRET_BYTES = 32


def random_secret() -> str:
    """A signing secret the admin can hand to the caller (64 hex characters)."""
    return secrets.token_hex(SECRET_BYTES)


def sample_body(trigger: Mapping[str, Any]) -> dict:
    """A JSON body that fills every declared payload field (``path`` ``a.b.0.c`` builds nesting)."""
    body: dict = {}
    for spec in trigger.get("fields") or ():
        _put(body, str(spec.get("path") or spec.get("key")).split("."), SAMPLES.get(spec.get("type"), "ABC-001"))
    return body


def _put(doc: Any, parts: list[str], value: Any) -> None:
    head, rest = parts[0], parts[1:]
    if isinstance(doc, list):
        index = int(head)
        while len(doc) <= index:
            doc.append(None)
        if not rest:
            doc[index] = value
            return
        if not isinstance(doc[index], (dict, list)):
            doc[index] = [] if rest[0].isdigit() else {}
        _put(doc[index], rest, value)
        return
    if not rest:
        doc[head] = value
        return
    if not isinstance(doc.get(head), (dict, list)):
        doc[head] = [] if rest[0].isdigit() else {}
    _put(doc[head], rest, value)


def curl_example(url: str, body: Mapping[str, Any], secret: str | None) -> str:
    """A shell snippet that POSTs ``body`` to ``url`` (computing the signature with openssl when signed)."""
    text = json.dumps(body, ensure_ascii=False)
    lines = [f"BODY={shlex.quote(text)}"]
    headers = "-H 'Content-Type: application/json'"
    if secret:
        hmac_key = shlex.quote(secret)
        lines.append(f"SIG=$(printf '%s' \"$BODY\" | openssl dgst -sha256 -hmac {hmac_key} | sed 's/^.* //')")
        headers += " -H \"X-QMS-Signature: sha256=$SIG\""
    lines.append(f"curl -X POST {shlex.quote(url)} {headers} --data-binary \"$BODY\"")
    return "\n".join(lines)
