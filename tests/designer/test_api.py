"""The designer's draft API over HTTP: apps, new definitions, drafts with revisions, check, plan,
publish, versions and restore — permissions, tenant isolation and concurrent edits."""
from __future__ import annotations

import shutil

import pytest
from argon2 import PasswordHasher
from sqlalchemy import inspect

from engine.auth import passwords

from engine.services import accounts
from engine.storage.db import session_scope
from engine.storage.naming import record_table_name
from tests.designer.expr_support import L
from tests.runtime.web_support import ADMIN_PASSWORD, csrf_from, make_app, sign_in

API = "/designer/api"
CHEAP = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)


class Site:
    def __init__(self, app, home: int, other: int):
        self.app, self.home, self.other = app, home, other

    def client(self, email: str = "admin@example.com", company: str = "default"):
        client = self.app.test_client()
        assert sign_in(client, email=email, company=company).status_code == 302
        client.environ_base.update({"HTTP_X_CSRFTOKEN": csrf_from(client, "/"), "HTTP_ACCEPT_LANGUAGE": "en"})
        return client


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch):
    """Argon2 at its smallest cost: these tests sign many people in, password strength is not their subject."""
    monkeypatch.setattr(passwords, "_hasher", CHEAP)


def _build(app) -> Site:
    with session_scope(app.extensions["qms_db"]) as s:
        home = accounts.tenant_id_by_key(s, "default")
        accounts.create_role(s, home, "qa_designer", L("设计", "Designer"))
        accounts.set_permissions(s, home, "qa_designer", "app:qa", {"read": "all", "design": True})
        accounts.create_user(s, home, "dora@home.example", "Dora Designer", ADMIN_PASSWORD, roles=["qa_designer"])
        accounts.create_user(s, home, "paul@home.example", "Plain Paul", ADMIN_PASSWORD)
        other = accounts.create_tenant(s, "globex", "Globex")
        accounts.create_user(s, other, "olga@globex.example", "Olga Other", ADMIN_PASSWORD, is_admin=True)
    site = Site(app, home, other)
    admin = site.client()
    assert admin.post(f"{API}/apps", json={"key": "qa", "label": L("质量", "Quality")}).status_code == 201
    assert admin.post(f"{API}/apps/qa/forms", json={"key": "lot", "label": L("批次", "Lot")}).status_code == 201
    return site


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """The site's database built once (app "qa" with a new form "lot"); each test gets a copy."""
    folder = tmp_path_factory.mktemp("designer_api")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(passwords, "_hasher", CHEAP)
        app = make_app(folder)
        site = _build(app)
    app.extensions["qms_db"].dispose()
    return folder / "qms.db", site.home, site.other


@pytest.fixture()
def site(tmp_path, template):
    source, home, other = template
    shutil.copyfile(source, tmp_path / "qms.db")
    return Site(make_app(tmp_path), home, other)


@pytest.fixture()
def admin(site):
    return site.client()


def fields(*keys: str) -> list[dict]:
    return [{"key": k, "type": "text", "label": L(k, k)} for k in keys]


def save(client, key: str, revision: int, field_keys=("lot_no",), kind: str = "form", **extra):
    definition = {"format": 1, "key": key, "label": L("批次", "Lot"), "fields": fields(*field_keys), **extra}
    return client.put(f"{API}/drafts/{kind}/{key}", json={"definition": definition, "revision": revision})


def publish_lot(client, field_keys=("lot_no",)) -> int:
    rev = client.get(f"{API}/drafts/form/lot").get_json()["revision"]
    res = save(client, "lot", rev, field_keys)
    assert res.status_code == 200, res.get_json()
    res = client.post(f"{API}/drafts/form/lot/publish", json={"revision": res.get_json()["revision"]})
    assert res.status_code == 200, res.get_json()
    return res.get_json()["version"]


# ---------------------------------------------------------------------------- apps

def test_apps_list_and_overview(admin):
    items = admin.get(f"{API}/apps").get_json()["items"]
    qa = next(i for i in items if i["key"] == "qa")
    assert qa["label"] == L("质量", "Quality") and qa["counts"]["forms"] == 1
    overview = admin.get(f"{API}/apps/qa").get_json()
    assert overview["forms"] == [{"key": "lot", "label": L("批次", "Lot"), "published_version": 0, "has_draft": True,
                                  "updated_at": overview["forms"][0]["updated_at"], "updated_by": "Administrator"}]
    assert overview["flows"] == overview["rules"] == overview["reports"] == overview["dashboards"] == []


def test_create_app_validates_and_refuses_duplicates(admin, site):
    assert admin.post(f"{API}/apps", json={"key": "qa", "label": L("a", "b")}).status_code == 409
    bad = admin.post(f"{API}/apps", json={"key": "Bad Key", "label": {"en": "x"}})
    assert bad.status_code == 422 and {e["path"] for e in bad.get_json()["errors"]} == {"/key", "/label"}
    assert admin.post(f"{API}/apps", json={"label": L("a", "b")}).status_code == 400
    dora = site.client("dora@home.example")
    assert dora.post(f"{API}/apps", json={"key": "mine", "label": L("a", "b")}).status_code == 403


def test_new_definitions_of_every_kind(admin):
    publish_lot(admin)
    for kinds, key in (("flows", "lot_flow"), ("rules", "lot_rule"), ("reports", "lot_report"),
                       ("dashboards", "lot_board")):
        res = admin.post(f"{API}/apps/qa/{kinds}", json={"key": key, "label": L("新", "New"), "form": "lot"})
        assert res.status_code == 201 and res.get_json() == {"key": key, "revision": 1}
        draft = admin.get(f"{API}/drafts/{kinds[:-1]}/{key}").get_json()
        assert draft["definition"]["key"] == key and draft["revision"] == 1 and draft["app_key"] == "qa"
    overview = admin.get(f"{API}/apps/qa").get_json()
    assert [i["key"] for i in overview["flows"]] == ["lot_flow"] and overview["flows"][0]["form"] == "lot"
    assert admin.post(f"{API}/apps/qa/flows", json={"key": "lot_flow", "label": L("a", "b"), "form": "lot"}).status_code == 409
    missing = admin.post(f"{API}/apps/qa/flows", json={"key": "f2", "label": L("a", "b"), "form": "nope"})
    assert missing.status_code == 422 and missing.get_json()["errors"][0]["path"] == "/form"
    assert admin.post(f"{API}/apps/qa/widgets", json={"key": "w", "label": L("a", "b")}).status_code == 404
    assert admin.post(f"{API}/apps/nope/forms", json={"key": "w", "label": L("a", "b")}).status_code == 404


# ---------------------------------------------------------------------------- drafts

def test_draft_save_check_publish_adds_version_and_column(admin, site):
    draft = admin.get(f"{API}/drafts/form/lot").get_json()
    assert draft["revision"] == 1 and draft["published_version"] == 0 and draft["published_keys"] == []
    assert publish_lot(admin, ("lot_no",)) == 1
    assert admin.get(f"{API}/drafts/form/lot").get_json()["revision"] == 0     # draft gone: the published version
    assert publish_lot(admin, ("lot_no", "supplier")) == 2
    draft = admin.get(f"{API}/drafts/form/lot").get_json()
    assert draft["published_version"] == 2 and draft["published_keys"] == ["lot_no", "supplier"]
    with site.app.extensions["qms_db"].connect() as conn:
        columns = {c["name"] for c in inspect(conn).get_columns(record_table_name(site.home, "lot", ()))}
    assert {"lot_no", "supplier"} <= columns
    versions = admin.get(f"{API}/versions/form/lot").get_json()["items"]
    assert [v["version"] for v in versions] == [2, 1] and versions[0]["published_by_name"] == "Administrator"
    one = admin.get(f"{API}/versions/form/lot/1").get_json()
    assert one["version"] == 1 and [f["key"] for f in one["definition"]["fields"]] == ["lot_no"]
    assert admin.get(f"{API}/versions/form/lot/9").status_code == 404
    package = admin.get("/api/v1/apps/qa/export").get_json()
    assert [f["key"] for f in package["forms"]] == ["lot"]        # the designer's form belongs to its app


def test_check_reports_problems_with_pointers_and_writes_nothing(admin, site):
    bad = {"format": 1, "key": "lot", "label": L("批次", "Lot"), "fields": fields("lot_no") + [
        {"key": "rate", "type": "formula", "label": L("率", "Rate"), "formula": "lot_no +* 2"}]}
    res = admin.post(f"{API}/drafts/form/lot/check", json={"definition": bad})
    assert res.status_code == 200
    assert [p["path"] for p in res.get_json()["problems"]] == ["/fields/1/formula"]
    assert admin.post(f"{API}/drafts/form/lot/check", json={}).get_json() == {"problems": []}
    ok = {"format": 1, "key": "lot", "label": L("批次", "Lot"), "fields": fields("lot_no")}
    assert admin.post(f"{API}/drafts/form/lot/check", json={"definition": ok}).get_json() == {"problems": []}
    with site.app.extensions["qms_db"].connect() as conn:
        assert record_table_name(site.home, "lot", ()) not in inspect(conn).get_table_names()


def test_plan_lists_problems_changes_and_refusals(admin):
    publish_lot(admin, ("lot_no",))
    save(admin, "lot", 0, ("lot_no", "qty"))
    plan = admin.post(f"{API}/drafts/form/lot/plan").get_json()
    assert plan["problems"] == [] and plan["refused"] == []
    assert any(c["kind"] == "added" and c["what"] == "field" for c in plan["changes"])
    assert set(plan["impact"]) >= {"records", "running_flows"}


def test_invalid_draft_publish_is_422_with_paths(admin):
    res = save(admin, "lot", 1, ("lot_no",))
    definition = {"format": 1, "key": "lot", "label": L("批次", "Lot"),
                  "fields": fields("lot_no") + [{"key": "n", "type": "number", "label": L("数", "N"), "min": "x"}]}
    res = admin.put(f"{API}/drafts/form/lot", json={"definition": definition, "revision": 2})
    assert res.status_code == 200                   # drafts are not validated on save
    res = admin.post(f"{API}/drafts/form/lot/publish", json={"revision": 3})
    assert res.status_code == 422
    assert [e["path"] for e in res.get_json()["errors"]] == ["/fields/1/min"]
    assert admin.get(f"{API}/drafts/form/lot").get_json()["revision"] == 3       # the draft stays


def test_a_changed_key_is_refused(admin):
    save(admin, "lot", 1, ("lot_no",))
    res = admin.put(f"{API}/drafts/form/lot", json={"definition": {"format": 1, "key": "other", "label": L("a", "b"),
                                                                   "fields": []}, "revision": 2})
    res = admin.post(f"{API}/drafts/form/lot/publish", json={"revision": 3})
    assert res.status_code == 422 and res.get_json()["errors"][0]["path"] == "/key"


def test_stale_revisions_are_409_everywhere(admin):
    save(admin, "lot", 1)                                               # now revision 2
    stale = {"revision": 1}
    res = save(admin, "lot", 1)
    assert res.status_code == 409
    body = res.get_json()
    assert body["error"]["code"] == "conflict" and body["current"]["revision"] == 2
    assert body["current"]["updated_by_name"] == "Administrator" and body["current"]["updated_at"]
    assert admin.post(f"{API}/drafts/form/lot/publish", json=stale).status_code == 409
    assert admin.delete(f"{API}/drafts/form/lot", json=stale).status_code == 409
    publish_lot(admin)
    save(admin, "lot", 0)                                               # a new draft, revision 1
    assert admin.post(f"{API}/versions/form/lot/1/restore", json={"revision": 0}).status_code == 409


def test_two_designers_editing_one_draft(site):
    first, second = site.client(), site.client("dora@home.example")
    rev = first.get(f"{API}/drafts/form/lot").get_json()["revision"]
    assert second.get(f"{API}/drafts/form/lot").get_json()["revision"] == rev
    assert save(first, "lot", rev, ("mine",)).status_code == 200
    res = save(second, "lot", rev, ("theirs",))
    assert res.status_code == 409 and res.get_json()["current"]["updated_by_name"] == "Administrator"
    draft = second.get(f"{API}/drafts/form/lot").get_json()
    assert [f["key"] for f in draft["definition"]["fields"]] == ["mine"] and draft["updated_by_name"] == "Administrator"


def test_restore_version_one_makes_an_equal_draft(admin):
    publish_lot(admin, ("lot_no",))
    publish_lot(admin, ("lot_no", "qty"))
    res = admin.post(f"{API}/versions/form/lot/1/restore", json={"revision": 0})
    assert res.status_code == 200 and res.get_json()["revision"] == 1
    draft = admin.get(f"{API}/drafts/form/lot").get_json()
    assert draft["definition"] == admin.get(f"{API}/versions/form/lot/1").get_json()["definition"]
    assert admin.post(f"{API}/versions/form/lot/1/restore", json={"revision": 1}).get_json()["revision"] == 2


def test_a_version_shows_what_it_changed_from_the_one_before(admin):
    publish_lot(admin, ("lot_no",))
    publish_lot(admin, ("lot_no", "qty"))
    first = admin.get(f"{API}/versions/form/lot/1").get_json()
    assert [(c["kind"], c["path"]) for c in first["changes"] if c["what"] == "field"] == [("added", "lot_no")]
    second = admin.get(f"{API}/versions/form/lot/2").get_json()
    assert [(c["kind"], c["what"], c["path"]) for c in second["changes"]] == [("added", "field", "qty")]
    assert admin.get(f"{API}/versions/form/lot/3").status_code == 404


def test_discard_draft(admin):
    publish_lot(admin)
    save(admin, "lot", 0, ("changed",))
    assert admin.delete(f"{API}/drafts/form/lot", json={"revision": 1}).status_code == 200
    draft = admin.get(f"{API}/drafts/form/lot").get_json()
    assert draft["revision"] == 0 and [f["key"] for f in draft["definition"]["fields"]] == ["lot_no"]
    assert admin.delete(f"{API}/drafts/form/lot?revision=0").status_code == 404          # nothing to discard
    admin.post(f"{API}/apps/qa/forms", json={"key": "scrap", "label": L("草稿", "Scratch")})
    assert admin.delete(f"{API}/drafts/form/scrap", json={"revision": 1}).status_code == 200
    assert admin.get(f"{API}/drafts/form/scrap").status_code == 404                     # never published: gone


def test_draft_body_must_be_an_object(admin):
    res = admin.put(f"{API}/drafts/form/lot", json={"definition": [1], "revision": 1})
    assert res.status_code == 400
    assert admin.put(f"{API}/drafts/form/lot", data="nope", content_type="application/json").status_code == 400
    big = {"format": 1, "key": "lot", "label": L("a", "b"), "fields": [], "blob": "x" * (2 * 1024 * 1024 + 10)}
    assert admin.put(f"{API}/drafts/form/lot", json={"definition": big, "revision": 1}).status_code in (413, 422)


# ---------------------------------------------------------------------------- who may

ENDPOINTS = [("get", "/apps/qa", None), ("get", "/drafts/form/lot", None),
             ("put", "/drafts/form/lot", {"definition": {"key": "lot"}, "revision": 1}),
             ("delete", "/drafts/form/lot", {"revision": 1}), ("post", "/drafts/form/lot/check", {}),
             ("post", "/drafts/form/lot/plan", {}), ("post", "/drafts/form/lot/publish", {"revision": 1}),
             ("get", "/versions/form/lot", None), ("get", "/versions/form/lot/1", None),
             ("post", "/versions/form/lot/1/restore", {"revision": 1}),
             ("post", "/apps/qa/forms", {"key": "more", "label": L("a", "b")})]


@pytest.mark.parametrize("method,path,body", ENDPOINTS)
def test_plain_user_is_403(site, method, path, body):
    publish_lot(site.client())
    res = getattr(site.client("paul@home.example"), method)(API + path, json=body)
    assert res.status_code == 403 and res.get_json()["error"]["code"] == "permission_denied"


@pytest.mark.parametrize("method,path,body", ENDPOINTS)
def test_other_tenant_is_404(site, method, path, body):
    publish_lot(site.client())
    res = getattr(site.client("olga@globex.example", "globex"), method)(API + path, json=body)
    assert res.status_code == 404 and res.get_json()["error"]["code"] == "not_found"


def test_unknown_keys_and_kinds_are_404(admin):
    assert admin.get(f"{API}/drafts/form/nope").status_code == 404
    assert admin.get(f"{API}/drafts/widget/lot").status_code == 404
    assert admin.get(f"{API}/versions/flow/nope").status_code == 404


def test_app_designer_passes(site):
    dora = site.client("dora@home.example")
    assert [i["key"] for i in dora.get(f"{API}/apps").get_json()["items"]] == ["qa"]
    assert site.client("paul@home.example").get(f"{API}/apps").get_json()["items"] == []
    assert publish_lot(dora) == 1
    res = dora.post(f"{API}/apps/qa/forms", json={"key": "lot_two", "label": L("批次二", "Lot 2")})
    assert res.status_code == 201
    save(dora, "lot_two", 1, ("a",))
    assert dora.post(f"{API}/drafts/form/lot_two/publish", json={"revision": 2}).get_json() == {"version": 1}


def test_signed_out_is_401_json(site):
    res = site.app.test_client().get(f"{API}/apps")
    assert res.status_code == 401 and res.get_json()["error"]["code"] == "unauthorized"


def test_missing_csrf_header_is_refused(site):
    client = site.client()
    client.environ_base.pop("HTTP_X_CSRFTOKEN")
    res = client.put(f"{API}/drafts/form/lot", json={"definition": {}, "revision": 1})
    assert res.status_code == 400 and res.get_json()["error"]["code"] == "csrf_failed"


def test_data_losing_publish_is_refused_with_the_reason(admin):
    grade = {"key": "grade", "type": "select", "label": L("等级", "Grade"), "choices": [
        {"code": "A", "label": L("甲", "A")}, {"code": "B", "label": L("乙", "B")}]}
    definition = {"format": 1, "key": "lot", "label": L("批次", "Lot"), "fields": fields("lot_no") + [grade]}
    admin.put(f"{API}/drafts/form/lot", json={"definition": definition, "revision": 1})
    assert admin.post(f"{API}/drafts/form/lot/publish", json={"revision": 2}).status_code == 200
    res = admin.post("/api/v1/forms/lot/records", json={"data": {"lot_no": "L1", "grade": "B"}})
    assert res.status_code == 201, res.get_json()
    grade["choices"] = grade["choices"][:1]                  # B is still used by a record
    assert admin.put(f"{API}/drafts/form/lot", json={"definition": definition, "revision": 0}).status_code == 200
    plan = admin.post(f"{API}/drafts/form/lot/plan").get_json()
    assert plan["problems"] == [] and plan["impact"]["records"] == 1
    assert [r["path"] for r in plan["refused"]] == ["/fields/1"] and "B" in plan["refused"][0]["message"]
    res = admin.post(f"{API}/drafts/form/lot/publish", json={"revision": 1})
    assert res.status_code == 422 and res.get_json()["errors"][0]["path"] == plan["refused"][0]["path"]
    assert admin.get(f"{API}/versions/form/lot").get_json()["items"][0]["version"] == 1
