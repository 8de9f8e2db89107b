"""Report datasets give the same numbers as hand-written SQL / plain Python on the same data,
respect the viewer's read scope and hidden fields, and drill down to the records behind a point."""
from __future__ import annotations

import statistics
from collections import Counter, defaultdict

import pytest
from sqlalchemy import text

from engine.errors import DefinitionError, NotFound, PermissionDenied
from engine.quality import constants
from engine.reports.model import Condition
from engine.services import reports as report_service
from tests.engine.reports.support import report, shop  # noqa: F401  (fixture)

PARETO = report("defect_pareto", {"form": "iqc", "dimensions": [{"field": "defects.code", "key": "code"}],
                                  "measures": [{"agg": "sum", "field": "defects.qty", "key": "qty"}]},
                {"type": "pareto"})
PASS_RATE = report("pass_rate", {"form": "iqc",
                                 "dimensions": [{"field": "supplier", "key": "supplier"},
                                                {"field": "inspect_date", "bucket": "month", "key": "month"}],
                                 "measures": [{"agg": "rate", "where": 'result = "accept"', "key": "rate"},
                                              {"agg": "count", "key": "lots"}]})
CPK = report("cpk_by_part", {"form": "iqc", "dimensions": [{"field": "part", "key": "part"}],
                             "measures": [{"agg": "cpk", "field": "chars.value", "lsl": "chars.lsl", "usl": "chars.usl",
                                           "key": "cpk"},
                                          {"agg": "ppk", "field": "chars.value", "lsl": 9.9, "usl": 10.1, "key": "ppk"}]})


def _hand(shop, sql: str, **params):
    with shop.session() as s:
        return s.execute(text(sql), params).all()


def test_pareto_equals_hand_written_sql(shop):
    shop.publish(PARETO)
    result = shop.run("defect_pareto")
    t = shop.admin.tenant_id
    expected = _hand(shop, f"SELECT code, SUM(qty) FROM t{t}_iqc__defects WHERE tenant_id = :t GROUP BY code "
                           "ORDER BY SUM(qty) DESC, code", t=t)
    got = [(r[0], r[1]) for r in result.data["main"].rows]
    assert sorted(got, key=lambda x: (-x[1], x[0])) == [(c, int(q)) for c, q in expected]
    cumulative = result.shaped["cumulative"]
    assert cumulative[-1] == pytest.approx(100.0)
    assert all(a <= b for a, b in zip(cumulative, cumulative[1:]))
    bars, line = result.figure["data"]
    assert bars["type"] == "bar" and line["yaxis"] == "y2"


def test_monthly_pass_rate_per_supplier_equals_python(shop):
    shop.publish(PASS_RATE)
    result = shop.run("pass_rate")
    groups = defaultdict(list)
    for lot in shop.iqc:
        groups[(lot["supplier"], lot["day"].year * 100 + lot["day"].month)].append(lot["result"] == "accept")
    got = {(r[0], r[1]): (r[2], r[3]) for r in result.data["main"].rows}
    assert set(got) == set(groups)
    for key, flags in groups.items():
        assert got[key][0] == pytest.approx(sum(flags) / len(flags))
        assert got[key][1] == len(flags)
    t = shop.admin.tenant_id
    hand = _hand(shop, f"SELECT supplier, inspect_date__m, AVG(CASE WHEN result = 'accept' THEN 1.0 ELSE 0.0 END), "
                       f"COUNT(*) FROM t{t}_iqc WHERE tenant_id = :t GROUP BY supplier, inspect_date__m", t=t)
    assert {(a, b): (pytest.approx(float(c)), d) for a, b, c, d in hand} == got
    labels = {tuple(lab) for lab in result.data["main"].labels}
    assert ("Acme", "2026-01") in labels or ("Bolt", "2026-01") in labels or ("Cogs", "2026-01") in labels


def test_cpk_and_ppk_match_the_quality_functions(shop):
    shop.publish(CPK)
    result = shop.run("cpk_by_part")
    got = {r[0]: (r[1], r[2]) for r in result.data["main"].rows}
    for part in ("P-100", "P-200"):
        lots = [lot for lot in shop.iqc if lot["part"] == part]
        values = [c["value"] for lot in lots for c in lot["chars"]]
        mean = statistics.fmean(values)
        within = statistics.fmean((max(v) - min(v)) / constants.d2(len(v))
                                  for v in ([c["value"] for c in lot["chars"]] for lot in lots))
        overall = statistics.stdev(values)
        cpk = min((10.1 - mean) / (3 * within), (mean - 9.9) / (3 * within))
        ppk = min((10.1 - mean) / (3 * overall), (mean - 9.9) / (3 * overall))
        assert got[part][0] == pytest.approx(cpk, rel=1e-6)
        assert got[part][1] == pytest.approx(ppk, rel=1e-6)


def test_read_scope_limits_the_numbers(shop):
    shop.publish(report("lots", {"form": "iqc", "measures": [{"agg": "count", "key": "n"}]}, {"type": "kpi"}))
    period = ("2026-01-01", "2026-12-31")
    mine = sum(1 for lot in shop.iqc if lot["mine"])
    with shop.session() as s:
        ivan = report_service.run_report(s, shop.people["ivan"], "lots",
                                         filters=[Condition("inspect_date", "between", list(period))])
        admin = report_service.run_report(s, shop.admin, "lots",
                                          filters=[Condition("inspect_date", "between", list(period))])
    assert ivan.data["main"].rows[0][0] == mine
    assert admin.data["main"].rows[0][0] == len(shop.iqc)


def test_hidden_field_refuses_the_report_for_that_viewer(shop):
    shop.publish(report("cost", {"form": "iqc", "measures": [{"agg": "sum", "field": "cost", "key": "cost"}]},
                        {"type": "gauge"}))
    with shop.session() as s, pytest.raises(PermissionDenied):
        report_service.run_report(s, shop.people["vera"], "cost")
    with shop.session() as s:
        assert report_service.run_report(s, shop.admin, "cost").data["main"].rows[0][0] > 0


def test_structured_filters_and_drill_down(shop):
    shop.publish(PARETO)
    march = [lot for lot in shop.iqc if lot["day"].month == 3]
    filters = [Condition("inspect_date", "between", ["2026-03-01", "2026-03-31"])]
    with shop.session() as s:
        result = report_service.run_report(s, shop.admin, "defect_pareto", filters=filters)
        expected = Counter()
        for lot in march:
            for d in lot["defects"]:
                expected[d["code"]] += d["qty"]
        assert {r[0]: r[1] for r in result.data["main"].rows} == dict(expected)
        top_code = result.data["main"].rows[0][0]
        drilled = report_service.drill(s, shop.admin, "defect_pareto", {"row": 0}, filters=filters)
    ids = {lot["id"] for lot in march if any(d["code"] == top_code for d in lot["defects"])}
    assert {r["id"] for r in drilled["records"]} == ids and drilled["total"] == len(ids)


def test_reference_path_groups_by_the_target_field(shop):
    shop.publish(report("by_region", {"form": "iqc", "dimensions": [{"field": "supplier.region", "key": "region"}],
                                      "measures": [{"agg": "count", "key": "n"}]}, {"type": "bar"}))
    result = shop.run("by_region")
    regions = {"Acme": "East", "Bolt": "South", "Cogs": "East"}
    expected = Counter(regions[lot["supplier_name"]] for lot in shop.iqc)
    assert {r[0]: r[1] for r in result.data["main"].rows} == dict(expected)


def test_unknown_report_and_unreadable_form_are_not_found(shop):
    shop.publish(PARETO)
    with shop.session() as s, pytest.raises(NotFound):
        report_service.run_report(s, shop.admin, "nope")


@pytest.mark.parametrize("dataset, chart, path, words", [
    ({"form": "iqc", "dimensions": [{"field": "nope"}], "measures": [{"agg": "count"}]}, "bar",
     "$.dataset.dimensions[0].field", "has no field"),
    ({"form": "iqc", "dimensions": [{"field": "part", "bucket": "month"}], "measures": [{"agg": "count"}]}, "bar",
     "$.dataset.dimensions[0].bucket", "not a date"),
    ({"form": "iqc", "dimensions": [{"field": "defects.code"}], "measures": [{"agg": "sum", "field": "sample_size"}]},
     "bar", "$.dataset.measures[0].field", "more than once"),
    ({"form": "iqc", "dimensions": [{"field": "defects.code"}, {"field": "chars.name"}], "measures": [{"agg": "count"}]},
     "table", "$.dataset", "sub-table"),
    ({"form": "iqc", "measures": [{"agg": "rate", "where": "result = "}]}, "gauge",
     "$.dataset.measures[0].where", ""),
    ({"form": "iqc", "dimensions": [{"field": "part"}], "measures": [{"agg": "count"}, {"agg": "sum", "field": "cost"}]},
     "pie", "$.dataset.measures", "measure"),
    ({"form": "iqc", "measures": [{"agg": "median", "field": "cost"}]}, "gauge", "$.dataset.measures[0].agg", "Unknown"),
    ({"form": "ghost", "measures": [{"agg": "count"}]}, "gauge", "$.dataset.form", "does not exist"),
])
def test_bad_definitions_say_where_and_what(shop, dataset, chart, path, words):
    with pytest.raises(DefinitionError) as err:
        shop.publish(report("bad", dataset, {"type": chart}))
    problems = {p.path: p.message.en for p in err.value.problems}
    assert path in problems, problems
    assert words in problems[path]


def test_chart_option_expressions_are_checked_at_publish(shop):
    bad = report("p_bad", {"form": "iqc"}, {"type": "p", "where": "nope = 1", "subgroup": {"field": "inspect_date",
                                                                                          "bucket": "week"}})
    with pytest.raises(DefinitionError) as err:
        shop.publish(bad)
    assert "$.chart" in {p.path for p in err.value.problems}


def test_cpk_by_subgroups_gives_the_same_numbers_in_both_plans(shop):
    """A Cpk of a sub-table column is aggregated per subgroup first; with a measure that cannot be
    rolled up (count_distinct) the one-level plan runs instead: the numbers must agree."""
    measures = [{"agg": "cpk", "field": "chars.value", "lsl": 9.9, "usl": 10.1, "key": "cpk"},
                {"agg": "avg", "field": "chars.value", "key": "mean"}, {"agg": "count", "key": "n"},
                {"agg": "range", "field": "chars.value", "key": "r"}]
    dataset = {"form": "iqc", "filter": 'result = "accept"', "filters": [{"field": "chars.value", "op": ">", "value": 9.0}],
               "dimensions": [{"field": "part", "key": "part"}, {"field": "chars.name", "key": "name"}],
               "measures": measures, "sort": [{"by": "cpk", "desc": True}]}
    shop.publish(report("split", dataset))
    shop.publish(report("whole", {**dataset, "measures": measures + [{"agg": "count_distinct", "field": "supplier",
                                                                      "key": "suppliers"}]}))
    split, whole = shop.run("split").data["main"].rows, shop.run("whole").data["main"].rows
    assert len(split) == 2
    for a, b in zip(split, whole):
        assert a[:2] == b[:2] and a[4] == b[4]
        assert a[2] == pytest.approx(b[2], rel=1e-9) and a[3] == pytest.approx(b[3], rel=1e-9)
        assert a[5] == pytest.approx(b[5])
    accepted = [lot for lot in shop.iqc if lot["result"] == "accept"]
    for part, name, cpk, mean, n, r in split:
        values = [c["value"] for lot in accepted if lot["part"] == part for c in lot["chars"]]
        assert n == len(values) and mean == pytest.approx(statistics.fmean(values))
        assert r == pytest.approx(max(values) - min(values))
