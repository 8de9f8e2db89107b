"""The rule designer's API: pickers from the registries and the tenant, the cron hint, records to
try a rule on, and the test run — permissions, tenant isolation, and nothing written."""
from __future__ import annotations

import copy

import pytest
from sqlalchemy import func, select

from engine.rules import ACTIONS, TRIGGERS
from engine.services import accounts
from engine.storage.db import session_scope
from engine.storage.rule_tables import rule_outbox
from tests.engine.rules.support import NG_OPENS_NCR, make_world
from tests.runtime.web_support import ADMIN_PASSWORD, csrf_from, make_app, sign_in

API = "/designer/api"


class Site:
    def __init__(self, app, home_world, other_world):
        self.app, self.home, self.other = app, home_world, other_world

    def client(self, email: str = "admin@example.com", company: str = "default", lang: str = "en"):
        client = self.app.test_client()
        assert sign_in(client, email=email, company=company, password=ADMIN_PASSWORD).status_code == 302
        client.environ_base.update({"HTTP_X_CSRFTOKEN": csrf_from(client, "/"), "HTTP_ACCEPT_LANGUAGE": lang})
        return client


@pytest.fixture()
def site(tmp_path):
    app = make_app(tmp_path)
    engine = app.extensions["qms_db"]
    with session_scope(engine) as s:
        home = accounts.tenant_id_by_key(s, "default")
        admin = accounts.actor_for_user(s, accounts.user_id_by_email(s, home, "admin@example.com"))
        accounts.create_role(s, home, "iqc_designer", {"zh-CN": "设计", "en": "Designer"})
        accounts.set_permissions(s, home, "iqc_designer", "form:iqc", {"read": "all", "design": True})
        accounts.create_user(s, home, "dora@home.example", "Dora Designer", ADMIN_PASSWORD, roles=["iqc_designer"])
        accounts.create_user(s, home, "paul@home.example", "Plain Paul", ADMIN_PASSWORD)
        other = accounts.create_tenant(s, "globex", "Globex")
        olga = accounts.actor_for_user(s, accounts.create_user(s, other, "olga@globex.example", "Olga Other",
                                                               ADMIN_PASSWORD, is_admin=True))
    return Site(app, make_world(engine, admin), make_world(engine, olga))


def _ng(world) -> int:
    return world.create("iqc", who="admin", lot_no="L-7", qty=120, result="NG", inspector=world["ivan"].user_id,
                        defects=[{"code": "D1", "n": 3}])


def _try(client, record_id, definition=None):
    return client.post(f"{API}/rules/trial", json={"definition": copy.deepcopy(definition or NG_OPENS_NCR),
                                                   "record_id": record_id})


def test_choices_come_from_the_registries_and_the_tenant(site):
    data = site.client().get(f"{API}/rule-choices").get_json()
    assert [t["type"] for t in data["triggers"]] == list(TRIGGERS.keys())
    assert [a["type"] for a in data["actions"]] == list(ACTIONS.keys())
    create = next(a for a in data["actions"] if a["type"] == "create_record")
    assert create["label"] == {"zh-CN": "新建记录", "en": "Create a record"} and "values" in create["options"]
    assert create["options"]["form"]["pattern"]                    # references resolved for generic forms
    iqc = next(f for f in data["forms"] if f["key"] == "iqc")
    qty = next(f for f in iqc["fields"] if f["key"] == "qty")
    assert qty["expect"] == "number" and qty["writable"] is True
    assert next(f for f in iqc["fields"] if f["key"] == "inspector")["is_user"] is True
    assert next(f for f in iqc["fields"] if f["key"] == "defects")["fields"][1]["expect"] == "number"
    assert {"inspector", "purchasing", "quality"} <= {r["key"] for r in data["roles"]}
    assert "Paula" in {u["name"] for u in data["users"]} and "Olga Other" not in {u["name"] for u in data["users"]}


def test_choices_need_design_permission(site):
    assert site.client("paul@home.example").get(f"{API}/rule-choices").status_code == 403
    assert site.client("dora@home.example").get(f"{API}/rule-choices").status_code == 200
    res = site.app.test_client().get(f"{API}/rule-choices")
    assert res.status_code == 401 and res.is_json


def test_cron_hint(site):
    client = site.client()
    ok = client.get(f"{API}/rules/cron", query_string={"cron": "0 8 * * 1", "timezone": "Asia/Shanghai"}).get_json()
    assert ok["ok"] is True and len(ok["next"]) == 5 and ok["next"][0].endswith("08:00:00+08:00")
    bad = client.get(f"{API}/rules/cron", query_string={"cron": "every day"}).get_json()
    assert bad["ok"] is False and "cron" in bad["message"] and bad["next"] == []


def test_trial_records_search(site):
    first, second = _ng(site.home), _ng(site.home)
    client = site.client()
    items = client.get(f"{API}/rules/trial-records", query_string={"form": "iqc"}).get_json()["items"]
    assert [i["id"] for i in items] == [second, first]
    found = client.get(f"{API}/rules/trial-records", query_string={"form": "iqc", "q": "0002"}).get_json()["items"]
    assert [i["serial_no"] for i in found] == ["IQC-0002"]
    assert client.get(f"{API}/rules/trial-records", query_string={"form": "iqc", "q": '") OR ('}).status_code == 200


def test_trial_shows_what_would_happen_and_writes_nothing(site):
    record_id = _ng(site.home)
    engine = site.app.extensions["qms_db"]
    with session_scope(engine) as s:
        before = s.execute(select(func.count()).select_from(rule_outbox)).scalar()
    ncrs = len(site.home.records("ncr"))
    res = _try(site.client(), record_id)
    assert res.status_code == 200, res.get_data(as_text=True)
    data = res.get_json()
    assert data["condition"]["passed"] is True and data["runs"] is True
    create = data["actions"][0]
    assert create["summary"] == "将在“不合格品报告”新建 1 条记录"          # the admin reads Chinese
    qty = next(d for d in create["details"] if d.get("field") == "qty")
    assert qty["path"] == "/actions/0/values/qty" and qty["text"] == "120"
    assert len(site.home.records("ncr")) == ncrs
    with session_scope(engine) as s:
        assert s.execute(select(func.count()).select_from(rule_outbox)).scalar() == before


def test_trial_with_a_broken_draft_lists_problems_as_pointers(site):
    broken = {**NG_OPENS_NCR, "condition": "qty +", "actions": []}
    data = _try(site.client(), _ng(site.home), broken).get_json()
    assert {"/condition", "/actions"} <= {p["path"] for p in data["problems"]}


def test_trial_permissions_and_isolation(site):
    record_id = _ng(site.home)
    assert _try(site.client("paul@home.example"), record_id).status_code == 403
    assert _try(site.client("dora@home.example"), record_id).status_code == 200
    foreign = _try(site.client("olga@globex.example", company="globex"), record_id)
    assert foreign.status_code == 404 and foreign.get_json()["error"]["code"] == "not_found"
    assert _try(site.client(), 999_999).status_code == 404
    assert site.client().post(f"{API}/rules/trial", json={"definition": "x"}).status_code == 400
    client = site.client()
    client.environ_base.pop("HTTP_X_CSRFTOKEN")
    assert _try(client, record_id).status_code == 400


def test_required_target_fields_are_marked_for_the_mapping_table():
    """The create-record mapping lists a target form's required fields up front (they must be mapped)."""
    from engine.definitions import load_form
    from engine.services.rule_choices import form_choice
    form = load_form({"format": 1, "key": "ng_report", "label": {"zh-CN": "通报", "en": "Report"}, "fields": [
        {"key": "lot", "type": "text", "label": {"zh-CN": "批号", "en": "Lot"}, "required": True},
        {"key": "note", "type": "text", "label": {"zh-CN": "备注", "en": "Note"}},
        {"key": "urgent", "type": "boolean", "label": {"zh-CN": "紧急", "en": "Urgent"}, "required": {"expr": "TRUE"}}]})
    fields = {f["key"]: f for f in form_choice(form)["fields"]}
    assert fields["lot"]["required"] is True
    assert fields["note"]["required"] is False
    assert fields["urgent"]["required"] is False        # a condition: known only per record
