"""QR codes as inline SVG (segno: pure Python, no image files), so a PDF needs no fetch."""
from __future__ import annotations

import segno

MAX_URL = 1000


def qr_svg(text: str, size_mm: int = 22) -> str:
    """An inline ``<svg>`` QR code of ``text`` (a record's URL), drawn ``size_mm`` wide.

    Error correction "M" survives a smudged printout; the viewBox lets CSS scale it crisply.
    """
    code = segno.make(text[:MAX_URL], error="m", micro=False)
    svg = code.svg_inline(scale=1, border=2, svgclass="qr", lineclass=None, omitsize=True)
    return svg.replace("<svg ", f'<svg style="width:{size_mm}mm;height:{size_mm}mm" ', 1)
