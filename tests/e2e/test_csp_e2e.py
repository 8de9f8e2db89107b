"""The Content-Security-Policy in a real browser: the main pages load without one CSP violation
or console error, and the scripts moved out of the templates still work (bulk selection, the
bulk-edit time-zone offset, the channel delete confirmation, Swagger UI, the designer preview)."""
from __future__ import annotations

import pytest

from engine.services import accounts, notify_channels
from engine.storage.db import make_engine, session_scope
from tests.e2e.conftest import FORM_KEY, api, sign_in

CHANNEL = "csp_robot"
L = lambda zh, en: {"zh-CN": zh, "en": en}  # noqa: E731
PACKAGE = {"format": 1, "key": "csp", "version": "1.0.0", "label": L("策略检查", "CSP check"), "requires": ["e2e"],
           "forms": [{"format": 1, "key": "csp_note", "label": L("记事", "Note"),
                      "fields": [{"key": "subject", "type": "text", "label": L("标题", "Subject")}]}],
           "reports": [{"format": 1, "key": "csp_report", "label": L("样本量", "Sample sizes"),
                        "chart": {"type": "bar"},
                        "dataset": {"form": FORM_KEY, "dimensions": [{"field": "part_no", "key": "part_no"}],
                                    "measures": [{"agg": "sum", "field": "sample_size", "key": "n"}]}}],
           "dashboards": [{"format": 1, "key": "csp_board", "label": L("看板", "Board"),
                           "items": [{"report": "csp_report", "x": 0, "y": 0, "w": 6, "h": 4}]}],
           "rules": [{"format": 1, "key": "csp_rule", "label": L("规则", "Rule"), "form": FORM_KEY,
                      "trigger": {"type": "record_created"},
                      "actions": [{"type": "notify", "to": {"submitter": True}, "channels": ["in_app"],
                                   "subject": "new"}]}]}
WATCH = """() => { window.__csp = [];
  document.addEventListener("securitypolicyviolation",
    e => window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + e.sourceFile + ":" + e.lineNumber));
}"""


@pytest.fixture(scope="module")
def world(live_server):
    status, body = api(live_server.url, "POST", "/api/v1/apps/import", PACKAGE, live_server.token)
    assert status == 201, body
    ids = []
    for i in range(2):
        status, body = api(live_server.url, "POST", f"/api/v1/forms/{FORM_KEY}/records", {"data": {
            "lot_no": f"CSP-{i}", "part_no": "P-1", "sample_size": 5, "items": [{"defect": "dent", "qty": 1}]}},
            live_server.token)
        assert status == 201, body
        ids.append((body["id"], body["version"]))
    engine = make_engine(f"sqlite:///{live_server.log_path.parent / 'qms.sqlite3'}")
    with session_scope(engine) as s:
        admin = accounts.actor_for_user(s, 1)
        notify_channels.save_channel(s, admin, CHANNEL, "dingtalk", "CSP robot",
                                     "https://oapi.dingtalk.com/robot/send?access_token=csp", None,
                                     secret_key="e2e-secret")
    engine.dispose()
    return ids


@pytest.fixture()
def page(desktop):
    """A signed-in page that records CSP violations and console errors."""
    desktop.errors = []
    desktop.on("console", lambda m: desktop.errors.append(f"{m.text} {m.location.get('url', '')}")
               if m.type == "error" and "favicon.ico" not in m.location.get("url", "") else None)
    desktop.on("pageerror", lambda e: desktop.errors.append(str(e)))
    desktop.add_init_script(f"({WATCH})()")
    sign_in(desktop)
    return desktop


def visit(page, path: str, ready: str | None = None) -> None:
    response = page.goto(path)
    assert response.status == 200, path
    assert "script-src 'self'" in response.headers["content-security-policy"], path
    if ready == "networkidle":      # charts draw after their data call
        page.wait_for_load_state("networkidle")
    elif ready:
        page.wait_for_selector(ready)
    clean(page, path)


def clean(page, what: str) -> None:
    page.wait_for_timeout(150)      # a violation event is dispatched asynchronously
    violations = page.evaluate("window.__csp || []")
    assert violations == [], f"{what}: CSP violations {violations}"
    assert page.errors == [], f"{what}: console errors {page.errors}"


def test_pages_load_without_csp_violations_and_moved_scripts_work(page, world):
    (first, v1), (second, _) = world
    visit(page, "/")
    visit(page, f"/f/{FORM_KEY}")
    select_all = page.locator("thead [data-select-all]")
    assert select_all.is_visible(), "bulk_select.js shows the select-all box"
    select_all.check()
    assert page.locator("[data-selected-count]").inner_text() == "已选 2 条"
    visit(page, f"/f/{FORM_KEY}/{first}")
    visit(page, f"/f/{FORM_KEY}/new", "[data-testid=form-section]")
    visit(page, f"/f/{FORM_KEY}/bulk/edit?ids={first}:{v1}&field=part_no")
    offset = page.locator("input[data-tz-offset]").first.input_value()
    assert offset != "" and int(offset) == int(page.evaluate("-new Date().getTimezoneOffset()")), \
        "local_time.js filled the offset"
    visit(page, "/admin/rules")
    visit(page, "/admin/rules/csp_rule")
    visit(page, "/api/v1/docs", "#swagger-ui .info")
    visit(page, "/reports/csp_report", "networkidle")
    visit(page, "/dashboards/csp_board", "networkidle")


def test_channel_delete_asks_first(page, world):
    visit(page, "/admin/channels")
    asked = []
    page.once("dialog", lambda d: (asked.append(d.message), d.dismiss()))
    page.locator(f"form[action$='/admin/channels/{CHANNEL}/delete'] button").click()
    page.wait_for_timeout(200)
    assert asked == ["确定删除该渠道？"], "confirm.js asked before deleting"
    assert page.url.endswith("/admin/channels") and CHANNEL in page.content(), "dismissed: nothing deleted"
    clean(page, "channels")


def test_designer_editor_and_preview(page, world):
    visit(page, f"/designer/apps/e2e/forms/{FORM_KEY}", "networkidle")
    page.wait_for_timeout(500)
    frames = [f for f in page.frames if "/preview" in f.url]
    clean(page, "designer")
    visit(page, f"/designer/apps/e2e/forms/{FORM_KEY}/preview", "[data-testid=form-section]")
    assert frames or page.locator("[data-testid=form-section]").count() > 0


def test_the_watch_does_see_a_violation(page, world):
    """Guard against a vacuous pass: an injected inline script is blocked and reported."""
    visit(page, "/")
    page.evaluate("() => { const s = document.createElement('script'); s.textContent = 'window.__ran = 1';"
                  " document.body.appendChild(s); }")
    page.wait_for_timeout(150)
    assert page.evaluate("window.__ran") is None
    assert any(v.startswith("script-src") for v in page.evaluate("window.__csp"))
