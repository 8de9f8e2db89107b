"""The apps admin pages and the upgrade API: install from the catalog, upload, preview with
conflicts, apply with CSRF, export; administrators only."""
import copy
import html
import io
import json

from engine.services import apps, forms as form_service
from runtime.apps_admin import catalog
from tests.engine.services.test_app_merge import NCR, field, package
from tests.runtime.apps_admin.conftest import csrf


def v2() -> dict:
    pkg = package("2.0.0")
    field(pkg, "disposition")["label"]["en"] = "MRB disposition"
    pkg["forms"][0]["fields"].insert(1, {"key": "found_on", "type": "date",
                                         "label": {"zh-CN": "发现日期", "en": "Found on"}})
    return pkg


def install_v1(site) -> None:
    with site.session() as s:
        apps.import_app(s, site.admin, package())


def rename_disposition(site, en: str) -> None:
    form = copy.deepcopy(NCR)
    next(f for f in form["fields"] if f["key"] == "disposition")["label"]["en"] = en
    with site.session() as s:
        form_service.publish_form(s, site.admin, form)


def upload(client, pkg: dict, path: str = "/admin/apps/preview"):
    data = {"csrf_token": csrf(client), "file": (io.BytesIO(json.dumps(pkg).encode()), "ncr.json")}
    return client.post(path, data=data, content_type="multipart/form-data")


def test_the_page_lists_installed_apps_and_the_catalog(site):
    install_v1(site)
    res = site.client().get("/admin/apps")
    text = res.get_data(as_text=True)
    assert res.status_code == 200 and "ncr" in text and "1.0.0" in text and "/admin/apps/ncr/export" in text
    for item in catalog.catalog():
        assert item["key"] in text


def test_export_downloads_the_current_package(site):
    install_v1(site)
    res = site.client().get("/admin/apps/ncr/export")
    assert res.status_code == 200 and "attachment" in res.headers["Content-Disposition"]
    assert json.loads(res.get_data(as_text=True))["forms"][0]["key"] == "ncr"
    assert site.client().get("/admin/apps/nope/export").status_code == 404


def test_upload_preview_shows_changes_and_conflicts_then_apply_takes_the_answers(site):
    install_v1(site)
    rename_disposition(site, "Decision")
    client = site.client()
    res = upload(client, v2())
    text = res.get_data(as_text=True)
    assert res.status_code == 200 and "found_on" in text and "1.0.0 → 2.0.0" in text
    conflict_id = "forms[ncr].fields[disposition].label.en"
    assert f'name="resolution:{conflict_id}" value="mine" checked' in text
    hidden = json.loads(html.unescape(text.split('name="package" value="')[1].split('"')[0]))
    assert hidden["version"] == "2.0.0"                     # the package travels to the apply step
    res = client.post("/admin/apps/apply", data={"csrf_token": csrf(client), "package": json.dumps(v2()),
                                                  f"resolution:{conflict_id}": "theirs"})
    assert res.status_code == 200 and "2.0.0" in res.get_data(as_text=True)
    with site.session() as s:
        form = form_service.get_form(s, site.admin.tenant_id, "ncr").to_dict()
        assert apps.get_app(s, site.admin.tenant_id, "ncr")["version"] == "2.0.0"
    assert field({"forms": [form]}, "disposition")["label"]["en"] == "MRB disposition"
    assert [f["key"] for f in form["fields"]][:2] == ["lot_no", "found_on"]


def test_apply_without_csrf_is_refused_and_changes_nothing(site):
    install_v1(site)
    client = site.client()
    res = client.post("/admin/apps/apply", data={"package": json.dumps(v2())})
    assert res.status_code == 400
    with site.session() as s:
        assert apps.get_app(s, site.admin.tenant_id, "ncr")["version"] == "1.0.0"


def test_an_invalid_upload_shows_its_problems(site):
    client = site.client()
    res = client.post("/admin/apps/preview", data={"csrf_token": csrf(client),
                                                    "file": (io.BytesIO(b"{not json"), "x.json")},
                      content_type="multipart/form-data")
    assert res.status_code == 422 and "not valid JSON" in res.get_data(as_text=True)
    broken = package()
    del broken["label"]
    assert upload(client, broken).status_code == 422


def test_install_and_upgrade_from_the_catalog(site, monkeypatch):
    shipped = {"ncr": package()}
    monkeypatch.setattr(catalog, "catalog", lambda: [{"key": k, "version": p["version"], "label": p["label"],
                                                      "description": None, "requires": []} for k, p in shipped.items()])
    monkeypatch.setattr(catalog, "load_package", lambda key: copy.deepcopy(shipped[key]))
    client = site.client()
    assert "Install…" in client.get("/admin/apps").get_data(as_text=True)
    res = client.post("/admin/apps/preview", data={"csrf_token": csrf(client), "template": "ncr"})
    assert res.status_code == 200 and 'name="template" value="ncr"' in res.get_data(as_text=True)
    res = client.post("/admin/apps/apply", data={"csrf_token": csrf(client), "template": "ncr"})
    assert res.status_code == 200 and "Installed ncr 1.0.0" in res.get_data(as_text=True)
    assert "Up to date" in client.get("/admin/apps").get_data(as_text=True)
    shipped["ncr"] = v2()
    assert "Upgrade…" in client.get("/admin/apps").get_data(as_text=True)
    res = client.post("/admin/apps/apply", data={"csrf_token": csrf(client), "template": "ncr"})
    assert res.status_code == 200 and "Upgraded ncr to 2.0.0" in res.get_data(as_text=True)


def test_a_stale_template_key_is_a_404(site):
    client = site.client()
    assert client.post("/admin/apps/preview", data={"csrf_token": csrf(client), "template": "nope"}).status_code == 404


def test_non_admins_get_403(site):
    install_v1(site)
    client = site.client("member")
    assert client.get("/admin/apps").status_code == 403
    assert client.get("/admin/apps/ncr/export").status_code == 403
    token = csrf(client, "/")
    assert client.post("/admin/apps/preview", data={"csrf_token": token, "package": json.dumps(v2())}).status_code == 403
    assert client.post("/api/v1/apps/preview", json=v2(), headers={"X-CSRFToken": token}).status_code == 403


def test_api_preview_and_upgrade(site):
    install_v1(site)
    rename_disposition(site, "Decision")
    client = site.client()
    token = csrf(client)
    res = client.post("/api/v1/apps/preview", json=v2(), headers={"X-CSRFToken": token})
    body = res.get_json()
    assert res.status_code == 200 and body["direction"] == "upgrade" and len(body["conflicts"]) == 1
    conflict = body["conflicts"][0]["id"]
    res = client.post("/api/v1/apps/upgrade", json={"package": v2(), "resolutions": {conflict: "mine"}},
                      headers={"X-CSRFToken": token})
    assert res.status_code == 201 and res.get_json()["applied"] and res.get_json()["to_version"] == "2.0.0"
    res = client.post("/api/v1/apps/upgrade", json={"package": package()}, headers={"X-CSRFToken": token})
    assert res.status_code == 409 and res.get_json()["error"]["message"]
    res = client.post("/api/v1/apps/upgrade", json={"resolutions": {}}, headers={"X-CSRFToken": token})
    assert res.status_code == 422 and res.get_json()["errors"][0]["path"] == "$.package"
    assert client.post("/api/v1/apps/preview", json=v2()).status_code == 400       # cookie session without CSRF
