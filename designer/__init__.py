"""The drag-and-drop designer (Flask blueprint + static JS): business users build and change apps.

Every module below registers its routes on :data:`designer.blueprint.bp`:

- :mod:`.views`       pages: app list, app overview, one editor page per definition kind
- :mod:`.api`         drafts (autosave with revisions), publish, versions, new apps/definitions
- :mod:`.expr_api`    the expression editor's catalog, checks and "try it" against drafts
- :mod:`.preview`     the live form preview (the runtime's own field templates on the draft)
- :mod:`.forms_api`   the form designer's palette (field types from the registry)
- :mod:`.flows_api`   the flow designer's choices (roles, users, departments, node types)
- :mod:`.rules_api`   the rule designer's choices and the rule test run (nothing is done)
- :mod:`.reports_api` the report designer's live chart of a draft dataset

Everything saved goes through the engine's definition checks, exactly like imports and the API.
"""
from __future__ import annotations

from importlib import import_module

from flask import Flask

from designer.blueprint import bp

MODULES = ("views", "api", "expr_api", "preview", "forms_api", "flows_api", "rules_api", "reports_api")


def init_app(app: Flask) -> None:
    """Register the designer's routes and static files on ``app``."""
    for name in MODULES:
        import_module(f"designer.{name}")
    app.register_blueprint(bp)


__all__ = ["bp", "init_app"]
