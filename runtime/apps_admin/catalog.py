"""The app templates shipped in ``templates_qms``: what the admin page offers to install
(:mod:`templates_qms.catalog`, with an unknown key as the engine's NotFound)."""
from __future__ import annotations

from engine.errors import NotFound
from engine.i18n import msg
from templates_qms import catalog as shipped


def catalog() -> list[dict]:
    """key, version, label, description, requires of every template, in install order."""
    return [dict(item) for item in shipped.catalog()]


def load_package(key: str) -> dict:
    """The template package ``key``; NotFound when no template has that key."""
    try:
        return shipped.load_package(key)
    except KeyError:
        raise NotFound(msg("没有应用模板“{k}”", "There is no app template '{k}'", k=key)) from None
