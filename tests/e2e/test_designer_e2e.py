"""The designer end to end in real chromium, as a quality engineer uses it.

Starting from an empty app: a form built by drag and drop (text, number with limits, select,
a sub-table with two columns, a formula summing a column, a visible-if condition), the preview
reacting, publishing, filling the form at runtime; then a new field, the diff that shows it,
republishing — and the old record intact with the new field empty. A second form, a two-node
flow with a branch and a rule that creates a record in the second form, both working at runtime.
Keyboard-only reordering. Screenshots go to tests/e2e/screenshots/designer-*.png.
"""
from __future__ import annotations

import json
import re


from tests.e2e.conftest import api, page_api, sign_in

try:
    from playwright.sync_api import expect
except ImportError:           # the fixtures skip (or fail in CI) with the reason
    expect = None

APP = "lot_check_app"


# ---------------------------------------------------------------------------- helpers

def drag(page, source: str, target: str, empty: bool = False, after: str | None = None) -> None:
    """Drag with real pointer moves to the end of the drop zone ``target`` (SortableJS appends when the
    pointer is below the zone's last card, in its bottom padding — as a user drops "at the end");
    into an ``empty`` zone, at its middle. With ``after``, the pointer then moves down until the drop
    placeholder shows below that card — as a user watches where the field will land before letting go."""
    src = page.locator(source).first
    src.scroll_into_view_if_needed()
    a = src.bounding_box()
    dst = page.locator(target).first
    b = dst.bounding_box()
    page.mouse.move(a["x"] + a["width"] / 2, a["y"] + a["height"] / 2)
    page.mouse.down()
    page.mouse.move(a["x"] + a["width"] / 2 + 5, a["y"] + a["height"] / 2 + 5, steps=3)
    def y(box):
        return box["y"] + box["height"] / 2 if empty else box["y"] + box["height"] - 3

    page.mouse.move(b["x"] + b["width"] / 2, y(b), steps=15)
    for _ in range(3):            # the dragged ghost grows the zone: aim again at its bottom edge
        b = dst.bounding_box()
        page.mouse.move(b["x"] + b["width"] / 2, y(b), steps=3)
    if after:
        for step in range(12):
            placed = page.evaluate("""(sel) => { const g = document.querySelector('.fd-ghost'), a = document.querySelector(sel);
                return !!(g && a && (a.compareDocumentPosition(g) & Node.DOCUMENT_POSITION_FOLLOWING)); }""", after)
            if placed:
                break
            a_box = page.locator(after).first.bounding_box()
            page.mouse.move(a_box["x"] + a_box["width"] / 2, a_box["y"] + a_box["height"] * (0.6 + (step % 5) * 0.08),
                            steps=2)
    page.mouse.up()
    page.wait_for_timeout(150)


def saved(page) -> None:
    """Wait until the autosave has stored the last change."""
    page.wait_for_function("""() => { const s = document.querySelector('[data-testid="save-status"]');
        return s && s.dataset.state === 'saved'; }""", timeout=15_000)


def draft(page, kind: str, key: str) -> dict:
    got = page_api(page, "GET", f"/designer/api/drafts/{kind}/{key}")
    assert got["status"] == 200, got
    return got["data"]["definition"]


def new_definition(page, kind: str, zh: str, en: str, key: str, form: str | None = None, app: str = APP) -> None:
    page.goto(f"/designer/apps/{app}")
    page.click(f'[data-testid="new-{kind}"]')
    dialog = page.locator(f'[data-testid="new-{kind}-dialog"]')
    dialog.locator('input[name="label_zh"]').fill(zh)
    dialog.locator('input[name="label_en"]').fill(en)
    dialog.locator('input[name="key"]').fill(key)
    if form:
        dialog.locator('select[name="form"]').select_option(form)
    dialog.locator(f'[data-testid="create-{kind}"]').click()
    page.wait_for_url(f"**/designer/apps/{app}/{kind}s/{key}")
    page.wait_for_function("() => performance.getEntriesByName('qd:interactive').length > 0")


def select_field(page, key: str) -> None:
    page.locator(f'[data-testid="field-{key}"]').first.click(position={"x": 12, "y": 10})   # its header, not a column
    expect(page.locator('[data-testid="prop-key"]')).to_have_value(key)


def label_new_field(page, zh: str, en: str) -> None:
    """The field just dropped is selected: give it its labels (the key follows the English one)."""
    page.fill('[data-testid="prop-label-zh"]', zh)
    page.fill('[data-testid="prop-label-en"]', en)


def publish(page, shots, name: str) -> str:
    """Open the publish dialog, check it may publish, confirm; returns the dialog's diff text."""
    saved(page)
    page.click('[data-testid="publish"]')
    dialog = page.locator('[data-testid="publish-dialog"]')
    expect(dialog.locator('[data-testid="diff"]')).to_be_visible()
    expect(dialog.locator('[data-testid="confirm-publish"]')).to_be_enabled()
    diff = dialog.locator('[data-testid="diff"]').inner_text()
    shots(page, f"designer-{name}-publish")
    dialog.locator('[data-testid="confirm-publish"]').click()
    page.wait_for_function("""() => { const v = document.querySelector('[data-testid="published-version"]');
        return v && /[1-9]/.test(v.textContent); }""")
    return diff


# ---------------------------------------------------------------------------- the scenario

def build_inspection_form(page, shots) -> None:
    new_definition(page, "form", "批次检查", "Lot check", "lot_check")
    canvas = '[data-testid="unsectioned"]'
    drag(page, '[data-testid="palette-text"]', canvas)
    label_new_field(page, "批号", "Lot number")
    expect(page.locator('[data-testid="field-lot_number"]')).to_be_visible()
    page.select_option('[data-testid="prop-required"]', "true")

    drag(page, '[data-testid="palette-number"]', canvas)
    label_new_field(page, "样本量", "Sample size")
    page.fill('[data-testid="prop-min"]', "1")
    page.fill('[data-testid="prop-max"]', "500")

    drag(page, '[data-testid="palette-select"]', canvas)
    label_new_field(page, "判定", "Result")
    page.fill('[data-testid="choice-code-0"]', "ok")
    page.fill('[data-testid="choice-label-zh-0"]', "合格")
    page.fill('[data-testid="choice-label-en-0"]', "OK")
    page.fill('[data-testid="choice-code-1"]', "ng")
    page.fill('[data-testid="choice-label-zh-1"]', "不合格")
    page.fill('[data-testid="choice-label-en-1"]', "NG")

    drag(page, '[data-testid="palette-subtable"]', canvas)
    label_new_field(page, "缺陷明细", "Defects")
    zone = '[data-testid="field-defects"] .fd-zone'
    drag(page, '[data-testid="palette-text"]', zone, empty=True)
    label_new_field(page, "缺陷", "Defect")
    drag(page, '[data-testid="palette-number"]', '[data-testid="field-defect"]', empty=True,
         after='[data-testid="field-defect"]')          # onto the first column, landing below it
    label_new_field(page, "数量", "Qty")
    select_field(page, "defects")
    page.select_option('[data-testid="prop-visible"]', "expr")
    page.fill('[data-testid="prop-visible-expr"]', 'result = "ng"')

    drag(page, '[data-testid="palette-formula"]', canvas)
    label_new_field(page, "不良总数", "Total defects")
    page.fill('[data-testid="prop-formula"]', "SUM(defects.qty)")
    try:
        expect(page.locator('[data-testid="expr-ok"]').last).to_be_visible()
    finally:
        shots(page, "designer-formula")
    saved(page)
    shots(page, "designer-form-built")
    definition = draft(page, "form", "lot_check")
    keys = [f["key"] for f in definition["fields"]]
    assert keys == ["lot_number", "sample_size", "result", "defects", "total_defects"], keys
    defects = definition["fields"][3]
    assert [c["key"] for c in defects["fields"]] == ["defect", "qty"]
    assert defects["visible"] == {"expr": 'result = "ng"'}
    assert definition["fields"][1]["min"] == 1 and definition["fields"][1]["max"] == 500
    assert definition["fields"][4]["formula"] == "SUM(defects.qty)"
    shots(page, "designer-form-built")


def check_preview(page, shots) -> None:
    page.click('[data-testid="preview-toggle"]')
    frame = page.frame_locator('[data-testid="preview-frame"]')
    defects = frame.locator('.field[data-key="defects"]')
    expect(frame.locator('.field[data-key="lot_number"]')).to_be_visible()
    expect(defects).to_be_hidden()                      # visible only when the result is NG
    frame.locator('.field[data-key="result"] select').select_option("ng")
    expect(defects).to_be_visible()
    defects.locator("button.row-add").click()
    defects.locator("button.row-add").click()
    rows = defects.locator(".rows .row")
    rows.nth(0).locator('[data-key="qty"] input').fill("2")
    rows.nth(1).locator('[data-key="qty"] input').fill("4")
    expect(frame.locator('.field[data-key="total_defects"] output')).to_have_text("6")     # the formula, live
    page.click('[data-testid="preview-phone"]')
    width = page.locator('[data-testid="preview-frame"]').evaluate("e => e.getBoundingClientRect().width")
    assert 370 <= width <= 400, width
    shots(page, "designer-preview-phone")
    page.click('[data-testid="preview-desktop"]')
    page.click('[data-testid="preview-toggle"]')


def fill_at_runtime(page, live_server) -> int:
    status, body = api(live_server.url, "POST", "/api/v1/forms/lot_check/records",
                       {"data": {"lot_number": "L-001", "sample_size": 50, "result": "ng",
                                 "defects": [{"defect": "scratch", "qty": 2}, {"defect": "dent", "qty": 3}]}},
                       live_server.token)
    assert status == 201, body
    assert body["data"]["total_defects"] == 5
    return body["id"]


def fill_in_browser(page, shots) -> int:
    page.goto("/f/lot_check/new")
    page.fill('.field[data-key="lot_number"] input', "L-002")
    page.fill('.field[data-key="sample_size"] input', "80")
    page.locator('.field[data-key="result"] select').select_option("ok")
    expect(page.locator('.field[data-key="defects"]')).to_be_hidden()
    shots(page, "designer-runtime-form")
    page.click("button.save")
    page.wait_for_url(lambda url: "/new" not in url)
    return int(page.url.rstrip("/").split("/")[-1])


def test_build_publish_fill_and_change_a_form(desktop, live_server, shots):
    page = desktop
    sign_in(page)
    page.goto("/designer/")
    page.click('[data-testid="new-app"]')
    dialog = page.locator('[data-testid="new-app-dialog"]')
    dialog.locator('input[name="label_zh"]').fill("批次检查应用")
    dialog.locator('input[name="label_en"]').fill("Lot check app")
    expect(dialog.locator('input[name="key"]')).to_have_value(APP)
    dialog.locator('[data-testid="create-app"]').click()
    page.wait_for_url(f"**/designer/apps/{APP}")

    build_inspection_form(page, shots)
    check_preview(page, shots)
    diff = publish(page, shots, "form-v1")
    assert "Lot number" in diff or "批号" in diff

    first = fill_at_runtime(page, live_server)
    second = fill_in_browser(page, shots)

    page.goto(f"/designer/apps/{APP}/forms/lot_check")
    page.wait_for_function("() => performance.getEntriesByName('qd:interactive').length > 0")
    drag(page, '[data-testid="palette-textarea"]', '[data-testid="unsectioned"]')
    label_new_field(page, "备注", "Remark")
    diff = publish(page, shots, "form-v2")
    assert ("Remark" in diff or "备注" in diff), diff
    assert "Lot number" not in diff and "批号" not in diff, diff       # only the change is listed

    for record_id, lot in ((first, "L-001"), (second, "L-002")):
        status, body = api(live_server.url, "GET", f"/api/v1/forms/lot_check/records/{record_id}",
                           token=live_server.token)
        assert status == 200, body
        assert body["data"]["lot_number"] == lot
        assert body["data"].get("remark") in (None, "")
    status, body = api(live_server.url, "GET", f"/api/v1/forms/lot_check/records/{first}", token=live_server.token)
    assert [r["qty"] for r in body["data"]["defects"]] == [2, 3]


# ---------------------------------------------------------------------------- flow and rule

FLOW_APP = "ng_flow_app"


def _label(zh: str, en: str) -> dict:
    return {"zh-CN": zh, "en": en}


CHECK = {"format": 1, "key": "ng_check", "label": _label("外观检查", "Visual check"), "fields": [
    {"key": "lot_no", "type": "text", "label": _label("批号", "Lot"), "required": True},
    {"key": "result", "type": "select", "label": _label("判定", "Result"), "required": True,
     "choices": [{"code": "ok", "label": _label("合格", "OK")}, {"code": "ng", "label": _label("不合格", "NG")}]},
    {"key": "qty", "type": "number", "label": _label("不良数", "Defects"), "precision": 0}]}
REPORT = {"format": 1, "key": "ng_report", "label": _label("不良通报", "NG report"), "fields": [
    {"key": "source_lot", "type": "text", "label": _label("来源批号", "Source lot"), "required": True},
    {"key": "qty", "type": "number", "label": _label("数量", "Quantity"), "precision": 0}]}


def publish_by_api(page, kind: str, key: str, definition: dict) -> None:
    """A definition published through the designer's own API (the form-building UI is tested above)."""
    created = page_api(page, "POST", f"/designer/api/apps/{FLOW_APP}/{kind}s",
                       {"key": key, "label": definition["label"]})
    assert created["status"] == 201, created
    saved_ = page_api(page, "PUT", f"/designer/api/drafts/{kind}/{key}",
                      {"definition": definition, "revision": created["data"]["revision"]})
    assert saved_["status"] == 200, saved_
    done = page_api(page, "POST", f"/designer/api/drafts/{kind}/{key}/publish", {"revision": saved_["data"]["revision"]})
    assert done["status"] == 200, done


def node_ids(page, flow_key: str) -> dict:
    return {n["id"]: n for n in draft(page, "flow", flow_key)["nodes"]}


def records(live_server, form: str) -> list[dict]:
    status, body = api(live_server.url, "GET", f"/api/v1/forms/{form}/records?per_page=50", token=live_server.token)
    assert status == 200, body
    return body["items"]


def wait_for(predicate, page, timeout_ms: int = 15_000):
    waited = 0
    while waited < timeout_ms:
        value = predicate()
        if value:
            return value
        page.wait_for_timeout(250)
        waited += 250
    raise AssertionError("timed out waiting")


def build_flow(page, shots) -> None:
    new_definition(page, "flow", "外观检查审批", "Visual check approval", "ng_check_flow", form="ng_check", app=FLOW_APP)
    start = [k for k, n in node_ids(page, "ng_check_flow").items() if n["type"] == "start"][0]
    page.click(f'[data-testid="add-after-{start}"]')
    page.click('[data-testid="add-approval"]')
    panel = page.locator('[data-testid="node-panel"]')
    expect(panel).to_be_visible()
    panel.locator('[data-testid="assignees-add"]').click()
    panel.locator('[data-testid="assignee-kind-0"]').select_option("user")
    panel.locator('[data-testid="assignee-user-0"]').select_option(label="Administrator")
    saved(page)
    approval = [k for k, n in node_ids(page, "ng_check_flow").items() if n["type"] == "approval"][0]
    page.click(f'[data-testid="add-after-{approval}"]')
    page.click('[data-testid="add-exclusive"]')
    saved(page)
    nodes = node_ids(page, "ng_check_flow")
    branch = [k for k, n in nodes.items() if n["type"] == "exclusive"][0]
    page.click(f'[data-testid="branch-{branch}-0"]')
    condition = page.locator('[data-testid="branch-condition"]')
    condition.fill('result = "ng"')
    expect(page.locator('[data-testid="expr-ok"]').last).to_be_visible()
    page.click(f'[data-testid="add-top-{branch}-0"]')
    page.click('[data-testid="add-handle"]')
    panel.locator('[data-testid="assignees-add"]').click()
    panel.locator('[data-testid="assignee-kind-0"]').select_option("user")
    panel.locator('[data-testid="assignee-user-0"]').select_option(label="Administrator")
    saved(page)
    shots(page, "designer-flow")
    publish(page, shots, "flow")


def build_rule(page, shots, trial_record: int) -> None:
    new_definition(page, "rule", "不合格自动通报", "NG opens a report", "ng_opens_report", form="ng_check", app=FLOW_APP)
    page.locator('[data-testid="rule-condition"]').fill('result = "ng"')
    page.select_option('[data-testid="add-action-type"]', "create_record")
    page.click('[data-testid="add-action"]')
    page.select_option('[data-testid="action-form"]', "ng_report")
    shots(page, "designer-rule-action")
    page.locator('[data-testid="map-source_lot"]').fill("lot_no")
    page.select_option('[data-testid="add-mapping"]', "qty")
    page.locator('[data-testid="map-qty"]').fill("qty * 1")
    saved(page)
    page.locator('[data-testid="trial-search"]').fill("")
    page.select_option('[data-testid="trial-record"]', str(trial_record))
    page.click('[data-testid="trial-run"]')
    result = page.locator('[data-testid="trial-result"]')
    expect(result).to_contain_text("T-1")                       # the mapped lot number it would write
    expect(page.locator('[data-testid="trial-nothing-done"]')).to_be_visible()
    shots(page, "designer-rule-trial")
    publish(page, shots, "rule")


def test_flow_with_a_branch_and_a_rule_work_at_runtime(desktop, live_server, shots):
    page = desktop
    sign_in(page)
    page.goto("/designer/")
    assert page_api(page, "POST", "/designer/api/apps", {"key": FLOW_APP, "label": _label("流程应用", "Flow app")})["status"] == 201
    publish_by_api(page, "form", "ng_check", CHECK)
    publish_by_api(page, "form", "ng_report", REPORT)
    status, body = api(live_server.url, "POST", "/api/v1/forms/ng_check/records",
                       {"data": {"lot_no": "T-1", "result": "ng", "qty": 3}}, live_server.token)
    assert status == 201, body
    build_flow(page, shots)
    build_rule(page, shots, body["id"])
    assert records(live_server, "ng_report") == []               # the trial did nothing

    # runtime: an NG check starts the flow (approval, then the NG branch's handling step) and the rule
    status, ng = api(live_server.url, "POST", "/api/v1/forms/ng_check/records",
                     {"data": {"lot_no": "L-NG", "result": "ng", "qty": 4}}, live_server.token)
    assert status == 201, ng
    status, ok = api(live_server.url, "POST", "/api/v1/forms/ng_check/records",
                     {"data": {"lot_no": "L-OK", "result": "ok", "qty": 0}}, live_server.token)
    assert status == 201, ok
    reports = wait_for(lambda: records(live_server, "ng_report"), page)
    assert [(r["data"]["source_lot"], r["data"]["qty"]) for r in reports] == [("L-NG", 4)]

    def flow_of(record_id):
        status, body = api(live_server.url, "GET", f"/api/v1/forms/ng_check/records/{record_id}/flow",
                           token=live_server.token)
        assert status == 200, body
        return body

    def approve_open_task(record_id):
        status, tasks = api(live_server.url, "GET", "/api/v1/tasks", token=live_server.token)
        mine = [t for t in tasks["items"] if t.get("record_id") == record_id and t.get("form_key", t.get("form")) == "ng_check"]
        assert mine, tasks
        task = mine[0]
        status, body = api(live_server.url, "POST", f"/api/v1/tasks/{task['id']}/approve", {"comment": "e2e"},
                           live_server.token)
        assert status == 200, body
        return task

    first = approve_open_task(ng["id"])
    second = approve_open_task(ng["id"])          # the NG branch's handling step
    assert first["node_id"] != second["node_id"]
    assert flow_of(ng["id"])["instance"]["state"] == "approved"
    approve_open_task(ok["id"])                    # the default branch ends the flow after the approval
    assert flow_of(ok["id"])["instance"]["state"] == "approved"


# ---------------------------------------------------------------------------- keyboard, speed

KEYS_APP = "keys_app"
THREE = {"format": 1, "key": "three_fields", "label": _label("三个字段", "Three fields"), "fields": [
    {"key": f, "type": "text", "label": _label(f, f)} for f in ("alpha", "beta", "gamma")]}


def test_fields_reorder_with_the_keyboard_only(desktop, live_server, shots):
    page = desktop
    sign_in(page)
    page.goto("/designer/")
    assert page_api(page, "POST", "/designer/api/apps", {"key": KEYS_APP, "label": _label("键盘", "Keys")})["status"] == 201
    created = page_api(page, "POST", f"/designer/api/apps/{KEYS_APP}/forms", {"key": "three_fields", "label": THREE["label"]})
    assert created["status"] == 201, created
    assert page_api(page, "PUT", "/designer/api/drafts/form/three_fields",
                    {"definition": THREE, "revision": created["data"]["revision"]})["status"] == 200
    page.goto(f"/designer/apps/{KEYS_APP}/forms/three_fields")
    page.wait_for_function("() => performance.getEntriesByName('qd:interactive').length > 0")

    page.locator('[data-testid="field-alpha"]').focus()          # where Tab lands on the canvas
    page.keyboard.press("Alt+ArrowDown")
    page.keyboard.press("Alt+ArrowDown")
    assert page.evaluate("document.activeElement.dataset.testid") == "field-alpha"      # focus follows the card
    expect(page.locator('[data-testid="announce"]')).to_contain_text("3")
    page.keyboard.press("Alt+ArrowUp")
    page.keyboard.press("Enter")                                  # Enter selects: the properties show it
    expect(page.locator('[data-testid="prop-key"]')).to_have_value("alpha")
    page.locator('[data-testid="palette-number"]').focus()
    page.keyboard.press("Enter")                                  # a palette item added by keyboard, after the selection
    saved(page)
    order = [f["key"] for f in draft(page, "form", "three_fields")["fields"]]
    assert order[:2] == ["beta", "alpha"] and order[3] == "gamma" and len(order) == 4, order
    assert draft(page, "form", "three_fields")["fields"][2]["type"] == "number"
    shots(page, "designer-keyboard")


def install_iqc(live_server) -> None:
    """The shipped supplier registry and IQC apps (once per server)."""
    from templates_qms.catalog import load_package
    status, body = api(live_server.url, "GET", "/api/v1/apps", token=live_server.token)
    installed = {a["key"] for a in body.get("items", body if isinstance(body, list) else [])}
    for key in ("qms_base", "iqc"):
        if key not in installed:
            status, body = api(live_server.url, "POST", "/api/v1/apps/import", load_package(key), live_server.token)
            assert status == 201, body


def test_the_iqc_designer_becomes_interactive_quickly(desktop, live_server, shots):
    """The figure of the issue: the IQC inspection form's designer (the shipped template, 40+ fields
    with sub-tables and formulas) until the editor answers, by the Performance API. The bound here
    is loose for a shared CI machine; tests/benchmarks/bench_designer.py gives the median figures."""
    install_iqc(live_server)
    page = desktop
    sign_in(page)
    url = "/designer/apps/iqc/forms/iqc_inspection"
    page.goto(url)                                               # warm-up (server caches, compiled templates)
    page.wait_for_function("() => performance.getEntriesByName('qd:interactive').length > 0", timeout=30_000)
    page.goto(url)
    page.wait_for_function("() => performance.getEntriesByName('qd:interactive').length > 0", timeout=30_000)
    ms = page.evaluate("performance.getEntriesByName('qd:interactive')[0].startTime")
    cards = page.locator('[data-testid^="field-"]').count()
    print(f"\nIQC designer interactive after {ms:.0f} ms ({cards} field cards)")
    shots(page, "designer-iqc")
    assert cards >= 40
    assert ms < 4500, f"the IQC designer took {ms:.0f} ms to become interactive (target 1500 ms)"
    page.locator('[data-testid^="field-"]').first.click(position={"x": 12, "y": 10})
    expect(page.locator('[data-testid="prop-key"]')).not_to_have_value("")


# ---------------------------------------------------------------------------- two designers, refusals, versions

GUARD_APP = "guard_app"
GRADED = {"format": 1, "key": "graded", "label": _label("分级", "Graded"), "fields": [
    {"key": "lot", "type": "text", "label": _label("批号", "Lot")},
    {"key": "grade", "type": "select", "label": _label("等级", "Grade"),
     "choices": [{"code": "a", "label": _label("甲", "A")}, {"code": "b", "label": _label("乙", "B")}]}]}


def test_concurrent_edits_refused_data_loss_and_restoring_a_version(browser, live_server, shots):
    from tests.e2e.conftest import _context
    first_ctx, second_ctx = _context(browser, live_server, False), _context(browser, live_server, False)
    try:
        mine, theirs = first_ctx.new_page(), second_ctx.new_page()
        sign_in(mine)
        sign_in(theirs)
        mine.goto("/designer/")
        assert page_api(mine, "POST", "/designer/api/apps", {"key": GUARD_APP, "label": _label("守护", "Guard")})["status"] == 201
        created = page_api(mine, "POST", f"/designer/api/apps/{GUARD_APP}/forms", {"key": "graded", "label": GRADED["label"]})
        stored = page_api(mine, "PUT", "/designer/api/drafts/form/graded", {"definition": GRADED, "revision": created["data"]["revision"]})
        assert page_api(mine, "POST", "/designer/api/drafts/form/graded/publish",
                        {"revision": stored["data"]["revision"]})["status"] == 200
        status, body = api(live_server.url, "POST", "/api/v1/forms/graded/records", {"data": {"lot": "G-1", "grade": "b"}},
                           live_server.token)
        assert status == 201, body

        mine.goto(f"/designer/apps/{GUARD_APP}/forms/graded")          # both open the published form
        mine.wait_for_function("() => performance.getEntriesByName('qd:interactive').length > 0")
        theirs.goto(f"/designer/apps/{GUARD_APP}/forms/graded")
        theirs.wait_for_function("() => performance.getEntriesByName('qd:interactive').length > 0")

        # the other designer removes option B (records use it) and saves first
        without_b = json.loads(json.dumps(GRADED))
        without_b["fields"][1]["choices"] = without_b["fields"][1]["choices"][:1]
        stored = page_api(theirs, "PUT", "/designer/api/drafts/form/graded", {"definition": without_b, "revision": 0})
        assert stored["status"] == 200, stored

        # my change now conflicts: a banner, never a silent overwrite
        mine.fill('[data-testid="form-label-en"]', "Graded lots")
        conflict = mine.locator('[data-testid="conflict"]')
        expect(conflict).to_be_visible()
        expect(mine.locator('[data-testid="save-status"]')).to_have_attribute("data-state", "conflict")
        shots(mine, "designer-conflict")
        assert draft(mine, "form", "graded")["fields"][1]["choices"] == without_b["fields"][1]["choices"]
        mine.click('[data-testid="load-theirs"]')
        expect(conflict).to_be_hidden()

        # publishing their draft would lose data (a record uses B): refused with the reason
        mine.click('[data-testid="publish"]')
        dialog = mine.locator('[data-testid="publish-dialog"]')
        expect(dialog.locator('[data-testid="refused"]')).to_be_visible()
        expect(dialog.locator('[data-testid="refused"]')).to_contain_text("1")
        expect(dialog.locator('[data-testid="confirm-publish"]')).to_be_disabled()
        shots(mine, "designer-refused")
        dialog.locator('[data-testid="cancel-publish"]').click()

        # version 1 restored as the draft: option B is back and publishing is allowed again
        mine.click('[data-testid="versions"]')
        drawer = mine.locator('[data-testid="versions-drawer"]')
        drawer.locator('[data-testid="restore-1"]').click()
        mine.locator('[data-testid="restore-dialog"] [data-testid="confirm-ok"]').click()
        mine.wait_for_function("""() => !document.querySelector('[data-testid="versions-drawer"]')
                                      || !document.querySelector('[data-testid="versions-drawer"]').open""")
        assert [c["code"] for c in draft(mine, "form", "graded")["fields"][1]["choices"]] == ["a", "b"]
        mine.click('[data-testid="publish"]')
        expect(dialog.locator('[data-testid="confirm-publish"]')).to_be_enabled()
        expect(dialog.locator('[data-testid="refused"]')).to_have_count(0)
    finally:
        first_ctx.close()
        second_ctx.close()


def test_every_editor_opens_the_shipped_iqc_app_and_a_dashboard_is_laid_out(desktop, live_server, shots):
    """The flow, rule and report editors load the template's definitions without a script error, and a
    new dashboard gets two of its reports placed and one resized with the keyboard."""
    install_iqc(live_server)
    page = desktop
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page)
    for kinds, key, ready in (("flows", "iqc_review", '[data-testid="flow-canvas"]'),
                              ("rules", "iqc_rejected_freezes_lot", '[data-testid="rule-condition"]'),
                              ("reports", "iqc_defect_pareto", '[data-testid="report-chart"] .plot-container, '
                                                                '[data-testid="report-chart"] svg')):
        page.goto(f"/designer/apps/iqc/{kinds}/{key}")
        page.wait_for_function("() => performance.getEntriesByName('qd:interactive').length > 0")
        expect(page.locator(ready).first).to_be_visible()
        expect(page.locator('[data-testid="problems"]')).to_have_text(re.compile("无问题|No problems"))   # valid
        shots(page, f"designer-iqc-{kinds}")
    assert errors == []

    created = page_api(page, "POST", "/designer/api/apps/iqc/dashboards", {"key": "iqc_board", "label": _label("来料看板", "IQC board")})
    assert created["status"] == 201, created
    page.goto("/designer/apps/iqc/dashboards/iqc_board")
    page.wait_for_function("() => performance.getEntriesByName('qd:interactive').length > 0")
    page.click('[data-testid="add-report-iqc_lar_by_month"]')
    page.click('[data-testid="add-report-iqc_defect_pareto"]')
    expect(page.locator('[data-testid="item-iqc_defect_pareto"]')).to_be_visible()
    page.locator('[data-testid="item-iqc_lar_by_month"]').focus()
    saved(page)
    before = {i["report"]: i for i in draft(page, "dashboard", "iqc_board")["items"]}
    page.keyboard.press("Shift+ArrowDown")                        # one row taller
    saved(page)
    after = {i["report"]: i for i in draft(page, "dashboard", "iqc_board")["items"]}
    assert after["iqc_lar_by_month"]["h"] == before["iqc_lar_by_month"]["h"] + 1
    boxes = [(i["x"], i["y"], i["w"], i["h"]) for i in after.values()]
    cells = [(x + dx, y + dy) for x, y, w, h in boxes for dx in range(w) for dy in range(h)]
    assert len(cells) == len(set(cells))                          # nothing overlaps
    shots(page, "designer-dashboard")
    assert errors == []
