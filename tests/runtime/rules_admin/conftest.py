"""Two companies, each a rule world (forms, people, rules; tests/engine/rules/support.py), in one
app on a temp SQLite database, with signed-in clients and the outbox run synchronously.

The ``rules_admin`` blueprint is registered here while app.py does not register it yet.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from sqlalchemy import select

import app as app_module
from engine.jobs import queue
from engine.services import accounts
from engine.storage.db import session_scope
from engine.storage.platform import users
from tests.engine.rules.support import L, PASSWORD, World, make_world

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')

WEBHOOK_RULE = {"format": 1, "key": "erp_receipt", "label": L("ERP 收货建批次", "ERP receipt opens a lot"),
                "trigger": {"type": "webhook", "fields": [
                    {"key": "lot_no", "type": "text", "required": True},
                    {"key": "qty", "path": "receipt.qty", "type": "number"}]},
                "actions": [{"type": "create_record", "form": "lot", "values": {"lot_no": "lot_no"}}]}

FAILING_RULE = {"format": 1, "key": "ng_breaks", "label": L("坏规则", "Broken rule"), "form": "iqc",
                "trigger": {"type": "record_created"},
                "actions": [{"type": "create_record", "form": "ncr", "values": {"lot_no": "lot_no"}},
                            {"type": "update_records", "target": {"form": "ncr", "match": {"lot_no": "lot_no"}},
                             "values": {"qty": "qty / 0"}}]}


@dataclass
class Company:
    key: str
    world: World
    emails: dict[int, str]

    @property
    def admin(self):
        return self.world.admin

    def add_designer(self, name: str = "dora", form: str = "iqc"):
        """A person whose only right is designing ``form`` (and reading its records)."""
        tenant_id = self.admin.tenant_id
        with self.world.session() as s:
            accounts.create_role(s, tenant_id, f"{form}_designer", L("设计", "Designer"))
            accounts.set_permissions(s, tenant_id, f"{form}_designer", f"form:{form}", {"read": "all", "design": True})
            email = f"{name}@{self.key}.example"
            user_id = accounts.create_user(s, tenant_id, email, name.title(), PASSWORD, roles=[f"{form}_designer"],
                                           lang="en")
            self.world.people[name] = accounts.actor_for_user(s, user_id)
        self.emails[user_id] = email
        return self.world.people[name]


@dataclass
class Site:
    app: object
    a: Company
    b: Company

    def client(self, company: Company, who: str = "admin"):
        """A client signed in as the company's admin or one of its people (ivan, paula, quinn, …)."""
        actor = company.admin if who == "admin" else company.world[who]
        client = self.app.test_client()
        res = client.post("/login", data={"company": company.key, "email": company.emails[actor.user_id],
                                           "password": PASSWORD, "csrf_token": csrf(client, "/login")})
        assert res.status_code == 302, res.get_data(as_text=True)[:300]
        return client


def csrf(client, path: str = "/admin/rules") -> str:
    return CSRF.search(client.get(path).get_data(as_text=True)).group(1)


def post(client, path: str, data: dict | None = None, token_from: str = "/admin/rules", **kwargs):
    return client.post(path, data={"csrf_token": csrf(client, token_from), **(data or {})}, **kwargs)


def page(client, path: str) -> tuple[int, str]:
    res = client.get(path)
    return res.status_code, res.get_data(as_text=True)


def _company(engine, key: str) -> Company:
    with session_scope(engine) as s:
        tenant_id = accounts.create_tenant(s, key, key.title())
        admin = accounts.actor_for_user(s, accounts.create_user(s, tenant_id, f"boss@{key}.example", "Boss", PASSWORD,
                                                                is_admin=True, lang="en"))
    world = make_world(engine, admin)
    with session_scope(engine) as s:
        emails = dict(s.execute(select(users.c.id, users.c.email).where(users.c.tenant_id == tenant_id)).all())
    return Company(key, world, emails)


@pytest.fixture
def site(tmp_path):
    app = app_module.create_app({"QMS_DATA_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/qms.db",
                                 "TESTING": True, "SECRET_KEY": "test-secret"})
    if "rules_admin" not in app.blueprints:         # until app.py registers it
        from runtime import rules_admin
        app.register_blueprint(rules_admin.bp)
    engine = app.extensions["qms_db"]
    a, b = _company(engine, "acme"), _company(engine, "globex")
    previous = queue.use(a.world.backend)            # one deferred backend: run_jobs() runs both companies' jobs
    b.world.backend = a.world.backend
    yield Site(app, a, b)
    queue.use(previous)
