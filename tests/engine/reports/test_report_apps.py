"""Reports and dashboards travel in app packages: imported after the forms, exported back, an
unchanged re-import keeps their versions, and a bad one is named by its place in the package."""
from __future__ import annotations

import copy

import pytest

from engine.errors import DefinitionError
from engine.services import apps, dashboards
from engine.services import reports as report_service
from engine.storage.db import session_scope
from tests.engine.reports.support import IQC_FORM, SUPPLIER_FORM, L, report

PACKAGE = {"format": 1, "key": "iqc_app", "version": "1.0.0", "label": L("来料检验", "IQC"),
           "forms": [SUPPLIER_FORM, IQC_FORM],
           "reports": [report("pareto", {"form": "iqc", "dimensions": [{"field": "defects.code"}],
                                         "measures": [{"agg": "sum", "field": "defects.qty", "key": "qty"}]},
                              {"type": "pareto"})],
           "dashboards": [{"format": 1, "key": "iqc_board", "label": L("来料看板", "IQC board"),
                           "items": [{"report": "pareto", "x": 0, "y": 0, "w": 12, "h": 4}]}]}


def test_import_export_and_reimport(db_engine, actor):
    with session_scope(db_engine) as s:
        result = apps.import_app(s, actor, copy.deepcopy(PACKAGE))
    assert ("report:pareto", 1) in result.published and ("dashboard:iqc_board", 1) in result.published
    with session_scope(db_engine) as s:
        exported = apps.export_app(s, actor.tenant_id, "iqc_app")
        assert [r["key"] for r in exported["reports"]] == ["pareto"]
        assert [d["key"] for d in exported["dashboards"]] == ["iqc_board"]
        assert [r["key"] for r in report_service.list_reports(s, actor, "iqc_app")] == ["pareto"]
        assert [d["key"] for d in dashboards.list_dashboards(s, actor, "iqc_app")] == ["iqc_board"]
    with session_scope(db_engine) as s:
        again = apps.import_app(s, actor, exported)
    assert not [v for v in again.published if v[0].startswith(("report:", "dashboard:"))]


def test_bad_report_in_a_package_is_named_by_its_place(db_engine, actor):
    package = copy.deepcopy(PACKAGE)
    package["reports"][0]["dataset"]["dimensions"][0]["field"] = "defects.nope"
    with session_scope(db_engine) as s, pytest.raises(DefinitionError) as err:
        apps.import_app(s, actor, package)
    assert "$.reports[0].dataset.dimensions[0].field" in {p.path for p in err.value.problems}
