"""Definitions: JSON Schemas, frozen dataclasses and the semantic checklist."""
