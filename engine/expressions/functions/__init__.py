"""Registers every built-in expression function (one module per category)."""
from engine.expressions.functions.registry import FUNCTIONS, Param, register, function_catalog
from engine.expressions.functions import (logic, numeric, aggregate, text, dates, context, quality,  # noqa: F401
                                          sampling_state)

__all__ = ["FUNCTIONS", "Param", "register", "function_catalog"]
