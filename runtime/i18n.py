"""The UI language: the user's saved choice, else the session's, else the browser's.

Templates write both languages side by side — ``{{ t("保存", "Save") }}`` — so a string and its
translation can never drift apart; definition labels (``{"zh-CN", "en"}``) go through ``label``.
"""
from __future__ import annotations

from flask import Flask, g, request, session

from engine.i18n import label_text

LANGS = ("zh-CN", "en")


def current_lang() -> str:
    """zh-CN or en for this request."""
    if "lang" in g:
        return g.lang
    actor = g.get("actor")
    lang = session.get("lang") or (actor.lang if actor is not None else None)
    if lang not in LANGS:
        best = request.accept_languages.best_match(["zh-CN", "zh", "en"]) if request else None
        lang = "en" if best == "en" else "zh-CN"
    g.lang = lang
    return lang


def t(zh: str, en: str) -> str:
    """The UI text in the current language."""
    return en if current_lang() == "en" else zh


def label(value) -> str:
    """A definition label or Msg in the current language (with fallback to the other)."""
    return label_text(value, current_lang())


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(t=t, label=label, current_lang=current_lang)
