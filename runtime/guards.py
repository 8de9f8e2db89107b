"""Page guards shared by the admin pages: who may open them, and engine errors as error pages."""
from __future__ import annotations

from functools import wraps
from typing import Callable

from engine.errors import NotFound, PermissionDenied
from runtime.auth import login_required
from runtime.db import db
from runtime.i18n import current_lang


def page_guard(allowed: Callable[[], bool] | None = None, error_page: Callable | None = None):
    """A page decorator: signed in (else the login page), ``allowed()`` (else a 403 page); an engine
    NotFound becomes the 404 page and PermissionDenied the 403 page, the transaction rolled back.
    ``error_page(status, message=None)`` draws them (default: the runtime's error page)."""
    def draw(status: int, message: str | None = None):
        if error_page is not None:
            return error_page(status, message)
        from runtime.records.views import error_page as runtime_page     # late: views import the guards
        return runtime_page(status, message)

    def decorate(view):
        @wraps(view)
        @login_required
        def wrapper(*args, **kwargs):
            if allowed is not None and not allowed():
                return draw(403)
            try:
                return view(*args, **kwargs)
            except NotFound:
                db().rollback()
                return draw(404)
            except PermissionDenied as exc:
                db().rollback()
                return draw(403, exc.message.get(current_lang()))
        return wrapper
    return decorate
