"""The report pages through the Flask test client: the list shows what each user may see, a report
page and a dashboard page render their shells (config as JSON, no inline script or style), labels
are escaped, the export button only shows with the export permission, and plotly.js is served by
the app with long cache headers."""
from __future__ import annotations

import copy
import json
import re

from tests.runtime.reports.support import BOARD, PARETO, PASSWORD, sign_in
from tests.runtime.web_support import ADMIN_PASSWORD

CONFIG = re.compile(r'<script type="application/json" id="rp-config">(.*?)</script>', re.S)


def admin(site):
    return sign_in(site.client(), "admin@example.com", ADMIN_PASSWORD)


def person(site, name: str):
    return sign_in(site.client(), site.a.emails[name], PASSWORD)


def page(client, path: str) -> tuple[int, str]:
    res = client.get(path)
    return res.status_code, res.get_data(as_text=True)


def main_part(html: str) -> str:
    return html[html.index("<main"):html.index("</main>")]


def config_of(html: str) -> dict:
    return json.loads(CONFIG.search(html).group(1))


def test_the_list_shows_dashboards_and_reports_the_user_may_see(site):
    status, html = page(admin(site), "/reports")
    assert status == 200
    assert 'href="/dashboards/quality"' in html and "质量看板" in html
    for key in ("defect_pareto", "lots", "lots_by_supplier", "suppliers"):
        assert f'href="/reports/{key}"' in html
    assert "柏拉图" in html and "指标卡" in html                               # chart types by name
    assert 'href="/reports" class="active"' in html                          # the nav entry
    status, html = page(person(site, "otto"), "/reports")
    assert status == 200 and "Reports and dashboards" in html and ">Reports</a>" in html
    assert 'href="/reports/suppliers"' in html and 'href="/reports/defect_pareto"' not in html
    assert 'href="/dashboards/quality"' in html                              # it has a report otto may see


def test_pages_need_a_signed_in_user(site):
    res = site.client().get("/reports/defect_pareto")
    assert res.status_code == 302 and "/login" in res.headers["Location"]


def test_report_page_shell_config_and_no_inline_code(site):
    status, html = page(admin(site), "/reports/defect_pareto")
    assert status == 200
    config = config_of(html)
    assert config["data_url"] == "/api/v1/reports/defect_pareto/data"
    assert config["drill_url"] == "/api/v1/reports/defect_pareto/drill"
    assert config["export_url"] == "/api/v1/reports/defect_pareto/export.xlsx"
    assert config["record_url"] == "/f/{form}/{id}"
    assert config["period_field"] == "inspect_date"
    assert [d["path"] for d in config["date_fields"]] == ["inspect_date", "created_at", "updated_at"]
    fields = {f["path"]: f for f in config["fields"]}
    assert [o["label"] for o in fields["supplier"]["options"]] == ["Acme", "Bolt", "Cogs"]
    assert [o["value"] for o in fields["result"]["options"]] == ["accept", "reject"]
    assert fields["part"]["op"] == "contains" and fields["part"]["options"] is None
    assert 'id="rp-export"' in html and "导出 Excel" in html and "下载 PNG" in html
    scripts = re.findall(r"<script([^>]*)>", html)
    assert all("src=" in attrs or 'type="application/json"' in attrs for attrs in scripts)
    assert re.search(r'<script src="/vendor/plotly\.min\.js\?v=[\d.]+"></script>', html)
    assert 'src="/static/js/reports.js"' in html
    assert " style=" not in main_part(html) and not re.search(r"<[^>]+\son\w+=", main_part(html))
    assert "cdn" not in html.lower()


def test_hidden_fields_are_not_offered_and_export_is_hidden_without_permission(site):
    status, html = page(person(site, "vera"), "/reports/defect_pareto")
    assert status == 200 and "Download PNG" in html
    assert 'id="rp-export"' not in html and "Export Excel" not in html
    config = config_of(html)
    assert config["export_url"] is None
    assert "cost" not in {f["path"] for f in config["fields"]}


def test_report_page_of_a_form_the_user_cannot_read_is_404(site):
    status, html = page(person(site, "otto"), "/reports/defect_pareto")
    assert status == 404 and "defect_pareto" not in main_part(html)
    assert page(admin(site), "/reports/ghost")[0] == 404
    assert page(admin(site), "/dashboards/ghost")[0] == 404


def test_labels_are_escaped(site):
    evil = "<script>alert('x')</script>"
    site.a.shop.publish({**copy.deepcopy(PARETO), "key": "evil", "label": {"zh-CN": evil, "en": evil}})
    client = admin(site)
    for path in ("/reports", "/reports/evil"):
        status, html = page(client, path)
        assert status == 200 and evil not in html and "&lt;script&gt;alert(" in html
    with site.a.shop.session() as s:
        from engine.services import dashboards
        dashboards.publish_dashboard(s, site.a.tenant.admin, {**copy.deepcopy(BOARD), "key": "evil_board",
                                                              "label": {"zh-CN": evil, "en": evil},
                                                              "items": [{"report": "evil", "x": 0, "w": 12}]})
    status, html = page(client, "/dashboards/evil_board")
    assert status == 200 and evil not in html
    assert config_of(html)["cells"][0]["label"] == evil                    # intact inside the JSON, escaped as \u003c


def test_dashboard_page_grid_filters_and_cells(site):
    status, html = page(admin(site), "/dashboards/quality")
    assert status == 200
    cells = re.findall(r'<section class="rp-cell ([^"]+)" data-report="(\w+)"', html)
    assert cells == [("gx-0 gw-6 gh-4", "defect_pareto"), ("gx-6 gw-3 gh-2", "lots"), ("gx-9 gw-3 gh-2", "suppliers"),
                     ("gx-6 gw-6 gh-2", "lots_by_supplier")]
    assert 'data-filter="period" data-part="from"' in html and 'data-filter="period" data-part="to"' in html
    supplier = re.search(r'<select id="[^"]+" data-filter="supplier">(.*?)</select>', html, re.S).group(1)
    assert re.findall(r">(\w+)</option>", supplier) == ["全部", "Acme", "Bolt", "Cogs"]
    assert re.search(r'<input type="text" id="[^"]+" data-filter="part">', html)
    config = config_of(html)
    assert config["refresh"] == 60 and config["data_url"] == "/api/v1/dashboards/quality/data"
    assert [c["y"] for c in config["cells"]] == [0, 0, 0, 2]
    assert config["export_url"] == "/api/v1/dashboards/quality/export.xlsx" and 'id="rp-export"' in html
    assert "每 60 秒自动刷新" in html and html.count('class="rp-all"') == 1        # the KPI card's records button
    assert " style=" not in main_part(html)


def test_dashboard_page_shows_only_the_cells_a_reader_may_see(site):
    status, html = page(person(site, "otto"), "/dashboards/quality")
    assert status == 200
    assert re.findall(r'data-report="(\w+)"', html) == ["suppliers"]
    assert 'id="rp-export"' not in html


def test_plotly_is_served_by_the_app_with_long_cache_headers(site):
    client = admin(site)
    res = client.get("/vendor/plotly.min.js")
    try:
        assert res.status_code == 200 and res.mimetype == "text/javascript"
        assert "max-age=31536000" in res.headers["Cache-Control"]
        assert b"plotly.js" in res.get_data()[:400]
    finally:
        res.close()
    again = client.get("/vendor/plotly.min.js", headers={"If-None-Match": res.headers["ETag"]})
    assert again.status_code == 304
