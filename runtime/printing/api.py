"""The print views of the REST API, attached by the ``/api/v1`` blueprint (its sign-in gate and
JSON error envelope apply):

- ``GET /api/v1/forms/<form_key>/records/<id>/print?template=&lang=`` → :func:`print_record_pdf`
- ``GET /api/v1/forms/<form_key>/print?filter=&sort=&template=&lang=`` → :func:`print_records_pdf`

Both answer ``application/pdf``; errors (404 outside the read scope, 400 for a failing template or
more than ``printing.MAX_BATCH`` (100) matching records, 422 for a bad filter) come back as the usual JSON envelope.
"""
from __future__ import annotations

from flask import request

from engine.errors import NotFound
from engine.i18n import msg
from engine.services import printing
from runtime.auth import current_actor
from runtime.db import db
from runtime.printing.common import base_url, pdf_response, print_lang


def _actor():
    actor = current_actor()
    if actor is None:          # the API blueprint's gate answers 401 first; never print for nobody
        raise NotFound(msg("找不到", "Not found"))
    return actor


def print_record_pdf(form_key: str, record_id: int):
    """One record as a PDF (``template``: a print template key; default the form's first)."""
    printed = printing.print_record(db(), _actor(), form_key, record_id, request.args.get("template") or None,
                                    base_url=base_url(), lang=print_lang())
    return pdf_response(printed)


def print_records_pdf(form_key: str):
    """The records matching ``filter`` (expression syntax of the records API) as one PDF."""
    printed = printing.print_records(db(), _actor(), form_key, request.args.get("filter") or None,
                                     request.args.get("sort") or None, request.args.get("template") or None,
                                     base_url=base_url(), lang=print_lang())
    return pdf_response(printed)
