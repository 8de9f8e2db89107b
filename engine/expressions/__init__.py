"""The expression language (see docs/expressions.md). Public API is filled in by the modules."""
