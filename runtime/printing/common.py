"""What the print page and the print API share: request arguments → a PDF response."""
from __future__ import annotations

import os
from urllib.parse import quote

from flask import Response, current_app, request

from engine.services.printing import PrintedPdf
from runtime.i18n import LANGS, current_lang


def base_url() -> str:
    """The site's address for QR codes: QMS_BASE_URL (config or environment), else this request's host."""
    return (current_app.config.get("QMS_BASE_URL") or os.environ.get("QMS_BASE_URL") or request.host_url).rstrip("/")


def print_lang() -> str:
    """``?lang=zh-CN|en`` prints in that language; otherwise the reader's."""
    wanted = request.args.get("lang")
    return wanted if wanted in LANGS else current_lang()


def pdf_response(printed: PrintedPdf, download: bool = False) -> Response:
    """The PDF shown in the browser (``inline``) or saved (``?download=1``); never cached."""
    disposition = "attachment" if download or request.args.get("download") == "1" else "inline"
    name = printed.filename.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    headers = {"Content-Disposition": f"{disposition}; filename=\"{name}\"; filename*=UTF-8''{quote(printed.filename)}",
               "Cache-Control": "no-store", "X-Page-Count": str(printed.pages), "X-Record-Count": str(printed.records)}
    return Response(printed.content, mimetype="application/pdf", headers=headers)
