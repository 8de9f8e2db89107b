"""Which print template a print uses: one of the form's ``prints`` or the built-in default layout."""
from __future__ import annotations

from functools import lru_cache
from importlib import resources

from engine.definitions.model import FormDef, PrintDef
from engine.errors import NotFound
from engine.i18n import Msg, msg

DEFAULT_KEY = "default"


@lru_cache(maxsize=1)
def default_source() -> str:
    """The built-in layout: every visible field, sub-tables, the approval history, the QR code."""
    return resources.files("engine.printing").joinpath("layouts/default.html").read_text(encoding="utf-8")


def default_print() -> PrintDef:
    """The default layout as a PrintDef (A4 portrait)."""
    return PrintDef(DEFAULT_KEY, Msg("标准打印", "Standard print"), default_source(), "A4")


def choose(form: FormDef, key: str | None = None) -> PrintDef:
    """The form's print template ``key``; without a key the form's first template, else the default.

    NotFound (naming the known keys) for a key the form does not have.
    """
    prints = form.prints
    if not key:
        return prints[0] if prints else default_print()
    if key == DEFAULT_KEY and all(p.key != DEFAULT_KEY for p in prints):
        return default_print()
    for item in prints:
        if item.key == key:
            return item
    known = ", ".join([p.key for p in prints] + [DEFAULT_KEY])
    raise NotFound(msg("表单“{f}”没有打印模板“{k}”（可选：{a}）", "Form '{f}' has no print template '{k}' (known: {a})",
                       f=form.key, k=str(key)[:40], a=known))


def available(form: FormDef) -> list[PrintDef]:
    """Templates offered for a form: its own, then the default layout."""
    own = list(form.prints)
    return own + ([default_print()] if all(p.key != DEFAULT_KEY for p in own) else [])
