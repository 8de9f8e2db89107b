"""Print pages: a record or a filtered list of records as a PDF (blueprint ``printing``), plus the
two REST API views the ``/api/v1`` blueprint attaches (:mod:`runtime.printing.api`)."""
from runtime.printing.views import bp

__all__ = ["bp"]
