"""Page guards shared by the admin pages: who may open them, and engine errors as error pages."""
from __future__ import annotations

from functools import wraps
from typing import Callable

from engine.errors import NotFound, PermissionDenied
from runtime.auth import login_required
from runtime.db import db
from runtime.i18n import current_lang


def page_guard(allowed: Callable[[], bool]):
    """A page decorator: signed in (else the login page), ``allowed()`` (else a 403 page); an engine
    NotFound becomes the 404 page and PermissionDenied the 403 page, the transaction rolled back."""
    def decorate(view):
        @wraps(view)
        @login_required
        def wrapper(*args, **kwargs):
            from runtime.records.views import error_page
            if not allowed():
                return error_page(403)
            try:
                return view(*args, **kwargs)
            except NotFound:
                db().rollback()
                return error_page(404)
            except PermissionDenied as exc:
                db().rollback()
                return error_page(403, exc.message.get(current_lang()))
        return wrapper
    return decorate
