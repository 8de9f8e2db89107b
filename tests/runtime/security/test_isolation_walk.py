"""Tenant isolation, walked over every route of the URL map (issue 9).

Tenant A's admin — signed in, and by API token on ``/api/`` routes — calls every rule × method with
the ids and keys of tenant B's own things (tests/runtime/security/tenants.py). Each answer must be
403/404 when the URL names something of B, never leak a B marker, never redirect towards B, and
B's rows must be exactly as before. New routes are walked automatically: an argument name the table
below does not know fails the test until a tenant-B value is added for it.
"""
from __future__ import annotations

import io
import zipfile

import pytest

from engine.jobs import queue
from tests.runtime.security.tenants import (B_APP, B_BOARD, B_CHANNEL, B_FLOW, B_FORM, B_PRINT, B_REPORT, B_RULE,
                                            IMPORT_TOKEN, MARKER, PORTAL_PASSWORD, b_snapshot, build_tenants,
                                            open_task_ids)
from tests.runtime.web_support import csrf_from

# Endpoints left out of the walk, each with its reason.
EXCLUDED = {
    "static": "static files of the app, no tenant data",
    "designer.static": "static files of the designer, no tenant data",
    "reports.plotly_js": "vendored JavaScript, no tenant data",
    "accounts.logout": "ends the walking session (walked last on its own, see test_logout_is_harmless)",
}
# Arguments that do not name anything of a tenant (a URL with only these is not B-specific).
NEUTRAL = {"action": ["approve"], "fmt": ["xlsx", "csv"], "kind": ["form"], "kinds": ["forms"], "number": [1]}
# What a route may answer besides 403/404 for a B-specific URL, with the reason (body and B unchanged).
ACCEPTED = {
    # The inbound webhook is authenticated by its secret token alone; a forged token is refused.
    ("api.inbound_hook", "POST"): {401},
    # Opening someone else's notification goes to one's own centre, exactly as opening one of one's
    # own without a link does (tests/runtime/notify/test_centre.py), so the answer tells nothing.
    ("notify.open_link", "GET"): {302},
    ("notify.open_link", "HEAD"): {302},
}
# Values both tenants legitimately have (a URL with only these and neutral ones is not B-specific).
SHARED = {"supplier"}
# Endpoints reading a JSON body although they are not under /api/.
JSON_ENDPOINTS = {"entry.compute", "designer.form_preview_compute", "designer.form_preview_validate"}
# Endpoints that answer 401 to anybody by design (a failed sign-in).
LOGIN = {"accounts.login"}
QUERY = {"form": B_FORM, "form_key": B_FORM, "app": B_APP, "report": B_REPORT, "rule": B_RULE, "record": 7,
         "record_id": 7, "supplier": 7, "field": "supplier", "key": B_FORM, "flow": B_FLOW}


def argument_table(t) -> dict[str, list]:
    """Tenant-B values per URL argument name; a form key comes in two variants: the B-only form,
    and a form both tenants have (``supplier``) with a record id only B has."""
    ids = t.ids
    return {"form_key": [B_FORM, "supplier"], "record_id": [ids["record_id"]], "key": [B_FORM],
            "app_key": [B_APP], "report_key": [B_REPORT], "dashboard_key": [B_BOARD], "rule_key": [B_RULE],
            "flow_key": [B_FLOW], "channel_key": [B_CHANNEL], "template_key": [B_PRINT],
            "task_id": [ids["task_id"]], "instance_id": [ids["instance_id"]], "run_id": [ids["run_id"]],
            "supplier_id": [ids["supplier_id"]], "user_id": [ids["user_id"]], "job_id": [ids["job_id"]],
            "delivery_id": [ids["delivery_id"]], "token_id": [ids["token_id"]],
            "delegation_id": [ids["delegation_id"]], "file_id": [ids["file_id"]],
            "notification_id": [ids["notification_id"]], "mail_id": [ids["mail_id"]],
            "token": ["zzbforgedhooktoken0123456789abcd", IMPORT_TOKEN], **NEUTRAL}


def urls_for(rule, table) -> list[tuple[str, bool]]:
    """The rule's URLs with tenant-B values (variant i takes each argument's i-th value, or its last),
    each with whether it names something only B has (not just neutral or shared values)."""
    unknown = sorted(a for a in rule.arguments if a not in table)
    assert not unknown, f"{rule.endpoint} {rule.rule}: add a tenant-B value for {', '.join(unknown)}"
    width = max([len(table[a]) for a in rule.arguments] or [1])
    out = []
    for i in range(width):
        values = {a: table[a][min(i, len(table[a]) - 1)] for a in rule.arguments}
        path = rule.build(values, append_unknown=False)[1]
        b_only = any(a not in NEUTRAL and values[a] not in SHARED for a in values)
        if (path, b_only) not in out:
            out.append((path, b_only))
    return out


def body_for(path: str, ids: dict) -> dict:
    """A plausible body naming B's things (JSON for APIs, form fields for pages)."""
    return {"data": {"subject": "x", "qty": 1}, "version": 1, "revision": 1, "ids": [ids["record_id"]],
            "form": B_FORM, "expression": "1", "key": B_FORM, "report": B_REPORT, "record_id": ids["record_id"],
            "values": {}, "definition": {"format": 1, "key": B_FORM}, "comment": "x", "task_ids": [ids["task_id"]]}


def form_body(body: dict, csrf: str) -> dict:
    flat = {k: v if isinstance(v, (str, int)) else "" for k, v in body.items()}
    return {**flat, "csrf_token": csrf, "subject": "x", "qty": "1"}


@pytest.fixture(scope="module")
def tenants(tmp_path_factory):
    return build_tenants(tmp_path_factory.mktemp("isolation"))


def _walk_rules(app):
    rules = [r for r in app.url_map.iter_rules() if r.endpoint not in EXCLUDED]
    return sorted(rules, key=lambda r: (r.rule, r.endpoint))


def test_every_route_refuses_tenant_b(tenants):
    t, app = tenants, tenants.app
    table = argument_table(t)
    before = b_snapshot(t.engine, t.b.tenant_id)
    session = t.sign_in(app.test_client())
    csrf = csrf_from(session, "/")
    previous = queue.use(t.jobs)
    findings, accepted, walked, requests = [], [], 0, 0
    try:
        for rule in _walk_rules(app):
            walked += 1
            for path, b_specific in urls_for(rule, table):
                for method in sorted(rule.methods - {"OPTIONS"}):
                    identities = [("session", session, {"X-CSRFToken": csrf})]
                    if path.startswith("/api/"):
                        identities.append(("token", app.test_client(),
                                           {"Authorization": f"Bearer {t.a.admin_token}"}))
                    for who, client, headers in identities:
                        requests += 1
                        res = _call(client, method, path, headers, t.ids, csrf, rule.endpoint in JSON_ENDPOINTS)
                        problem = _judge(rule, method, res, b_specific, who)
                        if problem == "accepted":
                            accepted.append(f"{method} {path} [{who}] {res.status_code}")
                        elif problem:
                            findings.append(f"{method} {path} [{who}] -> {problem}")
        while t.jobs.run_all():
            pass
        assert session.get("/api/v1/apps").status_code == 200, "the walking session ended during the walk"
    finally:
        queue.use(previous)
    after = b_snapshot(t.engine, t.b.tenant_id)
    changed = {name: (before.get(name), after.get(name)) for name in set(before) | set(after)
               if before.get(name) != after.get(name)}
    summary = (f"isolation walk: {walked} rules, {requests} (rule, method, identity) requests, "
               f"{len(findings)} findings, accepted non-404: {accepted}")
    print(summary)
    assert not findings, summary + "\n" + "\n".join(findings)
    assert not changed, f"tenant B's rows changed: {changed}"


def _call(client, method: str, path: str, headers: dict, ids: dict, csrf: str, json_body: bool):
    body = body_for(path, ids)
    query = "&".join(f"{k}={v}" for k, v in QUERY.items())
    url = f"{path}?{query}"
    if method in ("GET", "HEAD"):
        return client.open(url, method=method, headers=headers)
    if json_body or path.startswith(("/api/", "/designer/api/")):
        return client.open(url, method=method, headers=headers, json=body)
    return client.open(url, method=method, headers=headers, data=form_body(body, csrf))


def _judge(rule, method: str, res, b_specific: bool, who: str) -> str | None:
    """What is wrong with one answer (None: nothing; "accepted": a listed exception)."""
    text = body_text(res.get_data())
    location = res.headers.get("Location", "")
    if MARKER in text or MARKER.lower() in text.lower():
        return f"{res.status_code} leaks a tenant-B marker: {text[max(0, text.find(MARKER) - 80):][:200]!r}"
    if MARKER.lower() in location.lower():
        return f"redirects towards B: {location}"
    if res.status_code >= 500:
        return f"{res.status_code} server error"
    if res.status_code == 401 and rule.endpoint not in LOGIN:
        return "401 for a signed-in user"
    if not b_specific or res.status_code in (403, 404):
        return None
    if res.status_code in ACCEPTED.get((rule.endpoint, method), ()):
        return "accepted"
    return f"{res.status_code} for a tenant-B id ({text[:160]!r})"


def body_text(data: bytes) -> str:
    """The body as text; a zip (xlsx) as the text of all its members, so exports are searched too."""
    if data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            data = b"\n".join(z.read(name) for name in z.namelist())
    return data.decode("utf-8", errors="replace")


def test_unknown_argument_names_fail_the_walk(tenants):
    """A new route with an argument the table lacks cannot slip through."""
    from werkzeug.routing import Map, Rule
    rule = Rule("/new/<int:widget_id>", endpoint="new.widget")
    Map([rule])
    with pytest.raises(AssertionError, match="add a tenant-B value for widget_id"):
        urls_for(rule, argument_table(tenants))


def test_openapi_lists_no_b_only_form(tenants):
    t = tenants
    for client, headers in ((t.sign_in(t.app.test_client()), {}),
                            (t.app.test_client(), {"Authorization": f"Bearer {t.a.admin_token}"})):
        res = client.get("/api/v1/openapi.json", headers=headers)
        assert res.status_code == 200
        text = res.get_data(as_text=True)
        assert B_FORM not in text and MARKER not in text
        assert "/forms/supplier/records" in text          # A's own forms are there


def test_portal_users_see_only_their_tenant(tenants):
    """A's portal user against B's tasks and B's portal user against A's: 404, nothing leaks."""
    t = tenants
    for mine, theirs in ((t.a, t.b), (t.b, t.a)):
        client = t.sign_in(t.app.test_client(), mine, t.portal_email(mine), PORTAL_PASSWORD)
        csrf = csrf_from(client, "/portal")
        for task_id in open_task_ids(t.engine, theirs.tenant_id):
            assert client.get(f"/portal/tasks/{task_id}").status_code == 404
            res = client.post(f"/portal/tasks/{task_id}", data={"csrf_token": csrf, "action": "approve"})
            assert res.status_code == 404
        page = client.get("/portal").get_data(as_text=True)
        assert (MARKER not in page) if mine is t.a else True


def test_logout_is_harmless(tenants):
    t = tenants
    before = b_snapshot(t.engine, t.b.tenant_id)
    client = t.sign_in(t.app.test_client())
    res = client.post("/logout", data={"csrf_token": csrf_from(client, "/")})
    assert res.status_code in (302, 303) and MARKER not in res.get_data(as_text=True)
    assert b_snapshot(t.engine, t.b.tenant_id) == before
