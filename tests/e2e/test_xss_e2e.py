"""Stored XSS in a real browser: an app whose labels, records, flow comments, reject reasons and
notifications all carry payloads. Before any page script runs, ``window.xss`` records its calls;
on every page (record list and detail with the approval history, entry and edit forms, a report,
a dashboard, the designer's form editor and preview, the notification centre, the task inbox and
a task) no payload ran, no dialog opened and no payload element (``img[src=x]``, on* handlers) exists."""
from __future__ import annotations

import copy

import pytest

from tests.e2e.conftest import api, sign_in
from tests.runtime.security.test_stored_xss import PACKAGE, PAYLOADS, p

L = lambda zh, en: {"zh-CN": zh, "en": en}  # noqa: E731
FLOW = {"format": 1, "key": "xflow", "label": L(p(1, " 流程"), p(2, " flow")), "form": "xf",
        "nodes": [{"id": "start", "type": "start", "next": "check"},
                  {"id": "check", "type": "approval", "label": L(p(3, " 审核"), p(4, " step")),
                   "assignees": [{"kind": "submitter"}], "mode": "any", "next": "done"},
                  {"id": "done", "type": "end"}]}
TRAP = """() => { window.__xss = []; window.xss = (n) => window.__xss.push(String(n)); }"""
PAYLOAD_ELEMENTS = """() => {
  const bad = [...document.querySelectorAll('img[src="x"], svg[onload], [onerror], [onload]')]
    .filter(e => /xss\\(/.test(e.outerHTML) || e.getAttribute('src') === 'x');
  const links = [...document.querySelectorAll('a[href], [src], form[action]')]
    .filter(e => /^\\s*javascript:/i.test(e.getAttribute('href') || e.getAttribute('src') || e.getAttribute('action') || ''));
  return {calls: window.__xss || null, bad: bad.concat(links).map(e => e.outerHTML.slice(0, 120))};
}"""


def _package() -> dict:
    package = copy.deepcopy(PACKAGE)
    package["rules"][0]["actions"][0]["to"] = {"submitter": True}      # the e2e admin gets the notices
    package["rules"][0]["actions"][0]["channels"] = ["in_app"]
    return package


@pytest.fixture(scope="module")
def world(live_server):
    url, token = live_server.url, live_server.token
    status, body = api(url, "POST", "/api/v1/apps/import", _package(), token)
    assert status == 201, body
    status, body = api(url, "POST", "/api/v1/flows", FLOW, token)
    assert status == 201, body
    ids = []
    for i, payload in enumerate(PAYLOADS[:4], start=1):
        data = {"name": payload, "note": f"{payload}\n{p(i + 1)}", "link": p(4), "grade": "a", "qty": i,
                "rows": [{"cell": payload, "n": 1}, {"cell": p(i + 2), "n": 2}]}
        status, body = api(url, "POST", "/api/v1/forms/xf/records", {"data": data}, token)
        assert status == 201, body
        ids.append(body["id"])
    tasks = {}
    for rid in ids:
        status, body = api(url, "GET", f"/api/v1/forms/xf/records/{rid}/flow", token=token)
        assert status == 200, body
        tasks[rid] = next(t["id"] for t in _tasks(body) if t.get("status") == "open")
    for action, rid, comment in (("comment", ids[0], p(5, " comment")), ("approve", ids[0], p(2, " opinion")),
                                 ("reject", ids[1], p(1, " reason")), ("comment", ids[2], p(3, " pending"))):
        status, body = api(url, "POST", f"/api/v1/tasks/{tasks[rid]}/{action}", {"comment": comment}, token)
        assert status == 200, (action, status, body)
    return {"ids": ids, "task": tasks[ids[2]]}


def _tasks(flow: dict) -> list[dict]:
    """The tasks in a record's flow answer, wherever the answer nests them."""
    found = []
    if isinstance(flow, dict):
        if "assignee_id" in flow and "status" in flow and "id" in flow:
            found.append(flow)
        for value in flow.values():
            found += _tasks(value)
    elif isinstance(flow, list):
        for value in flow:
            found += _tasks(value)
    return found


def test_no_payload_runs_on_any_page(world, desktop):
    page, dialogs = desktop, []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.add_init_script(script=f"({TRAP})()")
    sign_in(page)
    first, rejected, pending, _ = world["ids"]
    urls = ["/f/xf", f"/f/xf/{first}", f"/f/xf/{rejected}", f"/f/xf/{pending}", "/f/xf/new", f"/f/xf/{first}/edit",
            "/reports/xr", "/dashboards/xd", "/designer/apps/xapp", "/designer/apps/xapp/forms/xf",
            "/designer/apps/xapp/forms/xf/preview", "/notifications", "/tasks", f"/tasks/{world['task']}"]
    found, shown = {}, 0
    for url in urls:
        res = page.goto(url, wait_until="networkidle")
        assert res.status == 200, (url, res.status)
        result = page.evaluate(PAYLOAD_ELEMENTS)
        assert result["calls"] is not None, f"{url}: the init script did not run"
        if result["calls"] or result["bad"]:
            found[url] = result
        shown += "xss(" in page.inner_text("body")
    assert not found, found
    assert not dialogs, dialogs
    assert shown >= len(urls) - 2          # the payloads were on the pages, as text
    body = page.inner_text("body")
    assert p(3, " pending") in body        # the task page shows the comment literally
