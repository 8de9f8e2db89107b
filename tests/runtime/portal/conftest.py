"""Web fixtures for the supplier portal: an app on a temp SQLite file, suppliers A and B with their
records, signed-in clients."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from engine.services import accounts
from engine.storage.db import session_scope
from tests.runtime.portal.support import PASSWORD, World, build
from tests.runtime.web_support import make_app, sign_in


@dataclass
class Site:
    app: object
    world: World

    def client(self, who: str | None = None):
        """A client signed in as supplier ``who``'s portal user, "qe", or (None) the admin."""
        client = self.app.test_client()
        res = sign_in(client) if who is None else sign_in(client, self.world.emails[who], PASSWORD)
        assert res.status_code == 302, res.get_data(as_text=True)[:300]
        return client


@pytest.fixture
def site(tmp_path):
    app = make_app(tmp_path)
    engine = app.extensions["qms_db"]
    with session_scope(engine) as s:
        tenant = accounts.tenant_id_by_key(s, "default")
        admin = accounts.actor_for_user(s, accounts.user_id_by_email(s, tenant, "admin@example.com"), lang="en")
    return Site(app, build(engine, admin))
