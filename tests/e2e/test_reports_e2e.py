"""A dashboard end to end in a real browser: reports and a dashboard published through the API on
inspections with defects, drawn by plotly.js served by the app. Changing the date filter changes
the KPI card and the Pareto's bars; clicking the Pareto's first bar lists exactly the records
behind it, linked to their pages. A phone-sized screenshot goes to the test's tmp dir."""
from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import api, sign_in

try:
    from playwright.sync_api import expect
except ImportError:           # the fixtures skip (or fail in CI) with the reason
    expect = None


def _label(zh: str, en: str) -> dict:
    return {"zh-CN": zh, "en": en}


SUPPLIER = {"format": 1, "key": "e2e_rep_supplier", "label": _label("供应商", "Supplier"), "title_template": "{name}",
            "fields": [{"key": "name", "type": "text", "label": _label("名称", "Name"), "required": True}]}
CODES = ("scratch", "burr", "dent", "size")
IQC = {"format": 1, "key": "e2e_rep_iqc", "label": _label("来料检验（报表）", "Goods-in (reports)"),
       "numbering": "RI-{0000}", "fields": [
           {"key": "supplier", "type": "reference", "label": _label("供应商", "Supplier"), "form": "e2e_rep_supplier"},
           {"key": "inspect_date", "type": "date", "label": _label("检验日期", "Inspection date")},
           {"key": "defects", "type": "subtable", "label": _label("缺陷", "Defects"), "fields": [
               {"key": "code", "type": "select", "label": _label("缺陷代码", "Defect code"),
                "choices": [{"code": c, "label": _label({"scratch": "划伤", "burr": "毛刺", "dent": "凹痕",
                                                         "size": "尺寸"}[c], c)} for c in CODES]},
               {"key": "qty", "type": "number", "label": _label("数量", "Quantity"), "precision": 0}]}]}

# (supplier, date, defects): over everything scratch 8 > burr 7 > dent 6 > size 1; in March 2025
# burr 6 > dent 2 > size 1 (lots 5, 6 and 8 have burrs)
LOTS = [("A", "2025-01-10", {"scratch": 5, "burr": 1}), ("B", "2025-01-12", {"scratch": 3}),
        ("A", "2025-01-20", {"dent": 4}), ("B", "2025-01-25", {}),
        ("A", "2025-03-03", {"burr": 3, "size": 1}), ("B", "2025-03-09", {"burr": 2}),
        ("A", "2025-03-15", {"dent": 1}), ("B", "2025-03-20", {"burr": 1, "dent": 1}), ("A", "2025-03-28", {})]

REPORTS = [
    {"format": 1, "key": "e2e_pareto", "label": _label("缺陷柏拉图", "Defect Pareto"),
     "dataset": {"form": "e2e_rep_iqc", "dimensions": [{"field": "defects.code", "key": "code"}],
                 "measures": [{"agg": "sum", "field": "defects.qty", "key": "qty"}]}, "chart": {"type": "pareto"}},
    {"format": 1, "key": "e2e_lots", "label": _label("检验批数", "Lots inspected"),
     "dataset": {"form": "e2e_rep_iqc", "measures": [{"agg": "count", "key": "n"}]},
     "chart": {"type": "kpi", "period_field": "inspect_date"}},
    {"format": 1, "key": "e2e_by_supplier", "label": _label("各供应商批数", "Lots per supplier"),
     "dataset": {"form": "e2e_rep_iqc", "dimensions": [{"field": "supplier", "key": "supplier"}],
                 "measures": [{"agg": "count", "key": "n"}]}, "chart": {"type": "bar"}},
]
BOARD = {"format": 1, "key": "e2e_quality", "label": _label("来料质量看板", "Incoming quality"), "refresh": 0,
         "filters": [{"key": "period", "label": _label("检验日期", "Inspection date"), "type": "date_range",
                      "field": "inspect_date"},
                     {"key": "supplier", "label": _label("供应商", "Supplier"), "type": "field", "field": "supplier"}],
         "items": [{"report": "e2e_pareto", "x": 0, "y": 0, "w": 8, "h": 4},
                   {"report": "e2e_lots", "x": 8, "y": 0, "w": 4, "h": 2},
                   {"report": "e2e_by_supplier", "x": 8, "y": 2, "w": 4, "h": 2}]}


@pytest.fixture(scope="module")
def board(live_server):
    """The forms, nine lots, three reports and the dashboard; the lots' ids in order."""
    token = live_server.token
    package = {"format": 1, "key": "e2e_reports", "version": "1.0.0", "label": _label("报表测试", "Reports test"),
               "forms": [SUPPLIER, IQC]}
    status, body = api(live_server.url, "POST", "/api/v1/apps/import", package, token)
    assert status == 201, body
    suppliers = {}
    for name in ("A", "B"):
        status, body = api(live_server.url, "POST", "/api/v1/forms/e2e_rep_supplier/records",
                           {"data": {"name": f"Supplier {name}"}}, token)
        assert status == 201, body
        suppliers[name] = body["id"]
    ids = []
    for supplier, day, defects in LOTS:
        data = {"supplier": suppliers[supplier], "inspect_date": day,
                "defects": [{"code": code, "qty": qty} for code, qty in defects.items()]}
        status, body = api(live_server.url, "POST", "/api/v1/forms/e2e_rep_iqc/records", {"data": data}, token)
        assert status == 201, body
        ids.append(body["id"])
    for report in REPORTS:
        status, body = api(live_server.url, "POST", "/api/v1/reports", report, token)
        assert status == 201, body
    status, body = api(live_server.url, "POST", "/api/v1/dashboards", BOARD, token)
    assert status == 201, body
    return ids


def _cell(page, report: str):
    return page.locator(f'.rp-cell[data-report="{report}"]')


def _bars(page):
    return _cell(page, "e2e_pareto").locator(".barlayer .point")


def test_dashboard_date_filter_changes_the_charts_and_a_pareto_bar_drills_down(board, desktop, phone, tmp_path):
    errors = []
    desktop.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(desktop)
    desktop.goto("/dashboards/e2e_quality")
    kpi = _cell(desktop, "e2e_lots").locator(".indicatorlayer text.number")
    expect(kpi).to_have_text(re.compile(r"^0(\.0+)?$"))           # nothing was inspected this month
    expect(_bars(desktop)).to_have_count(4)                        # every defect code, all time

    desktop.fill('[data-filter="period"][data-part="from"]', "2025-03-01")
    desktop.fill('[data-filter="period"][data-part="to"]', "2025-03-31")
    desktop.locator("#rp-filters button[type=submit]").click()
    expect(kpi).to_have_text(re.compile(r"^5(\.0+)?$"))           # the five lots of March
    expect(_bars(desktop)).to_have_count(3)                        # no scratches in March

    box = _bars(desktop).first.bounding_box()
    desktop.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    panel = desktop.locator("#rp-drill")
    expect(panel).to_be_visible()
    expect(desktop.locator("#rp-drill-title")).to_contain_text("缺陷柏拉图")
    links = desktop.locator("#rp-drill-list a")
    expect(links).to_have_count(3)
    hrefs = {links.nth(i).get_attribute("href") for i in range(3)}
    assert hrefs == {f"/f/e2e_rep_iqc/{board[i]}" for i in (4, 5, 7)}     # the March lots with burrs
    expect(desktop.locator("#rp-drill-total")).to_contain_text("3")
    with desktop.expect_download() as download:
        _cell(desktop, "e2e_pareto").locator(".rp-png").click()
    assert download.value.suggested_filename == "e2e_pareto.png"
    assert errors == []                                            # no script error on the way
    links.first.click()
    desktop.wait_for_url(re.compile(r"/f/e2e_rep_iqc/\d+$"))

    # on a phone the grid stacks to one column
    sign_in(phone)
    phone.goto("/dashboards/e2e_quality")
    expect(_bars(phone)).to_have_count(4)
    expect(_cell(phone, "e2e_lots").locator(".indicatorlayer text.number")).to_be_visible()
    boxes = [_cell(phone, key).bounding_box() for key in ("e2e_pareto", "e2e_lots", "e2e_by_supplier")]
    assert all(b["x"] == boxes[0]["x"] and b["width"] == boxes[0]["width"] for b in boxes)
    assert boxes[0]["y"] < boxes[1]["y"] < boxes[2]["y"]
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    shot = tmp_path / "dashboard-phone.png"
    phone.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000


def test_report_page_filters_exports_and_drills(board, desktop, tmp_path):
    sign_in(desktop)
    desktop.goto("/reports/e2e_pareto")
    expect(desktop.locator("#rp-table tbody tr")).to_have_count(4)
    desktop.fill("#rp-from", "2025-03-01")
    desktop.fill("#rp-to", "2025-03-31")
    desktop.locator("#rp-filters button[type=submit]").click()
    expect(desktop.locator("#rp-table tbody tr")).to_have_count(3)
    expect(desktop.locator("#rp-export")).to_have_attribute("href", re.compile(r"from=2025-03-01.*period_field=inspect_date"))
    desktop.locator("#rp-table tbody tr").nth(2).click()                 # size: one lot
    expect(desktop.locator("#rp-drill-list a")).to_have_count(1)
    assert desktop.locator("#rp-drill-list a").get_attribute("href") == f"/f/e2e_rep_iqc/{board[4]}"
    with desktop.expect_download() as download:
        desktop.locator("#rp-export").click()
    assert download.value.suggested_filename == "e2e_pareto.xlsx"
    with desktop.expect_download() as download:
        desktop.locator("#rp-png").click()
    assert download.value.suggested_filename == "e2e_pareto.png"
    desktop.screenshot(path=str(tmp_path / "report-desktop.png"), full_page=True)
