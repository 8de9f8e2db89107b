"""Print use cases: one record, or the records matching a filter, as one PDF.

Records are read through :mod:`engine.services.records` (read scope in SQL, hidden fields
removed), names through :func:`engine.services.names.names_for` (reference titles only when the
reader may read the target), the approval history and e-signatures through
:func:`engine.services.flow_queries.history`. Then the pure :mod:`engine.printing` renders the
form's template in the sandbox and WeasyPrint lays out the PDF. Read-only: nothing is written.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone, tzinfo
from typing import Any, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import access as access_control
from engine.definitions.model import FormDef, PrintDef
from engine.errors import NotFound
from engine.i18n import label_text, msg
from engine.printing import pdf, sandbox, templates
from engine.printing.context import PrintInput, build_context
from engine.printing.qr import qr_svg
from engine.printing.sandbox import PrintError
from engine.services import flow_queries, flows
from engine.services import records as record_service
from engine.services.names import names_for
from engine.storage import form_store
from engine.storage.platform import tenants
from engine.storage.records import Record
from engine.types import Actor

# Laying out costs about 0.3-0.5 s per page (measured: 40 two-page IQC reports in ~35 s), so a
# request stays bounded by printing at most this many records at once.
MAX_BATCH = 100


@dataclass(frozen=True)
class PrintedPdf:
    """A rendered print: the PDF bytes, its page and record counts, and a file name to offer."""

    content: bytes
    pages: int
    records: int
    filename: str


@dataclass(frozen=True)
class _Setting:
    """What every record of one print shares."""

    form: FormDef
    chosen: PrintDef
    hidden: frozenset[str]
    company: dict
    base_url: str
    lang: str
    tz: tzinfo
    now: datetime


def record_url(base_url: str, form_key: str, record_id: int) -> str:
    """The record page's address (what the QR code holds)."""
    return f"{(base_url or '').rstrip('/')}/f/{form_key}/{record_id}"


def _company(session: Session, tenant_id: int) -> dict:
    """The tenant's name for the header (tenants have no logo yet, so templates print the name)."""
    name = session.execute(select(tenants.c.name).where(tenants.c.id == tenant_id)).scalar()
    return {"name": name or "", "logo": None}


def _setting(session: Session, actor: Actor, form_key: str, template_key: str | None, base_url: str,
             lang: str | None, now: datetime | None) -> _Setting:
    """Load the form and its template, the reader's hidden fields, company, language and time zone."""
    form = form_store.load_published(session, actor.tenant_id, form_key).form
    allowed = access_control.form_access(session, actor, form_key)
    if not allowed.read.allows_any:         # like the record pages: never reveal what one may not read
        raise NotFound(msg("找不到表单", "No such form"))
    chosen = templates.choose(form, template_key)
    sandbox.compile_template(chosen.template)         # a broken template fails before any record is read
    zone = ZoneInfo(flows.calendar_of(session, actor.tenant_id).timezone)
    return _Setting(form, chosen, frozenset(allowed.hidden_fields), _company(session, actor.tenant_id),
                    base_url, lang if lang in ("zh-CN", "en") else actor.lang, zone,
                    now or datetime.now(timezone.utc))


def _html(session: Session, actor: Actor, setting: _Setting, record: Record, names: Any) -> str:
    """One record rendered through the chosen template into a full HTML document."""
    shown_form = setting.form if record.def_version == setting.form.version else \
        form_store.load_published(session, actor.tenant_id, setting.form.key, record.def_version).form
    fields = tuple(f for f in shown_form.fields if f.key not in setting.hidden)
    url = record_url(setting.base_url, setting.form.key, record.id)
    flow = flow_queries.history(session, actor, setting.form.key, record.id)
    data = PrintInput(form=shown_form, fields=fields, record=record, names=names, flow=flow,
                      company=setting.company, url=url, qr=qr_svg(url))
    html = sandbox.render(setting.chosen.template, build_context(data, setting.lang, setting.tz, setting.now))
    title = f"{label_text(setting.form.label, setting.lang)} {record.serial_no or record.id}"
    return pdf.as_document(html, title, setting.lang)


def _printed(session: Session, actor: Actor, setting: _Setting, items: Sequence[Record], name: str) -> PrintedPdf:
    visible = [f for f in setting.form.fields if f.key not in setting.hidden]
    names = names_for(session, actor, visible, [r.data for r in items])
    documents = [(_html(session, actor, setting, r, names), setting.chosen.paper) for r in items]
    content, pages = pdf.write_pdf(documents)
    return PrintedPdf(content, pages, len(items), f"{name}.pdf")


def print_record(session: Session, actor: Actor, form_key: str, record_id: int, template_key: str | None = None,
                 *, base_url: str = "", lang: str | None = None, now: datetime | None = None) -> PrintedPdf:
    """One record as a PDF with the form's template ``template_key`` (default: its first, else the
    standard layout). NotFound outside the read scope or for an unknown template; PrintError when the
    template fails. ``base_url``: the site's address, for the QR code."""
    setting = _setting(session, actor, form_key, template_key, base_url, lang, now)
    record = record_service.get_record(session, actor, form_key, record_id)
    return _printed(session, actor, setting, [record], f"{form_key}-{record.serial_no or record.id}")


def record_html(session: Session, actor: Actor, form_key: str, record_id: int, template_key: str | None = None,
                *, base_url: str = "", lang: str | None = None, now: datetime | None = None) -> str:
    """The HTML document :func:`print_record` lays out (a preview, and what tests read): the same
    template, permissions and context, without the PDF step."""
    setting = _setting(session, actor, form_key, template_key, base_url, lang, now)
    record = record_service.get_record(session, actor, form_key, record_id)
    names = names_for(session, actor, [f for f in setting.form.fields if f.key not in setting.hidden], [record.data])
    return _html(session, actor, setting, record, names)


def print_records(session: Session, actor: Actor, form_key: str, filter: str | None = None, sort: str | None = None,
                  template_key: str | None = None, *, base_url: str = "", lang: str | None = None,
                  now: datetime | None = None, tz: tzinfo | None = None) -> PrintedPdf:
    """The records matching ``filter`` (the record list's expression syntax), each on its own pages,
    as one PDF. At most :data:`MAX_BATCH` records: more is a PrintError asking for a narrower filter."""
    setting = _setting(session, actor, form_key, template_key, base_url, lang, now)
    page = record_service.query_records(session, actor, form_key, filter=filter, sort=sort or "id", page=1,
                                        per_page=MAX_BATCH, now=setting.now, tz=tz or setting.tz)
    if page.total is not None and page.total > MAX_BATCH:
        raise PrintError(msg("有 {n} 条记录符合条件，一次最多打印 {m} 条，请缩小筛选范围",
                             "{n} records match; at most {m} can be printed at once — narrow the filter",
                             n=page.total, m=MAX_BATCH))
    if not page.items:
        raise PrintError(msg("没有符合条件的记录可打印", "No records match: there is nothing to print"))
    return _printed(session, actor, setting, page.items, f"{form_key}-{setting.now.strftime('%Y%m%d-%H%M')}")
