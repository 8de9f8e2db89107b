"""Definitions: JSON Schemas, frozen dataclasses and the semantic checklist.

Public API::

    check_definition(data, kind="form"|"app", known_forms=None) -> list[Problem]
    load_form(data, known_forms=None) -> FormDef        # raises DefinitionError
    load_app(data, known_forms=None) -> AppPackage      # raises DefinitionError
    form_scope(form, forms=None) -> Scope
    row_scope(form, ("items", "readings"), forms=None) -> Scope
"""
from engine.definitions.loader import CHECKLIST, check_definition, load_app, load_form
from engine.definitions.model import AppPackage, Expr, FieldDef, FormDef, ValidationRule
from engine.definitions.scopes import form_scope, form_types, row_scope
from engine.definitions.upgrades import CURRENT_FORMAT

__all__ = ["check_definition", "load_form", "load_app", "form_scope", "row_scope", "form_types", "CHECKLIST",
           "CURRENT_FORMAT", "AppPackage", "Expr", "FieldDef", "FormDef", "ValidationRule"]
