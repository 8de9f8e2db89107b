"""(being written)"""
from designer.blueprint import bp  # noqa: F401
