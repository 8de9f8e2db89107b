"""The REST API at ``/api/v1`` (product.md, "Interfaces other programs rely on").

Modules: ``blueprint`` (sign-in gate, error envelope), ``replies`` (bodies in, JSON out),
``tokens``, ``apps``, ``forms``, ``records``, ``flows`` (flows, tasks, delegations), ``expressions``,
``reports`` (reports and dashboards: definitions, data, drill-down, Excel), ``docs`` (OpenAPI + Swagger UI).
"""
from runtime.api import (apps, bulk, docs, expressions, flows, forms, notifications, records, reports,  # noqa: F401
                         rules, tokens)  # (routes)
from runtime.api.blueprint import bp
from runtime.printing.api import print_record_pdf, print_records_pdf
from runtime.trace.api import trace_json

bp.add_url_rule("/trace/<form_key>/<int:record_id>", endpoint="trace", view_func=trace_json, methods=["GET"])
bp.add_url_rule("/forms/<form_key>/records/<int:record_id>/print", "print_record", print_record_pdf)
bp.add_url_rule("/forms/<form_key>/print", "print_records", print_records_pdf)

__all__ = ["bp"]
