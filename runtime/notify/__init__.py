"""Notification pages (blueprint ``notify``): the notification centre and its header badge
(:mod:`runtime.notify.views`), and the admin pages for mail, robot channels and the delivery log
(:mod:`runtime.notify.admin`)."""
from runtime.notify import admin  # noqa: F401  (routes)
from runtime.notify.views import bp

__all__ = ["bp"]
