"""Records against their form: submitted JSON → clean values, or every problem at once.

``validate_record`` runs on every save; ``compute_formulas`` recomputes formulas of stored
values; ``blank_record`` gives the values of a new-record page (defaults, formulas).
Problem paths use 0-based row indexes: ``characteristics[0].readings[3].value``.
"""
from engine.forms.record import blank_record, compute_formulas, validate_record

__all__ = ["validate_record", "compute_formulas", "blank_record"]
