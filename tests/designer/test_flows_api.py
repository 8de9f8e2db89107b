"""GET /designer/api/flow-choices: the tenant's roles, people and departments (never another
tenant's), and the flow vocabulary from the engine's registries and schema."""
from __future__ import annotations

import pytest

from engine.flows.model import ASSIGNEE_KINDS, MEANINGS, MODES, NODE_TYPES, OVERDUE_ACTIONS
from engine.rules.actions import ACTIONS
from engine.services import accounts
from engine.storage.db import session_scope
from tests.runtime.web_support import ADMIN_PASSWORD, make_app, sign_in

URL = "/designer/api/flow-choices"


@pytest.fixture
def app(tmp_path):
    app = make_app(tmp_path)
    engine = app.extensions["qms_db"]
    with session_scope(engine) as s:
        home = accounts.tenant_id_by_key(s, "default")
        accounts.create_role(s, home, "mrb_board", {"zh-CN": "评审委员会", "en": "MRB board"})
        accounts.create_role(s, home, "reader", {"zh-CN": "只读", "en": "Reader"})
        accounts.set_permissions(s, home, "reader", "app:ncr", {"read": "all"})
        accounts.create_role(s, home, "ncr_designer", {"zh-CN": "设计", "en": "Designer"})
        accounts.set_permissions(s, home, "ncr_designer", "app:ncr", {"read": "all", "design": True})
        accounts.create_user(s, home, "mia@home.example", "Mia Home", ADMIN_PASSWORD, roles=["mrb_board"])
        accounts.create_user(s, home, "rita@home.example", "Rita Reader", ADMIN_PASSWORD, roles=["reader"])
        accounts.create_user(s, home, "dora@home.example", "Dora Designer", ADMIN_PASSWORD, roles=["ncr_designer"])
        accounts.create_department(s, home, "quality", {"zh-CN": "质量部", "en": "Quality"})
        other = accounts.create_tenant(s, "globex", "Globex")
        accounts.create_role(s, other, "secret_role", {"zh-CN": "别家角色", "en": "Other's role"})
        accounts.create_user(s, other, "olga@globex.example", "Olga Other", ADMIN_PASSWORD, is_admin=True)
        accounts.create_department(s, other, "other_dept", {"zh-CN": "别家部门", "en": "Other dept"})
    return app


def _choices(app, email="admin@example.com"):
    client = app.test_client()
    assert sign_in(client, email=email).status_code == 302
    return client.get(URL)


def test_tenant_directory_only(app):
    res = _choices(app)
    assert res.status_code == 200 and res.is_json
    data = res.get_json()
    role_keys = {r["key"] for r in data["roles"]}
    assert {"mrb_board", "reader", "ncr_designer"} <= role_keys and "secret_role" not in role_keys
    mrb = next(r for r in data["roles"] if r["key"] == "mrb_board")
    assert mrb["label"] == {"zh-CN": "评审委员会", "en": "MRB board"}
    names = {u["name"] for u in data["users"]}
    assert {"Mia Home", "Dora Designer"} <= names and "Olga Other" not in names
    assert all(isinstance(u["id"], int) for u in data["users"])
    dept_keys = {d["key"] for d in data["departments"]}
    assert "quality" in dept_keys and "other_dept" not in dept_keys
    assert next(d for d in data["departments"] if d["key"] == "quality")["name"]["en"] == "Quality"


def test_other_tenant_sees_its_own(app):
    client = app.test_client()
    assert sign_in(client, email="olga@globex.example", company="globex").status_code == 302
    data = client.get(URL).get_json()
    assert [r["key"] for r in data["roles"]] == ["secret_role"]
    assert [u["name"] for u in data["users"]] == ["Olga Other"]
    assert [d["key"] for d in data["departments"]] == ["other_dept"]


def test_vocabulary_comes_from_the_engine(app):
    data = _choices(app).get_json()
    assert [n["type"] for n in data["node_types"]] == list(NODE_TYPES)
    for node in data["node_types"]:
        assert node["label"]["zh-CN"].strip() and node["label"]["en"].strip()
        assert "id" in node["properties"] and "type" in node["properties"]
    insertable = [n["type"] for n in data["node_types"] if n["insertable"]]
    assert insertable == ["approval", "handle", "cc", "exclusive", "parallel", "automatic"]
    approval = next(n for n in data["node_types"] if n["type"] == "approval")
    assert {"assignees", "mode", "fields", "deadline", "signature"} <= set(approval["properties"])
    assert [k["kind"] for k in data["assignee_kinds"]] == list(ASSIGNEE_KINDS)
    assert [m["key"] for m in data["modes"]] == list(MODES)
    assert [o["key"] for o in data["overdue_actions"]] == list(OVERDUE_ACTIONS)
    assert [m["key"] for m in data["meanings"]] == list(MEANINGS)
    assert [a["type"] for a in data["action_types"]] == list(ACTIONS.keys())
    assert "formula" in data["computed_field_types"] and "text" not in data["computed_field_types"]
    assert "subtable" in data["subtable_field_types"]


def test_designer_role_may_read_choices(app):
    assert _choices(app, "dora@home.example").status_code == 200


def test_people_without_design_right_are_refused(app):
    res = _choices(app, "rita@home.example")
    assert res.status_code == 403 and res.is_json
    assert res.get_json()["error"]["message"]


def test_signed_out_is_401_json(app):
    res = app.test_client().get(URL)
    assert res.status_code == 401 and res.is_json
    assert res.get_json()["error"]["code"] == "unauthorized"
