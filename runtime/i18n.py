"""The UI language: the user's saved choice, else the session's, else the browser's.

Templates write both languages side by side — ``{{ t("保存", "Save") }}`` — so a string and its
translation can never drift apart; definition labels (``{"zh-CN", "en"}``) go through ``label``.
"""
from __future__ import annotations

from flask import Flask, g, request, session
from flask_login import current_user

from engine.i18n import label_text

LANGS = ("zh-CN", "en")


def current_lang() -> str:
    """zh-CN or en for this request."""
    if "lang" in g:
        return g.lang
    user = current_user if request else None
    via_token = bool(user and user.is_authenticated and getattr(user, "via_token", False))
    actor = getattr(user, "actor", None) if user and user.is_authenticated else None
    lang = None
    if via_token:       # an integration: what it asks for, else the token owner's preference
        lang = _browser_lang(default=None) or (actor.lang if actor else None)
    else:
        lang = session.get("lang") or (actor.lang if actor else None)
    g.lang = lang if lang in LANGS else _browser_lang(default="zh-CN")
    return g.lang


def _browser_lang(default: str | None) -> str | None:
    """The Accept-Language choice, or ``default`` when the header says nothing."""
    if not request or not request.headers.get("Accept-Language"):
        return default
    best = request.accept_languages.best_match(["zh-CN", "zh", "en"])
    return ("en" if best == "en" else "zh-CN") if best else default


def t(zh: str, en: str) -> str:
    """The UI text in the current language."""
    return en if current_lang() == "en" else zh


def label(value) -> str:
    """A definition label or Msg in the current language (with fallback to the other)."""
    return label_text(value, current_lang())


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(t=t, label=label, current_lang=current_lang)
