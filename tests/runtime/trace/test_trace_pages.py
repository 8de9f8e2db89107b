"""The trace page and the trace API: layered cards, toggles, scopes, errors, both languages."""
from __future__ import annotations

import json
import re

from tests.runtime.trace.conftest import PASSWORD


def test_the_page_shows_backward_and_forward_columns(site):
    ids = site.ids
    client = site.client()
    res = client.get(f"/trace/batch/{ids['batch']}")           # the admin's language: zh-CN
    html = res.get_data(as_text=True)
    assert res.status_code == 200
    headings = re.findall(r'<section class="trace-layer[^"]*" data-layer="(-?\d+)"', html)
    assert headings == ["-2", "-1", "0", "1", "2", "3"]
    assert "反向追溯 · 第 1 层" in html and "正向追溯 · 第 2 层" in html and "起点" in html
    assert f'data-key="material_lot:{ids["lots"][0]}"' in html and f'data-key="customer:{ids["acme"]}"' in html
    assert f'href="/f/material_lot/{ids["lots"][0]}"' in html                  # cards link to the record
    assert f'href="/trace/shipment/{ids["shipment"]}"' in html                 # and re-centre the trace
    edges = json.loads(re.search(r'<script type="application/json" id="trace-edges">(.*?)</script>', html, re.S).group(1))
    assert {"from": f"batch:{ids['batch']}", "to": f"material_lot:{ids['lots'][0]}", "label": "来料批次"} in edges
    assert "trace.js" in html and "trace.css" in html


def test_toggles_change_direction_and_depth(site):
    ids = site.ids
    client = site.client()
    html = client.get(f"/trace/batch/{ids['batch']}?direction=forward&depth=1").get_data(as_text=True)
    layers = set(re.findall(r'data-layer="(-?\d+)"', html))
    assert layers == {"0", "1"}
    assert 'value="forward" checked' in html and '<option value="1" selected>' in html
    html = client.get(f"/trace/batch/{ids['batch']}?direction=sideways").get_data(as_text=True)
    assert "方向只能是" in html and 'value="both" checked' in html            # said, and the default trace shown
    html = client.get(f"/trace/shipment/{ids['shipment']}?direction=backward&expand=shipment&expand=finished_lot"
                      ).get_data(as_text=True)
    assert "trace-node stop-filtered" in html and "material_lot:" not in html


def test_the_page_is_bilingual(site):
    client = site.client(site.user("english@example.com"), PASSWORD)      # a user who chose English
    html = client.get(f"/trace/batch/{site.ids['batch']}").get_data(as_text=True)
    assert "Backward · step 1" in html and "Forward · step 2" in html and "Start" in html
    assert "Material lot" in html and "Update" in html and "来料批次" not in html


def test_records_outside_the_scope_are_not_on_the_page(site):
    ids = site.ids
    email = site.user("viewer@example.com", batch={"read": "own"})
    client = site.client(email, PASSWORD)
    html = client.get(f"/trace/shipment/{ids['shipment']}").get_data(as_text=True)
    assert "batch:" not in html and "material_lot:" not in html and "Steel Co" not in html
    assert client.get(f"/trace/batch/{ids['batch']}").status_code == 404
    assert client.get("/trace/batch/999999").status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(site):
    res = site.app.test_client().get(f"/trace/batch/{site.ids['batch']}")
    assert res.status_code == 302 and "/login" in res.headers["Location"]
    res = site.app.test_client().get(f"/api/v1/trace/batch/{site.ids['batch']}")
    assert res.status_code == 401 and res.get_json()["error"]["code"] == "unauthorized"


def test_the_api_returns_the_graph_as_json(site):
    ids = site.ids
    client = site.client()
    res = client.get(f"/api/v1/trace/shipment/{ids['shipment']}?direction=backward&depth=6")
    body = res.get_json()
    assert res.status_code == 200 and body["start"] == f"shipment:{ids['shipment']}"
    assert body["direction"] == "backward" and body["truncated"] is False
    found = {n["key"]: n for n in body["nodes"]}
    assert f"supplier:{ids['steel']}" in found and found[f"supplier:{ids['steel']}"]["layer"] == -4
    lot = found[f"material_lot:{ids['lots'][0]}"]
    assert lot["url"] == f"/f/material_lot/{ids['lots'][0]}" and lot["trace_url"] == f"/trace/material_lot/{ids['lots'][0]}"
    assert {"from", "to", "field", "label"} <= set(body["edges"][0])
    res = client.get(f"/api/v1/trace/shipment/{ids['shipment']}?direction=up", headers={"Accept-Language": "en"})
    assert res.status_code == 400 and res.get_json()["error"]["code"] == "invalid_trace"
    res = client.get(f"/api/v1/trace/shipment/{ids['shipment']}?depth=x")
    assert res.status_code == 400
    res = client.get("/api/v1/trace/shipment/999999")
    assert res.status_code == 404 and res.get_json()["error"]["code"] == "not_found"


def test_the_api_respects_the_read_scope(site):
    ids = site.ids
    email = site.user("api-viewer@example.com", batch={"read": "own"})
    client = site.client(email, PASSWORD)
    body = client.get(f"/api/v1/trace/material_lot/{ids['lots'][0]}?direction=forward").get_json()
    assert [n["key"] for n in body["nodes"]] == [f"material_lot:{ids['lots'][0]}"] and body["edges"] == []
