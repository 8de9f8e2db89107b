"""Field types: one registered class each (see :mod:`engine.fields.base` for the contract).

``FIELD_TYPES`` is the one registry; the designer's palette, the JSON Schema of a field and the
contract tests are all built from it. A new type = one class + one line below.
"""
from __future__ import annotations

from engine.fields.base import Column, FieldContext, FieldType, InvalidValue, StorageKind
from engine.fields.boolean import BooleanType
from engine.fields.choice import MultiselectType, RadioType, SelectType
from engine.fields.dates import DatetimeType, DateType
from engine.fields.files import AttachmentType, ImageType, SignatureType
from engine.fields.formula import FormulaType
from engine.fields.number import NumberType
from engine.fields.people import DepartmentType, UserType
from engine.fields.reference import LookupType, ReferenceType
from engine.fields.serial import SerialType
from engine.fields.subtable import SubtableType
from engine.fields.text import BarcodeType, TextareaType, TextType
from engine.registry import Registry

FIELD_TYPES: Registry[FieldType] = Registry("field types")

for _cls in (TextType, TextareaType, NumberType, DateType, DatetimeType, SelectType, MultiselectType,
             RadioType, BooleanType, UserType, DepartmentType, AttachmentType, ImageType, SignatureType,
             BarcodeType, SerialType, ReferenceType, LookupType, SubtableType, FormulaType):
    FIELD_TYPES.register(_cls.type, _cls())


def field_type(key: str) -> FieldType:
    """The registered field type ``key`` (RegistryError naming the known keys if unknown)."""
    return FIELD_TYPES.get(key)


__all__ = ["FIELD_TYPES", "field_type", "FieldType", "FieldContext", "Column", "StorageKind", "InvalidValue"]
