"""The shipped QMS apps: list them, load one as an app package, install them all in order.

Each app is a folder ``templates_qms/<key>/`` with ``app.json`` (the package) and optional
print templates ``prints/<form_key>.<print_key>.html`` beside a ``.json`` sidecar
(``{"label": {...}, "paper": "A4"}``): the HTML is kept in its own file to be edited as HTML,
and embedded into the form's ``prints`` when the package is loaded. ``catalog.json`` gives the
install order (an app refers only to forms of apps before it).
"""
from __future__ import annotations

import copy
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent


@lru_cache(maxsize=1)
def _order() -> tuple[str, ...]:
    return tuple(json.loads((ROOT / "catalog.json").read_text(encoding="utf-8"))["apps"])


@lru_cache(maxsize=None)
def _package(key: str) -> dict:
    folder = ROOT / key
    package = json.loads((folder / "app.json").read_text(encoding="utf-8"))
    prints = folder / "prints"
    for html in sorted(prints.glob("*.html")) if prints.is_dir() else ():
        form_key, print_key = html.stem.split(".", 1)
        sidecar = json.loads(html.with_suffix(".json").read_text(encoding="utf-8"))
        form = next((f for f in package.get("forms", ()) if f.get("key") == form_key), None)
        if form is None:
            raise ValueError(f"{html}: the app {key} has no form {form_key}")
        entry = {"key": print_key, "label": sidecar["label"], "template": html.read_text(encoding="utf-8")}
        if sidecar.get("paper"):
            entry["paper"] = sidecar["paper"]
        form["prints"] = [p for p in form.get("prints", []) if p.get("key") != print_key] + [entry]
    return package


def keys() -> list[str]:
    """The app keys in install order."""
    return list(_order())


def load_package(key: str) -> dict:
    """The app package of ``key`` (a fresh copy, print templates embedded); KeyError if unknown."""
    if key not in _order():
        raise KeyError(key)
    return copy.deepcopy(_package(key))


def catalog() -> list[dict[str, Any]]:
    """Key, version, labels, description and requirements of every shipped app, in install order."""
    out = []
    for key in _order():
        package = _package(key)
        out.append({"key": key, "version": package["version"], "label": package["label"],
                    "description": package.get("description"), "requires": list(package.get("requires") or ())})
    return out


def install_all(session, actor, only: list[str] | None = None) -> list:
    """Install or upgrade every shipped app (or ``only`` these, still in order) in the actor's
    tenant, in the caller's transaction; the ImportResults."""
    from engine.services import apps
    return [apps.import_app(session, actor, load_package(key)) for key in _order() if only is None or key in only]
