"""The REST API at ``/api/v1`` (product.md, "Interfaces other programs rely on").

Modules: ``blueprint`` (sign-in gate, error envelope), ``replies`` (bodies in, JSON out),
``tokens``, ``apps``, ``forms``, ``records``, ``flows`` (flows, tasks, delegations), ``expressions``,
``reports`` (reports and dashboards: definitions, data, drill-down, Excel), ``docs`` (OpenAPI + Swagger UI).
"""
from runtime.api import (apps, bulk, docs, expressions, flows, forms, notifications, records, reports,  # noqa: F401
                         rules, tokens)  # (routes)
from runtime.api.blueprint import bp

__all__ = ["bp"]
