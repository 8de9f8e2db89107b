"""The JSON Schemas (draft 2020-12) of definitions, shipped as package data.

``field.schema.json`` is generated from the field-type registry:
``python -m engine.definitions.field_schema`` rewrites it. The others are written by hand.
"""
