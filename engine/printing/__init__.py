"""Print templates: a form's sandboxed Jinja2 HTML rendered to PDF on the server.

Modules: ``sandbox`` (the Jinja2 environment, compile and bounded render), ``checks`` (the
definition check that every template compiles), ``values`` (stored values → display text),
``context`` (the names a template sees), ``qr`` (QR code SVG), ``pdf`` (HTML → PDF with
WeasyPrint, fetching nothing from outside). The use cases live in
:mod:`engine.services.printing`.

This package deliberately imports nothing at import time, so the definition checks can use
``engine.printing.checks`` without loading WeasyPrint.
"""
