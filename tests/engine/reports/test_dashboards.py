"""Dashboards: shared filters reach every report whose form has the field, reports a viewer may
not see are left out, a bad definition says where, and drill-down keeps the shared filters."""
from __future__ import annotations

from collections import Counter

import pytest

from engine.errors import DefinitionError, NotFound
from engine.services import dashboards
from tests.engine.reports.support import L, report, shop  # noqa: F401  (fixture)

PARETO = report("defect_pareto", {"form": "iqc", "dimensions": [{"field": "defects.code", "key": "code"}],
                                  "measures": [{"agg": "sum", "field": "defects.qty", "key": "qty"}]}, {"type": "pareto"})
LOTS = report("lots", {"form": "iqc", "measures": [{"agg": "count", "key": "n"}]}, {"type": "kpi"})
SUPPLIERS = report("suppliers", {"form": "supplier", "dimensions": [{"field": "region"}],
                                 "measures": [{"agg": "count", "key": "n"}]}, {"type": "pie"})
BOARD = {"format": 1, "key": "quality", "label": L("质量看板", "Quality"), "refresh": 60,
         "filters": [{"key": "period", "label": L("期间", "Period"), "type": "date_range", "field": "inspect_date"},
                     {"key": "supplier", "label": L("供应商", "Supplier"), "type": "field", "field": "supplier"}],
         "items": [{"report": "defect_pareto", "x": 0, "y": 0, "w": 6, "h": 4},
                   {"report": "lots", "x": 6, "y": 0, "w": 3, "h": 2},
                   {"report": "suppliers", "x": 9, "y": 0, "w": 3, "h": 2}]}


@pytest.fixture
def board(shop):
    for r in (PARETO, LOTS, SUPPLIERS):
        shop.publish(r)
    with shop.session() as s:
        dashboards.publish_dashboard(s, shop.admin, BOARD)
    return shop


def test_shared_filters_apply_where_the_field_exists(board):
    shop = board
    acme = shop.suppliers["Acme"]
    values = {"period": {"from": "2026-02-01", "to": "2026-03-31"}, "supplier": [acme]}
    with shop.session() as s:
        out = dashboards.run_dashboard(s, shop.admin, "quality", values)
    cells = {c["report"]: c for c in out["items"]}
    chosen = [lot for lot in shop.iqc if lot["supplier"] == acme and 2 <= lot["day"].month <= 3]
    expected = Counter()
    for lot in chosen:
        for d in lot["defects"]:
            expected[d["code"]] += d["qty"]
    pareto = cells["defect_pareto"]["result"]["data"]
    assert {r[0]: r[1] for r in pareto["rows"]} == dict(expected)
    assert cells["lots"]["result"]["chart_data"]["value"] == len(chosen)
    assert cells["suppliers"]["not_applied"] == ["period", "supplier"]
    assert out["refresh"] == 60


def test_drill_keeps_the_shared_filters(board):
    shop = board
    values = {"period": {"from": "2026-03-01", "to": "2026-03-31"}}
    with shop.session() as s:
        out = dashboards.run_dashboard(s, shop.admin, "quality", values)
        first = next(c for c in out["items"] if c["report"] == "defect_pareto")["result"]["data"]["rows"][0][0]
        drilled = dashboards.drill(s, shop.admin, "quality", "defect_pareto", {"row": 0}, values)
    ids = {lot["id"] for lot in shop.iqc if lot["day"].month == 3 and any(d["code"] == first for d in lot["defects"])}
    assert {r["id"] for r in drilled["records"]} == ids


def test_viewer_without_access_to_a_form_does_not_see_its_reports(board):
    shop = board
    with shop.session() as s:
        out = dashboards.run_dashboard(s, shop.people["ivan"], "quality", {})
    assert {c["report"] for c in out["items"]} == {"defect_pareto", "lots", "suppliers"}
    mine = sum(1 for lot in shop.iqc if lot["mine"])
    lots = next(c for c in out["items"] if c["report"] == "lots")
    assert lots["result"]["data"]["rows"][0][0] <= mine


def test_bad_dashboard_definitions(board):
    shop = board
    bad = {**BOARD, "items": [{"report": "ghost", "x": 10, "w": 4}],
           "filters": [{"key": "p", "label": L("p", "p"), "type": "date_range", "field": "part"}]}
    with shop.session() as s, pytest.raises(DefinitionError) as err:
        dashboards.publish_dashboard(s, shop.admin, bad)
    paths = {p.path for p in err.value.problems}
    assert {"$.items[0].report", "$.items[0].w"} <= paths
    with shop.session() as s, pytest.raises(NotFound):
        dashboards.run_dashboard(s, shop.admin, "nope")
