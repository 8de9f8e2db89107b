"""Print pages: ``/records/<form>/<id>/print[/<template>]`` and ``/records/<form>/print`` (a list).

The list print takes ``filter`` (an expression, as in the API), or else the record list page's
own arguments (field filters, ``q``, ``sort``), so a "Print" link on the list can pass its query
string unchanged. Reading, scopes and hidden fields are the print service's; a record or form the
reader may not see answers 404, a template that fails or a too-large list a page saying why.
"""
from __future__ import annotations

from flask import Blueprint, render_template, request

from engine.access import form_access
from engine.errors import NotFound, QMSError
from engine.services import forms as form_service
from engine.services import printing
from runtime.auth import current_actor, login_required
from runtime.db import db
from runtime.i18n import current_lang, t
from runtime.printing.common import base_url, pdf_response, print_lang

bp = Blueprint("printing", __name__)


def _error(status: int, message: str | None = None):
    default = t("找不到该记录，或者你没有查看权限。", "This record does not exist, or you may not see it.")
    return render_template("printing/error.html", status=status, message=message or default), status


@bp.get("/records/<form_key>/<int:record_id>/print")
@bp.get("/records/<form_key>/<int:record_id>/print/<template_key>")
@login_required
def print_record(form_key: str, record_id: int, template_key: str | None = None):
    """One record as a PDF shown in the browser."""
    try:
        printed = printing.print_record(db(), current_actor(), form_key, record_id,
                                        template_key or request.args.get("template"), base_url=base_url(),
                                        lang=print_lang())
    except NotFound:
        return _error(404)
    except QMSError as exc:
        return _error(422, exc.message.get(current_lang()))
    return pdf_response(printed)


def _list_filter(form_key: str) -> tuple[str | None, str | None]:
    """(filter expression, sort) from ``filter``/``sort``, else from the list page's arguments."""
    if request.args.get("filter"):
        return request.args["filter"], request.args.get("sort")
    from runtime.records import listing       # the list page's own query language, reused as is
    actor = current_actor()
    form = form_service.get_form(db(), actor.tenant_id, form_key)
    hidden = form_access(db(), actor, form_key).hidden_fields
    query = listing.parse_query(request.args, form, hidden)
    return listing.build_filter(query, form, hidden), query.sort


@bp.get("/records/<form_key>/print")
@login_required
def print_list(form_key: str):
    """The matching records (at most printing.MAX_BATCH), each on its own pages, as one PDF."""
    try:
        expression, sort = _list_filter(form_key)
        printed = printing.print_records(db(), current_actor(), form_key, expression, sort,
                                         request.args.get("template"), base_url=base_url(), lang=print_lang())
    except NotFound:
        return _error(404)
    except QMSError as exc:            # a filter that does not check, too many records, a failing template
        return _error(422, exc.message.get(current_lang()))
    return pdf_response(printed)
