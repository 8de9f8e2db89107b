"""Reports and dashboards: datasets aggregated in SQL, drawn as plotly charts (docs/reports.md).

    from engine.reports import load_report, CHARTS, AGGREGATIONS
"""
from __future__ import annotations

from engine.reports import chart_basic  # noqa: F401  (registers the business charts)
from engine.reports import chart_quality  # noqa: F401  (registers the SPC charts and the histogram)
from engine.reports.charts import CHARTS, ChartContext, ChartType
from engine.reports.definition import check_report, dataset_from, load_report
from engine.reports.measures import AGGREGATIONS
from engine.reports.model import Condition, DashboardDef, Dataset, ReportDef

__all__ = ["AGGREGATIONS", "CHARTS", "ChartContext", "ChartType", "Condition", "DashboardDef", "Dataset", "ReportDef",
           "check_report", "dataset_from", "load_report"]
