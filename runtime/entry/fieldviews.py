"""Moved to :mod:`engine.forms.fieldviews` (no Flask there, so the designer's preview can use it)."""
from engine.forms.fieldviews import COMPUTED, FILE_TYPES, Pickers, field_view, field_views, section_views  # noqa: F401
