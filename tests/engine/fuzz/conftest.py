"""The API tests' fixtures (app with two tenants, client) for the fuzz tests that call routes."""
from tests.runtime.api.conftest import app, client, tenant_a, tenant_b, world  # noqa: F401
