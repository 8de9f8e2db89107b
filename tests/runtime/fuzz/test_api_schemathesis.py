"""Schemathesis against the tenant's own OpenAPI document: no 5xx, and every reply matches it.

The tenant has the shipped ``qms_base`` and ``iqc`` apps; the document is fetched with a Bearer
token from ``/api/v1/openapi.json`` and every operation is fuzzed with a bounded, derandomised
number of generated requests (positive data: the shapes the document allows) through the WSGI app.
"""
from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)

from engine.storage.db import session_scope
from templates_qms.catalog import install_all
from tests.runtime.api.support import add_tenant, bearer
from tests.runtime.web_support import make_app

EXAMPLES_PER_OPERATION = 10
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]


def _fuzz(operation, headers: dict, counter: list) -> None:
    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def run(case):
        counter[0] += 1
        case.call_and_validate(headers=headers, checks=CHECKS)
    run()


def test_every_operation_answers_within_its_document(tmp_path):
    app = make_app(tmp_path)
    tenant = add_tenant(app, "default")
    with session_scope(app.extensions["qms_db"]) as s:
        install_all(s, tenant.admin, only=["qms_base", "iqc"])
    headers = bearer(tenant.admin_token)
    doc = app.test_client().get("/api/v1/openapi.json", headers=headers).get_json()
    schema = schemathesis.openapi.from_dict(doc)
    schema.app = app
    counter, failures, operations = [0], {}, 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        try:
            _fuzz(operation, headers, counter)
        except Exception as exc:        # noqa: BLE001 — collect every operation's failure, then report them all
            failures[operation.label] = str(exc).split("Reproduce with")[0][:1500]
    print(f"schemathesis: {operations} operations, {counter[0]} cases, {len(failures)} failing")
    assert operations > 60 and counter[0] >= operations * 5
    assert not failures, "\n\n".join(f"{k}:\n{v}" for k, v in failures.items())
