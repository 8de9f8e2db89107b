"""Record lists, details, delete, export and import pages (blueprint ``records``)."""
from runtime.records.views import bp
from runtime.records import importing  # noqa: F401  (registers the import and job routes on bp)

__all__ = ["bp"]
