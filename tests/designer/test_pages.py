"""The designer's pages: the apps list, an app's overview and each kind's editor page (with its
config JSON), the navigation link, permissions (403), tenant isolation (404) and escaping."""
from __future__ import annotations

import json
import re

import pytest

from engine.services import accounts
from engine.storage.db import session_scope
from tests.runtime.web_support import ADMIN_PASSWORD, csrf_from, make_app, sign_in

API = "/designer/api"
CONFIG = re.compile(r'<script type="application/json" id="designer-config">(.*?)</script>', re.S)


def L(zh: str, en: str) -> dict:
    return {"zh-CN": zh, "en": en}


def client_for(app, email: str = "admin@example.com", company: str = "default", lang: str = "en"):
    client = app.test_client()
    assert sign_in(client, email=email, company=company).status_code == 302
    client.environ_base.update({"HTTP_X_CSRFTOKEN": csrf_from(client, "/"), "HTTP_ACCEPT_LANGUAGE": lang})
    return client


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """One app "qa" with a published form "lot" and a draft of every other kind; a plain user; another tenant."""
    app = make_app(tmp_path_factory.mktemp("pages"))
    with session_scope(app.extensions["qms_db"]) as s:
        home = accounts.tenant_id_by_key(s, "default")
        accounts.create_user(s, home, "paul@home.example", "Plain Paul", ADMIN_PASSWORD, lang="en")
        other = accounts.create_tenant(s, "globex", "Globex")
        accounts.create_user(s, other, "olga@globex.example", "Olga Other", ADMIN_PASSWORD, is_admin=True, lang="en")
    admin = client_for(app)
    assert admin.post(f"{API}/apps", json={"key": "qa", "label": L("质量<script>alert(1)</script>", "Quality")}).status_code == 201
    assert admin.post(f"{API}/apps/qa/forms", json={"key": "lot", "label": L("批次", "Lot")}).status_code == 201
    definition = {"format": 1, "key": "lot", "label": L("批次", "Lot"),
                  "fields": [{"key": "lot_no", "type": "text", "label": L("批号", "Lot number")}]}
    assert admin.put(f"{API}/drafts/form/lot", json={"definition": definition, "revision": 1}).status_code == 200
    assert admin.post(f"{API}/drafts/form/lot/publish", json={"revision": 2}).status_code == 200
    for plural, extra in (("flows", {"form": "lot"}), ("rules", {"form": "lot"}), ("reports", {"form": "lot"}),
                          ("dashboards", {})):
        reply = admin.post(f"{API}/apps/qa/{plural}", json={"key": f"lot_{plural[:-1]}", "label": L("甲", f"A {plural}"), **extra})
        assert reply.status_code == 201, reply.get_json()
    return app


@pytest.fixture(scope="module")
def admin(site):
    return client_for(site)


def test_apps_page_lists_designable_apps_with_new_app_dialog(admin):
    page = admin.get("/designer/").get_data(as_text=True)
    assert 'data-testid="app-qa"' in page and "/designer/apps/qa" in page
    assert 'data-testid="new-app-dialog"' in page and "designer/js/core.js" in page


def test_app_overview_shows_every_kind_with_versions_drafts_and_new_dialogs(admin):
    reply = admin.get("/designer/apps/qa")
    page = reply.get_data(as_text=True)
    assert reply.status_code == 200
    for plural in ("forms", "flows", "rules", "reports", "dashboards"):
        assert f'data-testid="section-{plural}"' in page
    for kind in ("form", "flow", "rule", "report", "dashboard"):
        assert f'data-testid="new-{kind}-dialog"' in page
    assert 'data-testid="def-form-lot"' in page and "v1" in page
    assert page.count('data-testid="draft-badge"') == 4          # flow, rule, report, dashboard drafts
    assert "/designer/apps/qa/flows/lot_flow" in page
    assert '<option value="lot">' in page                          # the form a new flow/rule/report works on


def test_labels_are_escaped(admin):
    for path in ("/designer/", "/designer/apps/qa", "/designer/apps/qa/forms/lot"):
        page = admin.get(path, headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
        assert "<script>alert(1)</script>" not in page
    assert "质量&lt;script&gt;alert(1)&lt;/script&gt;" in admin.get("/designer/apps/qa", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)


@pytest.mark.parametrize("plural,kind,key", [("forms", "form", "lot"), ("flows", "flow", "lot_flow"),
                                             ("rules", "rule", "lot_rule"), ("reports", "report", "lot_report"),
                                             ("dashboards", "dashboard", "lot_dashboard")])
def test_editor_page_has_shell_and_config(admin, plural, kind, key):
    reply = admin.get(f"/designer/apps/qa/{plural}/{key}")
    page = reply.get_data(as_text=True)
    assert reply.status_code == 200
    for testid in ("publish", "versions", "save-status", "conflict", "problems", "editor-root"):
        assert f'data-testid="{testid}"' in page
    assert 'id="editor-root"' in page
    config = json.loads(CONFIG.search(page).group(1))
    assert config["kind"] == kind and config["key"] == key and config["app_key"] == "qa" and config["lang"] in ("zh-CN", "en")
    assert config["draft"]["definition"]["key"] == key
    assert config["draft"]["revision"] == (0 if kind == "form" else 1)
    assert config["urls"]["draft"] == f"/designer/api/drafts/{kind}/{key}"
    assert config["urls"]["restore"] == f"/designer/api/versions/{kind}/{key}/{{n}}/restore"
    assert [f["key"] for f in config["forms"]] == ["lot"]
    assert config["forms"][0]["fields"][0]["key"] == "lot_no"
    assert "designer/js/core.js" in page and "designer/js/shell.js" in page and "designer/css/designer.css" in page


def test_config_json_cannot_break_out_of_its_script(admin):
    definition = {"format": 1, "key": "lot", "label": L("</script><b>x</b>", "Lot"), "fields": []}
    assert admin.put(f"{API}/drafts/form/lot", json={"definition": definition, "revision": 0}).status_code == 200
    page = admin.get("/designer/apps/qa/forms/lot").get_data(as_text=True)
    config = json.loads(CONFIG.search(page).group(1))
    assert config["draft"]["definition"]["label"]["zh-CN"] == "</script><b>x</b>"
    assert "<b>x</b>" not in page
    draft = admin.get(f"{API}/drafts/form/lot").get_json()
    assert admin.delete(f"{API}/drafts/form/lot", json={"revision": draft["revision"]}).status_code in (200, 204)


def test_unknown_kind_app_or_definition_is_404(admin):
    assert admin.get("/designer/apps/qa/widgets/lot").status_code == 404
    assert admin.get("/designer/apps/nope").status_code == 404
    assert admin.get("/designer/apps/qa/forms/nope").status_code == 404


def test_other_tenant_sees_404_not_the_app(site):
    olga = client_for(site, "olga@globex.example", company="globex")
    for path in ("/designer/apps/qa", "/designer/apps/qa/forms/lot"):
        reply = olga.get(path)
        assert reply.status_code == 404 and "Quality" not in reply.get_data(as_text=True)
    assert 'data-testid="app-qa"' not in olga.get("/designer/").get_data(as_text=True)


def test_user_without_design_permission_gets_403_and_no_nav_link(site):
    paul = client_for(site, "paul@home.example")
    for path in ("/designer/apps/qa", "/designer/apps/qa/forms/lot", "/designer/apps/qa/flows/lot_flow"):
        reply = paul.get(path)
        assert reply.status_code == 403, path
        assert 'data-testid="designer-error"' in reply.get_data(as_text=True)
    home = paul.get("/").get_data(as_text=True)
    assert 'data-testid="nav-designer"' not in home and 'data-testid="design-app-qa"' not in home


def test_designer_of_the_app_gets_the_pages_and_the_link(site):
    with session_scope(site.extensions["qms_db"]) as s:
        home = accounts.tenant_id_by_key(s, "default")
        accounts.create_role(s, home, "qa_designer", L("设计", "Designer"))
        accounts.set_permissions(s, home, "qa_designer", "app:qa", {"read": "all", "design": True})
        accounts.create_user(s, home, "dora@home.example", "Dora", ADMIN_PASSWORD, roles=["qa_designer"], lang="en")
    dora = client_for(site, "dora@home.example")
    assert 'data-testid="nav-designer"' in dora.get("/").get_data(as_text=True)
    page = dora.get("/designer/").get_data(as_text=True)
    assert 'data-testid="app-qa"' in page and 'data-testid="new-app"' not in page
    assert dora.get("/designer/apps/qa/forms/lot").status_code == 200


def test_nav_link_for_admin_and_sign_in_required(site, admin):
    page = admin.get("/").get_data(as_text=True)
    assert 'data-testid="nav-designer"' in page and 'href="/designer/"' in page
    assert 'data-testid="design-app-qa"' in admin.get("/admin/apps").get_data(as_text=True)
    anonymous = site.test_client()
    assert anonymous.get("/designer/apps/qa").status_code == 302


def test_the_editor_lists_only_forms_the_designer_may_read_or_design(site, admin):
    """A designer of one app gets that app's forms for references and mappings, not every form of the company."""
    assert admin.post(f"{API}/apps", json={"key": "hr", "label": L("人事", "HR")}).status_code == 201
    assert admin.post(f"{API}/apps/hr/forms", json={"key": "salary", "label": L("薪资", "Salary")}).status_code == 201
    secret = {"format": 1, "key": "salary", "label": L("薪资", "Salary"),
              "fields": [{"key": "amount", "type": "number", "label": L("金额", "Amount")}]}
    assert admin.put(f"{API}/drafts/form/salary", json={"definition": secret, "revision": 1}).status_code == 200
    assert admin.post(f"{API}/drafts/form/salary/publish", json={"revision": 2}).status_code == 200
    with session_scope(site.extensions["qms_db"]) as s:
        home = accounts.tenant_id_by_key(s, "default")
        accounts.create_role(s, home, "qa_only", L("质量设计", "QA designer"))
        accounts.set_permissions(s, home, "qa_only", "app:qa", {"read": "all", "design": True})
        accounts.create_user(s, home, "quinn@home.example", "Quinn", ADMIN_PASSWORD, roles=["qa_only"], lang="en")
    quinn = client_for(site, "quinn@home.example")
    page = quinn.get("/designer/apps/qa/forms/lot").get_data(as_text=True)
    forms = {f["key"] for f in json.loads(CONFIG.search(page).group(1))["forms"]}
    assert "lot" in forms and "salary" not in forms
    page = admin.get("/designer/apps/qa/forms/lot").get_data(as_text=True)
    assert {"lot", "salary"} <= {f["key"] for f in json.loads(CONFIG.search(page).group(1))["forms"]}
