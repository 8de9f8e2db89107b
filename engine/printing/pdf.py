"""HTML → PDF with WeasyPrint, fetching nothing from outside the document.

A template may write ``<img src="file:///etc/passwd">`` or ``http://intranet/...``: the URL
fetcher allows only ``data:`` URLs (logos and the QR code are inline), so a print can neither
read server files nor reach other hosts. Each record is laid out as its own document (its own
paper size and page numbers) and the pages are joined into one PDF.
"""
from __future__ import annotations

from importlib import resources
from typing import Sequence

from markupsafe import escape

from engine.i18n import msg
from engine.printing.sandbox import PrintError

PAPERS = {"A4": "A4 portrait", "A4-landscape": "A4 landscape", "Letter": "letter portrait"}
MAX_PAGES = 1000


def base_css(paper: str) -> str:
    """The base stylesheet with the page size of ``paper``."""
    css = resources.files("engine.printing").joinpath("layouts/base.css").read_text(encoding="utf-8")
    return css + f"\n@page {{ size: {PAPERS.get(paper, PAPERS['A4'])}; }}\n"


def as_document(html: str, title: str, lang: str) -> str:
    """A full HTML document: a template written as a fragment gets the page shell around it."""
    if "<html" in html[:2000].lower():
        return html
    return (f'<!doctype html><html lang="{escape(lang)}"><head><meta charset="utf-8"><title>{escape(title)}'
            f"</title></head><body>{html}</body></html>")


def _fetcher():
    from weasyprint.urls import URLFetcher
    return URLFetcher(allowed_protocols=("data",), allow_redirects=False, timeout=5)


class _Layouter:
    """Lays out documents of one print, parsing each paper's base stylesheet and loading fonts once."""

    def __init__(self) -> None:
        from weasyprint.text.fonts import FontConfiguration
        self.fonts = FontConfiguration()
        self.fetcher = _fetcher()
        self.sheets: dict[str, object] = {}

    def layout(self, html: str, paper: str):
        """One laid-out WeasyPrint document (pages are known after this)."""
        from weasyprint import CSS, HTML
        if paper not in self.sheets:
            self.sheets[paper] = CSS(string=base_css(paper), url_fetcher=self.fetcher, font_config=self.fonts)
        return HTML(string=html, url_fetcher=self.fetcher).render(stylesheets=[self.sheets[paper]],
                                                                  font_config=self.fonts)


def write_pdf(documents: Sequence[tuple[str, str]]) -> tuple[bytes, int]:
    """(PDF bytes, page count) of ``(html, paper)`` documents joined in order."""
    if not documents:
        raise PrintError(msg("没有可打印的记录", "There is nothing to print"))
    layouter, rendered, pages = _Layouter(), [], 0
    for html, paper in documents:
        doc = layouter.layout(html, paper)
        pages += len(doc.pages)
        if pages > MAX_PAGES:
            raise PrintError(msg("打印内容超过 {n} 页，请分批打印", "The print has more than {n} pages; print fewer "
                                 "records at once", n=MAX_PAGES))
        rendered.append(doc)
    joined = rendered[0].copy([page for doc in rendered for page in doc.pages])
    return joined.write_pdf(), pages
