"""Report and dashboard pages (blueprint ``reports``): the list of what the user may see, one
report with its filter bar, chart, data table and drill-down, one dashboard on its 12-column
grid with shared filters and auto-refresh, and plotly.js served from the Python plotly package.

Modules: ``views`` (pages), ``inputs`` (filters and shared-filter values read from requests and
checked, used by the API too), ``options`` (what a filter bar offers), ``workbook`` (Excel).
"""
from runtime.reports.views import bp

__all__ = ["bp"]
