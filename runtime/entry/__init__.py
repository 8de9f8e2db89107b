"""Generated form pages (new / edit a record), live formulas, saving, and file uploads."""
from flask import Blueprint

bp = Blueprint("entry", __name__)

from runtime.entry import uploads, views  # noqa: E402,F401  (routes register on import)
