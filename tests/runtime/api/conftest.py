"""Fixtures of the API tests: the app with two tenants, and a client."""
from __future__ import annotations

import pytest

from tests.runtime.api.support import build, inspection_definition


@pytest.fixture()
def world(tmp_path):
    app, a, b = build(tmp_path)
    a.publish(inspection_definition())
    return app, a, b


@pytest.fixture()
def app(world):
    return world[0]


@pytest.fixture()
def tenant_a(world):
    return world[1]


@pytest.fixture()
def tenant_b(world):
    return world[2]


@pytest.fixture()
def client(app):
    return app.test_client()
