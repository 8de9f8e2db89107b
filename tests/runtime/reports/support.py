"""An app with two companies, each the reports shop of tests/engine/reports/support.py (suppliers,
incoming inspections with defects, a restricted inspector and a viewer who may not see costs),
plus published reports and a dashboard, API tokens and signed-in browser clients."""
from __future__ import annotations

import copy
from dataclasses import dataclass, field

from engine.services import accounts, logins
from engine.services import dashboards as dashboard_service
from engine.storage.db import session_scope
from tests.engine.reports.support import PASSWORD, Shop, make_shop, report
from tests.runtime.api.support import Tenant, add_tenant
from tests.runtime.web_support import CSRF_RE, make_app

L = lambda zh, en: {"zh-CN": zh, "en": en}  # noqa: E731

PARETO = report("defect_pareto", {"form": "iqc", "dimensions": [{"field": "defects.code", "key": "code"}],
                                  "measures": [{"agg": "sum", "field": "defects.qty", "key": "qty"}]}, {"type": "pareto"})
LOTS = report("lots", {"form": "iqc", "measures": [{"agg": "count", "key": "n"}]}, {"type": "kpi"})
BY_SUPPLIER = report("lots_by_supplier", {"form": "iqc", "dimensions": [{"field": "supplier", "key": "supplier"}],
                                          "measures": [{"agg": "count", "key": "n"},
                                                       {"agg": "rate", "where": 'result = "accept"', "key": "pass"}]},
                     {"type": "bar"})
SUPPLIERS = report("suppliers", {"form": "supplier", "dimensions": [{"field": "region"}],
                                 "measures": [{"agg": "count", "key": "n"}]}, {"type": "pie"})
BOARD = {"format": 1, "key": "quality", "label": L("质量看板", "Quality board"), "refresh": 60,
         "filters": [{"key": "period", "label": L("期间", "Period"), "type": "date_range", "field": "inspect_date"},
                     {"key": "supplier", "label": L("供应商", "Supplier"), "type": "field", "field": "supplier"},
                     {"key": "part", "label": L("料号", "Part"), "type": "field", "field": "part"}],
         "items": [{"report": "defect_pareto", "x": 0, "y": 0, "w": 6, "h": 4},
                   {"report": "lots", "x": 6, "y": 0, "w": 3, "h": 2},
                   {"report": "suppliers", "x": 9, "y": 0, "w": 3, "h": 2},
                   {"report": "lots_by_supplier", "x": 6, "y": 2, "w": 6, "h": 2}]}


@dataclass
class Company:
    """One tenant: its shop (forms, records, people), API tokens by person, the admin's token."""

    tenant: Tenant
    shop: Shop
    tokens: dict[str, str] = field(default_factory=dict)
    emails: dict[str, str] = field(default_factory=dict)

    @property
    def admin_token(self) -> str:
        return self.tenant.admin_token


@dataclass
class Site:
    app: object
    a: Company
    b: Company

    def client(self):
        return self.app.test_client()


def _company(app, key: str, lots: int) -> Company:
    tenant = add_tenant(app, key)
    shop = make_shop(app.extensions["qms_db"], tenant.admin, lots=lots, seed=7 if key == "default" else 11)
    company = Company(tenant, shop)
    with session_scope(tenant.engine) as s:
        accounts.create_role(s, tenant.tenant_id, "outsider", L("外人", "Outsider"))
        accounts.set_permissions(s, tenant.tenant_id, "outsider", "form:supplier", {"read": "all"})
        uid = accounts.create_user(s, tenant.tenant_id, f"otto@{key}.reports.cn", "Otto", PASSWORD, roles=["outsider"],
                                   lang="en")
        shop.people["otto"] = accounts.actor_for_user(s, uid)
        for name, actor in shop.people.items():
            company.tokens[name] = logins.create_api_token(s, tenant.tenant_id, actor.user_id, "test")
        company.emails = {"ivan": "ivan@reports.cn", "vera": "vera@reports.cn", "otto": f"otto@{key}.reports.cn"}
    for definition in (PARETO, LOTS, BY_SUPPLIER, SUPPLIERS):
        shop.publish(definition)
    with session_scope(tenant.engine) as s:
        dashboard_service.publish_dashboard(s, tenant.admin, copy.deepcopy(BOARD))
    return company


def build_site(tmp_path, lots: int = 40) -> Site:
    """Tenant "default" (A) and tenant "other" (B), each with the shop, reports and the dashboard."""
    app = make_app(tmp_path)
    return Site(app, _company(app, "default", lots), _company(app, "other", lots))


def sign_in(client, email: str, password: str, company: str = "default"):
    html = client.get("/login").get_data(as_text=True)
    token = CSRF_RE.search(html).group(1)
    res = client.post("/login", data={"company": company, "email": email, "password": password, "csrf_token": token})
    assert res.status_code in (302, 303), res.get_data(as_text=True)[:400]
    return client


def csrf(client, path: str = "/") -> str:
    return CSRF_RE.search(client.get(path).get_data(as_text=True)).group(1)
