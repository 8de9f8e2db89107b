"""The app templates shipped in ``templates_qms``: what the admin page offers to install.

``templates_qms.catalog`` (catalog() / load_package(key)) is the source when it exists; without
it, each ``templates_qms/<key>/app.json`` is read directly, so the page works either way.
"""
from __future__ import annotations

import json
from pathlib import Path

from engine.errors import NotFound
from engine.i18n import msg

TEMPLATES = Path(__file__).resolve().parents[2] / "templates_qms"


def _shipped():
    try:
        from templates_qms import catalog as shipped
    except ImportError:
        return None
    return shipped if hasattr(shipped, "catalog") and hasattr(shipped, "load_package") else None


def _read(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None                      # a template being written or broken: not offered
    return data if isinstance(data, dict) and isinstance(data.get("key"), str) else None


def catalog() -> list[dict]:
    """key, version, label, description, requires of every template, in install order when known."""
    shipped = _shipped()
    if shipped is not None:
        return [dict(item) for item in shipped.catalog()]
    items = []
    for path in sorted(TEMPLATES.glob("*/app.json")):
        data = _read(path)
        if data is not None:
            items.append({k: data.get(k) for k in ("key", "version", "label", "description")}
                         | {"requires": list(data.get("requires") or [])})
    return _install_order(items)


def _install_order(items: list[dict]) -> list[dict]:
    """Each template after the ones it requires (by key otherwise); a cycle keeps the rest by key."""
    pending, done, ordered = list(items), set(), []
    while pending:
        ready = [i for i in pending if set(i["requires"]) <= done | {i["key"]}] or pending[:1]
        ordered.append(ready[0])
        done.add(ready[0]["key"])
        pending.remove(ready[0])
    return ordered


def load_package(key: str) -> dict:
    """The template package ``key``; NotFound when no template has that key."""
    shipped = _shipped()
    if shipped is not None:
        if any(item.get("key") == key for item in shipped.catalog()):
            return shipped.load_package(key)
    else:
        for path in sorted(TEMPLATES.glob("*/app.json")):
            data = _read(path)
            if data is not None and data["key"] == key:
                return data
    raise NotFound(msg("没有应用模板“{k}”", "There is no app template '{k}'", k=key))
