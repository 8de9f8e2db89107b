"""CSRF walk: every state-changing route of the URL map, sent with the signed-in admin's session
cookie but without a CSRF token (form post, JSON call) or with a wrong one, is refused with a
clear message and changes nothing. New routes are walked automatically; the only exemptions
are listed in :data:`EXEMPT`.
"""
from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import MetaData, select
from werkzeug.routing.converters import IntegerConverter

from engine.services import accounts, apps, logins, notify_channels
from engine.services import records as record_service
from engine.storage.db import session_scope
from runtime.auth import UNSAFE
from tests.e2e.conftest import APP_PACKAGE, FORM_KEY
from tests.runtime.web_support import csrf_from, make_app, sign_in

#: (rule, method) walked without a CSRF token on purpose: it takes a password, not a cookie.
EXEMPT = {("/api/v1/auth/token", "POST")}
CHANNEL = "csrf_robot"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The app with one of each thing a route names by key or id, in the admin's own tenant."""
    app = make_app(tmp_path_factory.mktemp("csrf"))
    ids = {}
    with session_scope(app.extensions["qms_db"]) as s:
        admin = accounts.actor_for_user(s, 1)
        apps.import_app(s, admin, APP_PACKAGE)
        ids["record_id"] = record_service.create_record(s, admin, FORM_KEY, {
            "lot_no": "L-1", "part_no": "P-1", "sample_size": 5, "items": [{"defect": "scratch", "qty": 1}]}).id
        logins.create_api_token(s, admin.tenant_id, admin.user_id, "walk")
        ids["token_id"] = logins.list_api_tokens(s, admin.tenant_id)[-1]["id"]
        ids["user_id"] = admin.user_id
        notify_channels.save_channel(s, admin, CHANNEL, "dingtalk", "Robot",
                                     "https://oapi.dingtalk.com/robot/send?access_token=abc", None,
                                     secret_key=app.config["SECRET_KEY"])
    client = app.test_client()
    assert sign_in(client).status_code == 302
    return app, client, ids


def value_for(name: str, converter, ids: dict) -> str:
    """A real key or id for a route argument; any other name still gets a well-formed value."""
    known = {"form_key": FORM_KEY, "app_key": "e2e", "channel_key": CHANNEL, "key": FORM_KEY, "kind": "form",
             "kinds": "forms", "action": "approve", "token": "a" * 32}
    if name in ids:
        return str(ids[name])
    if name in known:
        return known[name]
    return "1" if isinstance(converter, IntegerConverter) or "Id" in type(converter).__name__ else "x"


def unsafe_routes(app, ids) -> list[tuple[str, str, str]]:
    """(rule, method, url) for every rule that takes POST/PUT/PATCH/DELETE."""
    out = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods & UNSAFE):
            if (rule.rule, method) in EXEMPT:
                continue
            values = {name: value_for(name, conv, ids) for name, conv in rule._converters.items()}
            out.append((rule.rule, method, app.url_map.bind("localhost").build(rule.endpoint, values, method=method)))
    return out


def snapshot(engine) -> dict[str, tuple[int, str]]:
    """Every table's row count and a hash of its sorted content."""
    meta = MetaData()
    meta.reflect(engine)
    with engine.connect() as conn:
        out = {}
        for name, table in sorted(meta.tables.items()):
            rows = sorted(repr(tuple(r)) for r in conn.execute(select(table)))
            out[name] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
    return out


def assert_refused(response, what: str) -> None:
    assert response.status_code in (400, 403), f"{what}: {response.status_code} {response.get_data(as_text=True)[:200]}"
    body = response.get_data(as_text=True)
    assert "CSRF" in body, f"{what}: no clear message: {body[:200]}"


def test_every_state_changing_route_needs_the_csrf_token(site):
    app, client, ids = site
    routes = unsafe_routes(app, ids)
    assert len(routes) >= 80, "the URL map lost its routes?"
    before = snapshot(app.extensions["qms_db"])
    for rule, method, url in routes:
        what = f"{method} {rule}"
        assert_refused(client.open(url, method=method, data={"name": "x", "lang": "en"}), what + " (form, no token)")
        assert_refused(client.open(url, method=method, data={"csrf_token": "wrong", "name": "x"}),
                       what + " (form, wrong token)")
        assert_refused(client.open(url, method=method, json={"data": {}}, headers={"Accept": "application/json"}),
                       what + " (JSON, no token)")
        assert_refused(client.open(url, method=method, json={"data": {}}, headers={"X-CSRFToken": "wrong"}),
                       what + " (JSON, wrong header)")
    assert snapshot(app.extensions["qms_db"]) == before
    assert client.get("/").status_code == 200, "still signed in: the refusals did not act"
    print(f"CSRF walk: {len(routes)} route/method pairs x 4 requests")


def test_api_json_refusal_is_json(site):
    app, client, _ = site
    response = client.post(f"/api/v1/forms/{FORM_KEY}/records", json={"data": {"lot_no": "X"}})
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "csrf_failed"


def test_the_right_token_passes(site):
    app, client, ids = site
    token = csrf_from(client, "/")
    response = client.post(f"/api/v1/forms/{FORM_KEY}/records", headers={"X-CSRFToken": token},
                           json={"data": {"lot_no": "L-2", "part_no": "P-2", "sample_size": 3, "items": []}})
    assert response.status_code == 201


def test_bearer_calls_need_no_csrf_token(site):
    app, _, _ = site
    with session_scope(app.extensions["qms_db"]) as s:
        token = logins.create_api_token(s, 1, 1, "bearer")
    client = app.test_client()          # no cookie: a cross-site page cannot set Authorization
    response = client.post(f"/api/v1/forms/{FORM_KEY}/records", headers={"Authorization": f"Bearer {token}"},
                           json={"data": {"lot_no": "L-3", "part_no": "P-3", "sample_size": 3, "items": []}})
    assert response.status_code == 201


def test_exemptions_are_only_the_password_endpoint(site):
    app, _, _ = site
    rules = {(r.rule, m) for r in app.url_map.iter_rules() for m in r.methods & UNSAFE}
    assert EXEMPT <= rules, "an exemption names a route that no longer exists"
    response = app.test_client().post("/api/v1/auth/token", json={"email": "admin@example.com", "password": "no"})
    assert response.status_code == 401      # answered by the view, not by the CSRF check
