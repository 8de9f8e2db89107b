"""The trace page in a real browser: cards in layer columns with SVG edges between them, the
direction and depth toggles, re-centring on another record and opening a record; on a phone the
columns stack. The app runs in a thread of this process. Screenshots: /tmp/trace.png (desktop) and
/tmp/trace-phone.png."""
from __future__ import annotations

import threading

import pytest

from engine.services import accounts
from engine.storage.db import session_scope
from tests.e2e.conftest import DESKTOP, PHONE, require_browser
from tests.engine.services.test_trace import Plant
from tests.runtime.web_support import ADMIN_PASSWORD, make_app

try:
    from playwright.sync_api import expect
except ImportError:           # the browser fixture skips (or fails in CI) with the reason
    expect = None


@pytest.fixture(scope="module")
def trace_site(tmp_path_factory):
    """A served app with two production chains sharing one material lot; (base url, ids)."""
    require_browser()
    from werkzeug.serving import make_server
    app = make_app(tmp_path_factory.mktemp("trace-e2e"))
    engine = app.extensions["qms_db"]
    with session_scope(engine) as s:
        tenant = accounts.tenant_id_by_key(s, "default")
        admin = accounts.actor_for_user(s, accounts.user_id_by_email(s, tenant, "admin@example.com"))
    plant = Plant(engine, admin)
    steel, resin = plant.add("supplier", name="宝钢", code="S1"), plant.add("supplier", name="金发科技", code="S2")
    acme, beta = plant.add("customer", name="比亚迪"), plant.add("customer", name="宁德时代")
    a = plant.chain(steel, acme, "A", lots=3)
    extra = plant.add("material_lot", lot_no="ML-R-1", supplier=resin, qty=5, result="NG")
    batch_b = plant.add("batch", batch_no="B-B", line="L2",
                        materials=[{"material_lot": a["lots"][0], "qty": 1}, {"material_lot": extra, "qty": 2}])
    fg_b = plant.add("finished_lot", lot_no="FG-B", batch=batch_b, qty=7)
    sh_b = plant.add("shipment", ship_no="SH-B", customer=beta, items=[{"finished_lot": fg_b, "qty": 7}])
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", {**a, "batch_b": batch_b, "sh_b": sh_b, "acme": acme}
    finally:
        server.shutdown()
        thread.join(10)


def _page(browser, base: str, viewport: dict, phone: bool = False):
    options = {"base_url": base, "locale": "zh-CN", "viewport": viewport}
    if phone:
        options.update(device_scale_factor=2, is_mobile=True, has_touch=True)
    context = browser.new_context(**options)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto("/login")
    company = page.locator("#company")
    if company.count() and not company.input_value():
        company.fill("default")
    page.fill("#email", "admin@example.com")
    page.fill("#password", ADMIN_PASSWORD)
    page.locator("form button[type=submit]").click()
    page.wait_for_url(lambda url: "/login" not in url)
    return context, page


def test_trace_page_draws_the_graph_and_clicks_through(browser, trace_site):
    base, ids = trace_site
    context, page = _page(browser, base, DESKTOP)
    try:
        page.goto(f"/trace/material_lot/{ids['lots'][0]}")
        graph = page.locator("#trace-graph")
        expect(graph.locator(".trace-layer")).to_have_count(6)            # supplier, start, 4 forward steps
        expect(graph.locator(f'[data-key="customer:{ids["acme"]}"]')).to_be_visible()
        edges = page.locator("svg.trace-edges path")
        expect(edges).to_have_count(page.evaluate("JSON.parse(document.getElementById('trace-edges').textContent).length"))
        assert edges.count() >= 6
        xs = [graph.locator(".trace-layer").nth(i).bounding_box()["x"] for i in range(6)]
        assert xs == sorted(xs) and len(set(xs)) == 6                      # columns left to right
        page.screenshot(path="/tmp/trace.png", full_page=True)

        page.locator(".segmented label", has_text="反向追溯").click()       # toggle: backward only
        page.locator(".trace-controls button[type=submit]").click()
        page.wait_for_url(lambda url: "direction=backward" in url)
        expect(graph.locator(".trace-layer")).to_have_count(2)            # supplier ← lot
        expect(graph.locator('[data-key^="supplier:"]')).to_have_count(1)

        page.goto(f"/trace/material_lot/{ids['lots'][0]}?depth=2")
        card = graph.locator(f'[data-key="batch:{ids["batch_b"]}"]')
        card.hover()
        expect(page.locator("svg.trace-edges path.hl").first).to_be_attached()
        card.locator(".node-retrace").click()                             # re-centre on the batch
        page.wait_for_url(lambda url: f"/trace/batch/{ids['batch_b']}" in url)
        expect(graph.locator(".trace-node.start")).to_contain_text("B-B")
        graph.locator(f'[data-key="shipment:{ids["sh_b"]}"] .node-title').click()    # open a record
        page.wait_for_url(lambda url: f"/f/shipment/{ids['sh_b']}" in url)
        expect(page.locator("h1")).to_contain_text("SH-B")
    finally:
        context.close()


def test_trace_page_stacks_on_a_phone(browser, trace_site):
    base, ids = trace_site
    context, page = _page(browser, base, PHONE, phone=True)
    try:
        page.goto(f"/trace/batch/{ids['batch']}")
        layers = page.locator(".trace-layer")
        expect(layers).to_have_count(6)
        boxes = [layers.nth(i).bounding_box() for i in range(6)]
        assert len({round(b["x"]) for b in boxes}) == 1                    # one column: stacked lists
        assert all(b["width"] <= PHONE["width"] for b in boxes)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1   # no sideways scroll
        expect(page.locator("svg.trace-edges")).to_be_hidden()
        expect(page.locator(".node-via").first).to_be_visible()           # the cards say how they are linked
        page.screenshot(path="/tmp/trace-phone.png", full_page=True)
    finally:
        context.close()
