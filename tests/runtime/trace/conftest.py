"""Web fixtures for the trace page and API: an app on a temp SQLite file, the five trace forms with
two linked chains, and signed-in clients."""
from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from engine.services import accounts
from engine.storage.db import session_scope
from tests.engine.services.test_trace import Plant
from tests.runtime.web_support import make_app, sign_in

PASSWORD = "trace-pass-42"


@dataclass
class Site:
    app: object
    plant: Plant
    ids: dict

    def client(self, email: str = "admin@example.com", password: str | None = None):
        client = self.app.test_client()
        res = sign_in(client, email, password) if password else sign_in(client, email)
        assert res.status_code == 302, res.get_data(as_text=True)[:300]
        return client

    def user(self, email: str, **targets) -> str:
        """A user whose role reads every trace form (``targets`` override per form); their email."""
        tenant = self.plant.admin.tenant_id
        key = re.sub(r"[^a-z0-9_]", "_", email.split("@")[0])
        with session_scope(self.plant.engine) as s:
            accounts.create_role(s, tenant, key, {"zh-CN": key, "en": key})
            for form_key in ("supplier", "customer", "material_lot", "batch", "finished_lot", "shipment"):
                accounts.set_permissions(s, tenant, key, f"form:{form_key}", targets.get(form_key, {"read": "all"}))
            accounts.create_user(s, tenant, email, key, PASSWORD, roles=[key], lang="en")
        return email


@pytest.fixture
def site(tmp_path):
    app = make_app(tmp_path)
    engine = app.extensions["qms_db"]
    with session_scope(engine) as s:
        tenant = accounts.tenant_id_by_key(s, "default")
        admin = accounts.actor_for_user(s, accounts.user_id_by_email(s, tenant, "admin@example.com"), lang="en")
    plant = Plant(engine, admin)
    steel = plant.add("supplier", name="Steel Co", code="S1")
    acme = plant.add("customer", name="Acme")
    chain = plant.chain(steel, acme, "A")
    return Site(app, plant, {"steel": steel, "acme": acme, **chain})
