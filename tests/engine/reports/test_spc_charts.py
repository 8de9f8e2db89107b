"""SPC charts and the histogram run through the report service equal the textbook worked examples
(shared/qms-reference/spc_worked_examples.json) and plain-Python counts of the same data."""
from __future__ import annotations

import copy
import json
import math
import statistics
from pathlib import Path

import pytest

from engine.errors import DefinitionError
from engine.quality import control
from engine.services import forms as form_service
from engine.services import records as record_service
from engine.services import reports as report_service
from engine.storage.db import session_scope
from tests.engine.quality.conftest import REFERENCE_DIR

L = lambda zh, en: {"zh-CN": zh, "en": en}  # noqa: E731

LAB_FORM = {"format": 1, "key": "lab", "label": L("实验", "Lab"), "fields": [
    {"key": "set", "type": "text", "label": L("数据集", "Data set")},
    {"key": "sample", "type": "number", "label": L("样本", "Sample"), "precision": 0},
    {"key": "value", "type": "number", "label": L("值", "Value"), "precision": 4},
    {"key": "defectives", "type": "number", "label": L("不良数", "Defectives"), "precision": 0},
    {"key": "size", "type": "number", "label": L("样本量", "Size"), "precision": 0},
    {"key": "defects", "type": "number", "label": L("缺陷数", "Defects"), "precision": 0},
    {"key": "readings", "type": "subtable", "label": L("读数", "Readings"), "fields": [
        {"key": "value", "type": "number", "label": L("读数", "Reading"), "precision": 4}]}]}

EXAMPLES = {}


def _example(name: str) -> dict:
    if not EXAMPLES:
        data = json.loads((REFERENCE_DIR / "spc_worked_examples.json").read_text(encoding="utf-8"))
        EXAMPLES.update({e["id"]: e for e in data["examples"]})
    return EXAMPLES[name]


def _rows(name: str) -> list[dict]:
    lines = (Path(REFERENCE_DIR) / "datasets" / name).read_text().split("\n")
    header = lines[0].split()
    rows = [dict(zip(header, line.split())) for line in lines[1:] if line.strip()]
    return [r for r in rows if r.get("trial", "TRUE") == "TRUE"]


class Lab:
    def __init__(self, engine, admin):
        self.engine, self.admin = engine, admin
        with session_scope(engine) as s:
            form_service.publish_form(s, admin, copy.deepcopy(LAB_FORM))

    def add(self, set_name: str, rows: list[dict]) -> list[int]:
        with session_scope(self.engine) as s:
            return [record_service.create_record(s, self.admin, "lab", {"set": set_name, **r}).id for r in rows]

    def chart(self, key: str, chart: dict, set_name: str):
        definition = {"format": 1, "key": key, "label": L(key, key), "chart": chart,
                      "dataset": {"form": "lab", "filter": f'set = "{set_name}"'}}
        with session_scope(self.engine) as s:
            report_service.publish_report(s, self.admin, definition)
        with session_scope(self.engine) as s:
            return report_service.run_report(s, self.admin, key)


@pytest.fixture
def lab(db_engine, actor):
    if REFERENCE_DIR is None:
        pytest.skip("shared/qms-reference is not available")
    return Lab(db_engine, actor)


def _pistonrings(lab) -> list[int]:
    groups: dict[str, list[float]] = {}
    for r in _rows("pistonrings.txt"):
        groups.setdefault(r["sample"], []).append(float(r["diameter"]))
    return lab.add("rings", [{"readings": [{"value": v} for v in values]} for values in groups.values()])


def test_xbar_r_and_xbar_s_equal_the_piston_ring_example(lab):
    _pistonrings(lab)
    r = lab.chart("rings_r", {"type": "xbar_r", "value": "readings.value", "lsl": 73.95, "usl": 74.05}, "rings")
    want = _example("xbar_r_pistonrings")["result"]
    xbar, rng = r.shaped["primary"], r.shaped["secondary"]
    assert len(xbar["points"]) == 25 and r.shaped["sizes"] == [5] * 25
    assert xbar["cl"][0] == pytest.approx(want["CL"], abs=1e-5)
    assert xbar["ucl"][0] == pytest.approx(want["UCL"], abs=1e-5)
    assert xbar["lcl"][0] == pytest.approx(want["LCL"], abs=1e-5)
    assert rng["cl"][0] == pytest.approx(want["Rbar"], abs=1e-5)
    assert rng["ucl"][0] == pytest.approx(want["R_UCL"], abs=1e-5)
    assert rng["lcl"][0] == 0
    assert r.shaped["sigma_within"]["value"] == pytest.approx(want["sigma_within"], abs=1e-5)
    assert r.shaped["sigma_within"]["method"] == "range"
    cap = _example("capability_pistonrings")["result"]
    assert r.shaped["capability"]["cp"] == pytest.approx(cap["Cp"], abs=1e-5)
    assert r.shaped["capability"]["cpk"] == pytest.approx(cap["Cpk"], abs=1e-5)
    assert r.shaped["limits"]["kind"] == "xbar_r" and r.shaped["phase"] == "I"
    layout = r.figure["layout"]
    assert layout["yaxis"]["domain"][0] > layout["yaxis2"]["domain"][1]       # two panels, one x axis
    assert {t.get("yaxis") for t in r.figure["data"]} == {"y", "y2"}
    cl = next(t for t in r.figure["data"] if t["name"] == "CL")
    ucl = next(t for t in r.figure["data"] if t["name"] == "UCL")
    assert cl["line"]["dash"] == "solid" and ucl["line"]["dash"] == "dash"

    json.dumps(r.to_json("en"))                                  # what the API returns is plain JSON
    s = lab.chart("rings_s", {"type": "xbar_s", "value": "readings.value"}, "rings")
    want = _example("xbar_s_pistonrings")["result"]
    xbar, sd = s.shaped["primary"], s.shaped["secondary"]
    assert (xbar["cl"][0], xbar["ucl"][0], xbar["lcl"][0]) == pytest.approx((want["CL"], want["UCL"], want["LCL"]),
                                                                            abs=1e-5)
    assert (sd["cl"][0], sd["ucl"][0]) == pytest.approx((want["Sbar"], want["S_UCL"]), abs=1e-5)
    assert s.shaped["sigma_within"]["value"] == pytest.approx(want["sigma_within"], abs=1e-5)


def test_subgroups_by_a_field_and_frozen_limits(lab):
    rows = _rows("pistonrings.txt")[:50]                      # samples 1..10, one record per reading
    lab.add("single", [{"sample": int(r["sample"]), "value": float(r["diameter"])} for r in rows])
    chart = {"type": "xbar_r", "value": "value", "subgroup": {"field": "sample"}}
    result = lab.chart("by_sample", chart, "single")
    groups = [[float(r["diameter"]) for r in rows if r["sample"] == str(k)] for k in range(1, 11)]
    expected = control.from_groups("xbar_r", groups)
    assert result.shaped["keys"] == list(range(1, 11))
    assert result.shaped["primary"]["points"] == pytest.approx(list(expected.primary.points))
    assert result.shaped["primary"]["ucl"][0] == pytest.approx(expected.primary.ucl[0])
    frozen = lab.chart("by_sample_frozen", {**chart, "limits": result.shaped["limits"]}, "single")
    assert frozen.shaped["phase"] == "II"
    assert frozen.shaped["primary"]["ucl"] == pytest.approx(result.shaped["primary"]["ucl"])


def test_p_and_np_charts_equal_the_orange_juice_example(lab):
    lab.add("oj", [{"defectives": int(r["D"]), "size": int(r["size"])} for r in _rows("orangejuice.txt")])
    p = lab.chart("oj_p", {"type": "p", "defectives": "defectives", "size": "size"}, "oj")
    want = _example("p_orangejuice")["result"]
    assert p.shaped["limits"]["cl"] == pytest.approx(want["pbar"], abs=1e-6)
    assert p.shaped["primary"]["ucl"][0] == pytest.approx(want["UCL"], abs=1e-6)
    assert p.shaped["primary"]["lcl"][0] == pytest.approx(want["LCL"], abs=1e-6)
    beyond = sorted({v["point"] + 1 for v in p.shaped["violations"] if v["rule"] == 1})
    assert beyond == want["beyond"]
    marker = p.figure["data"][-1]
    assert marker["marker"]["color"] == "#dc2626"
    hover = dict(zip(marker["customdata"], marker["text"]))
    assert all("1 point beyond 3 sigma" in hover[i - 1] for i in want["beyond"])
    np_ = lab.chart("oj_np", {"type": "np", "defectives": "defectives", "size": "size"}, "oj")
    want = _example("np_orangejuice")["result"]
    s = np_.shaped["primary"]
    assert (s["cl"][0], s["ucl"][0], s["lcl"][0]) == pytest.approx((want["CL"], want["UCL"], want["LCL"]), abs=1e-5)


def test_c_chart_flags_the_circuit_board_samples(lab):
    lab.add("circuit", [{"defects": int(r["x"])} for r in _rows("circuit.txt")])
    c = lab.chart("circuit_c", {"type": "c", "defects": "defects"}, "circuit")
    want = _example("c_circuit")["result"]
    s = c.shaped["primary"]
    assert (s["cl"][0], s["ucl"][0], s["lcl"][0]) == pytest.approx((want["cbar"], want["UCL"], want["LCL"]), abs=1e-5)
    assert sorted({v["point"] + 1 for v in c.shaped["violations"] if v["rule"] == 1}) == want["beyond"]


def test_u_chart_equals_the_pc_manufacturing_example(lab):
    lab.add("pc", [{"defects": int(r["x"]), "size": int(r["size"])} for r in _rows("pcmanufact.txt")])
    u = lab.chart("pc_u", {"type": "u", "defects": "defects", "size": "size"}, "pc")
    want = _example("u_pcmanufact")["result"]
    s = u.shaped["primary"]
    assert (s["cl"][0], s["ucl"][0], s["lcl"][0]) == pytest.approx((want["ubar"], want["UCL"], want["LCL"]), abs=1e-5)
    assert all(t["line"]["shape"] == "linear" for t in u.figure["data"] if t["name"] in ("UCL", "LCL"))


def test_p_chart_with_varying_sizes_draws_stepped_limits(lab):
    lab.add("vary", [{"defectives": d, "size": n} for d, n in ((3, 50), (5, 80), (2, 40), (6, 100), (4, 60))])
    p = lab.chart("vary_p", {"type": "p", "defectives": "defectives", "size": "size"}, "vary")
    assert len(set(p.shaped["primary"]["ucl"])) == 5
    assert {t["line"]["shape"] for t in p.figure["data"] if t["name"] in ("UCL", "LCL")} == {"hv"}


def test_imr_flags_viscosity_point_4_and_draws_two_panels(lab):
    ids = lab.add("visc", [{"value": float(r["viscosity"])} for r in _rows("viscosity.txt")])
    r = lab.chart("visc", {"type": "imr", "value": "value"}, "visc")
    want = _example("imr_viscosity")["result"]
    i, mr = r.shaped["primary"], r.shaped["secondary"]
    assert (i["cl"][0], i["ucl"][0], i["lcl"][0]) == pytest.approx((want["CL"], want["UCL"], want["LCL"]), abs=1e-5)
    assert mr["cl"][0] == pytest.approx(want["MRbar"], abs=1e-5) and mr["points"][0] is None
    assert sorted({v["point"] + 1 for v in r.shaped["violations"] if v["rule"] == 1 and v["panel"] == "primary"}) \
        == want["beyond_limits"]
    assert r.shaped["keys"] == ids
    assert r.shaped["sigma_within"]["method"] == "moving_range"


def test_last_keeps_the_most_recent_subgroups_in_time_order_and_drills_to_the_record(lab):
    ids = lab.add("visc", [{"value": float(r["viscosity"])} for r in _rows("viscosity.txt")])
    r = lab.chart("recent", {"type": "imr", "value": "value", "last": 6}, "visc")
    assert r.shaped["keys"] == ids[-6:]
    assert r.shaped["primary"]["points"] == pytest.approx([float(x["viscosity"]) for x in _rows("viscosity.txt")][-6:])
    with session_scope(lab.engine) as s:
        drilled = report_service.drill(s, lab.admin, "recent", {"row": 2})
    assert [x["id"] for x in drilled["records"]] == [ids[-4]]


def test_histogram_bins_equal_a_python_count_and_the_fit_uses_sql_moments(lab):
    _pistonrings(lab)
    values = [float(r["diameter"]) for r in _rows("pistonrings.txt")]
    h = lab.chart("hist", {"type": "histogram", "value": "readings.value", "bins": 10, "lsl": 73.99, "usl": 74.01},
                  "rings")
    low, high = min(values), max(values)
    width = (high - low) / 10
    expected = [0] * 10
    for v in values:
        expected[min(int(math.floor((v - low) / width)), 9)] += 1
    shaped = h.shaped
    assert [b["count"] for b in shaped["bins"]] == expected and sum(expected) == 125
    assert shaped["bins"][-1]["end"] == pytest.approx(high)
    assert shaped["mean"] == pytest.approx(statistics.fmean(values)) and shaped["sd"] == pytest.approx(
        statistics.stdev(values))
    peak = max(shaped["normal"]["y"])
    assert peak == pytest.approx(125 * width / (shaped["sd"] * math.sqrt(2 * math.pi)), rel=1e-3)
    outside = sum(1 for v in values if v < 73.99 or v > 74.01)
    perf = shaped["performance"]
    assert perf["ppm_observed"] == pytest.approx(outside / 125 * 1e6)
    assert perf["ppk"] == pytest.approx(min(74.01 - shaped["mean"], shaped["mean"] - 73.99) / (3 * shaped["sd"]))
    json.dumps(h.to_json("en"))
    texts = [a["text"] for a in h.figure["layout"]["annotations"]]
    assert "LSL 73.99" in texts and "USL 74.01" in texts
    with session_scope(lab.engine) as s:
        drilled = report_service.drill(s, lab.admin, "hist", {"row": 9})
    top = {i for i, values_of in enumerate(_groups(_rows("pistonrings.txt"))) if max(values_of) >= low + 9 * width}
    assert drilled["total"] == len(top)


def _groups(rows):
    groups: dict[str, list[float]] = {}
    for r in rows:
        groups.setdefault(r["sample"], []).append(float(r["diameter"]))
    return list(groups.values())


def test_empty_data_gives_an_empty_chart_with_a_note(lab):
    r = lab.chart("empty", {"type": "c", "defects": "defects"}, "nothing")
    assert r.shaped["primary"] is None and r.shaped["notes"] == ["No data"]
    assert r.figure["data"] == []


def test_subgroups_outside_2_to_25_are_left_out_with_a_note(lab):
    lab.add("mixed", [{"readings": [{"value": v} for v in vals]}
                      for vals in ([1.0, 1.2, 1.1], [1.3], [0.9, 1.0], [1.1, 1.2, 1.0, 1.05])])
    r = lab.chart("mixed", {"type": "xbar_r", "value": "readings.value"}, "mixed")
    assert r.shaped["sizes"] == [3, 2, 4] and r.shaped["rows"] == [0, 2, 3]
    assert "1 of 4 subgroups" in r.shaped["notes"][0]


@pytest.mark.parametrize("chart, dataset, path, words", [
    ({"type": "xbar_r", "value": "readings.value"}, {"measures": [{"agg": "count"}]}, "$.dataset.measures",
     "no dimensions or measures"),
    ({"type": "imr", "value": "readings.value"}, {}, "$.chart.value", "number field of the record itself"),
    ({"type": "xbar_r", "value": "value"}, {}, "$.chart.value", "one value per record"),
    ({"type": "xbar_r", "value": "set", "subgroup": {"field": "sample"}}, {}, "$.chart.value", "not a number"),
    ({"type": "p", "defectives": "defectives"}, {}, "$.chart.defectives", "needs 'defectives' and 'size'"),
    ({"type": "c", "defects": "defects", "where": "defects > 2"}, {}, "$.chart.where", "not both"),
    ({"type": "c", "where": "defects >"}, {}, "$.chart.where", "line 1"),
    ({"type": "imr", "value": "value", "lsl": 5, "usl": 1}, {}, "$.chart.usl", "greater than lsl"),
    ({"type": "imr", "value": "value", "limits": {"kind": "p", "cl": 0.1}}, {}, "$.chart.limits.kind", "p chart"),
    ({"type": "xbar_r", "value": "readings.value", "subgroup": {"field": "set", "bucket": "month"}}, {},
     "$.chart.subgroup.bucket", "not a date"),
    ({"type": "xbar_r", "value": "nope.value"}, {}, "$.chart.value", "no field"),
    ({"type": "histogram", "value": "value", "bins": 2}, {}, "$.chart.bins", ""),
    ({"type": "u", "defects": "defects", "size": "size", "last": 3}, {}, "$.chart.last", ""),
])
def test_bad_quality_charts_say_where_and_what(lab, chart, dataset, path, words):
    definition = {"format": 1, "key": "bad", "label": L("bad", "bad"), "chart": chart,
                  "dataset": {"form": "lab", **dataset}}
    with session_scope(lab.engine) as s, pytest.raises(DefinitionError) as err:
        report_service.publish_report(s, lab.admin, definition)
    problems = {p.path: p.message.en for p in err.value.problems}
    assert path in problems, problems
    assert words in problems[path]


def test_by_charts_the_newest_process_unless_the_filters_pick_one(lab):
    lab.add("mixed", [{"sample": 1, "value": 10 + d} for d in (0.01, -0.02, 0.0, 0.03, -0.01, 0.02)])
    lab.add("mixed", [{"sample": 2, "value": 50 + d} for d in (0.2, -0.1, 0.0, 0.1, -0.2, 0.1)])
    chart = {"type": "imr", "value": "value", "by": ["sample"]}
    newest = lab.chart("by_newest", chart, "mixed")
    assert len(newest.shaped["x"]) == 6 and abs(newest.shaped["primary"]["cl"][0] - 50) < 0.1
    assert any("2" in n for n in newest.shaped["notes"])
    from engine.reports.model import Condition
    with session_scope(lab.engine) as s:
        picked = report_service.run_report(s, lab.admin, "by_newest", filters=[Condition("sample", "=", 1)])
    assert abs(picked.shaped["primary"]["cl"][0] - 10) < 0.1 and not picked.shaped["notes"]


def test_by_names_fields_of_the_form(lab):
    with pytest.raises(DefinitionError) as err:
        lab.chart("by_bad", {"type": "imr", "value": "value", "by": ["nope"]}, "x")
    assert [p.path for p in err.value.problems] == ["$.chart.by[0]"]
