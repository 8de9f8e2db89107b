"""After the lots: 8Ds moved to every state, complaints, CAPAs, IPQC patrol checks with two drifting
processes, and the monthly scorecard / KPI rules run for each past month — all on the engine path."""
from __future__ import annotations

import random
from datetime import date, timedelta

from engine.services import rule_defs
from engine.services.rule_events import schedule_event

from templates_qms.demo import plan as p
from templates_qms.demo.writer import Writer, at

# how far each 8D gets: stays at D1–D2, D3, D4–D5, D6–D7, verification, closed on time, closed late
EIGHT_D_FATES = ("d1_d2", "d3", "d4_d5", "d6_d7", "verify", "closed", "closed_late", "closed")


def eight_ds(w: Writer, plan: p.Plan, rng: random.Random, progress) -> None:
    """The 8Ds opened by the supplier NCR rule, each taken by the supplier / QE as far as its fate says."""
    fates: dict[str, int] = {}
    reports = w.find("eight_d", "ISBLANK(closed_on)")
    for n, report in enumerate(reports):
        fate = EIGHT_D_FATES[n % len(EIGHT_D_FATES)]
        if report["opened_on"] > plan.today - timedelta(days=40) and fate.startswith("closed"):
            fate = "d4_d5"                       # a recent 8D cannot be closed yet
        _advance(w, report, fate, rng)
        fates[fate] = fates.get(fate, 0) + 1
    w.ids.setdefault("paths", {})["eight_d"] = {"engine (NCR rule), moved through the 8D flow": fates}


def _advance(w: Writer, report: dict, fate: str, rng: random.Random) -> None:
    opened: date = report["opened_on"]
    rid = report["id"]
    steps = [("d1_d2", 1, {"d1_team": [{"name": "陈静 Chen Jing", "department": "质量部 Quality", "team_role": "leader"},
                                       {"name": "供应商质量代表 Supplier QA", "department": "Supplier",
                                        "team_role": "supplier"}],
                           "d2_statement": f"{report.get('problem_title') or ''}：批次抽样不合格 Lot failed sampling"}),
             ("d3", 1, {"d3_actions": [{"action": "库存及在途全检 Sort stock and in-transit", "scope": "warehouse",
                                        "qty_checked": rng.randint(500, 5000), "qty_found": rng.randint(0, 40),
                                        "owner": "Supplier QA"}],
                        "d3_clean_point": f"{opened + timedelta(days=3):%Y%m%d} 之后批次 Lots after this date"}),
             ("d4_d5", 6, {"d4_occ_why1": "模具磨损 Worn tooling", "d4_occurrence_cause": "模具保养周期过长 Tool "
                           "maintenance interval too long", "d4_occurrence_6m": "machine",
                           "d4_escape_cause": "出货检验抽样不足 Outgoing sampling too small", "d4_escape_6m": "method",
                           "d5_actions": [{"cause_type": "occurrence", "action": "保养周期缩短至 5 万模次 Maintain "
                                           "every 50k shots", "owner": "Supplier QA",
                                           "due": (opened + timedelta(days=20)).isoformat()}]}),
             ("d6_d7", 14, {"d6_validation": "连续 5 批合格 5 lots clean", "d7_pfmea_updated": True}),
             ("verify", 4, {"verify_result": "effective", "verify_comment": "连续 3 批无同类缺陷 3 clean lots"})]
    day = opened
    for node, days, data in steps:
        if fate == node:
            return
        day = day + timedelta(days=days)
        if node == "d3":
            data = dict(data, d3_completed_at=at(opened, 8).isoformat())
        if not w.act("eight_d", rid, at(day, 3), data=data):
            return
    late = fate == "closed_late"
    closed = (report["due_date"] + timedelta(days=rng.randint(3, 20))) if late else min(
        day + timedelta(days=2), report["due_date"])
    w.act("eight_d", rid, at(closed, 6), data={"d8_recognition": "感谢团队 Thanks to the team",
                                               "closed_on": closed.isoformat()})


def complaints(w: Writer, plan: p.Plan, rng: random.Random, progress) -> None:
    """Customer complaints through the year; the serious ones open an 8D by the complaint rule."""
    products = [i for i, part in enumerate(plan.parts) if part["is_product"]]
    total = plan.size.complaints
    for n in range(total):
        day = plan.day(int(365 * (n + rng.random()) / total))
        serious = n % 3 == 0
        cid = w.create("cs", "complaint", {
            "customer": w.ids["customer"][n % len(w.ids["customer"])], "customer_ref": f"CR-{day:%y%m}-{n:03d}",
            "received_on": day.isoformat(), "channel": rng.choice(["email", "phone", "portal", "sales"]),
            "part": w.ids["part"][products[n % len(products)]], "lot_no": f"FG{day:%y%m%d}-{n % 7 + 1:02d}",
            "qty_affected": rng.randint(5, 400), "severity": "major" if serious else rng.choice(["minor", "minor", "major"]),
            "requested_response": "8d" if serious else "report", "qe": w.people.id("qe2"),
            "cs_owner": w.people.id("cs"), "claim_amount": rng.choice([0, 0, 1500, 4800, 12000]),
            "description": rng.choice(["客户产线装配时外壳卡扣断裂 Housing clip broke at the customer's line",
                                       "通电后指示灯不亮 Indicator LED dark at power-on",
                                       "包装内混入其他型号 Mixed part numbers in one carton",
                                       "端子压接不良导致接触电阻过大 Crimp defect: high contact resistance"])},
            at(day, 2))
        w.drain(at(day, 2))
        if day < plan.today - timedelta(days=20) and w.nodes("complaint", cid):
            w.act("complaint", cid, at(day + timedelta(days=1), 3),
                  data={"responsibility": rng.choice(["process", "supplier", "design"]),
                        "containment_internal": "库存成品全检 Finished stock sorted"})


def capas(w: Writer, plan: p.Plan, rng: random.Random, progress) -> None:
    """CAPAs for the NCRs that asked for one (the bad suppliers'); older ones closed and verified."""
    made = 0
    for n, ncr in enumerate(w.find("ncr", "capa_required")[:12]):
        day = ncr["detected_on"] + timedelta(days=2)
        done = day < plan.today - timedelta(days=60)
        data = {"capa_title": f"来料重复不合格 Repeated incoming rejects {ncr.get('ncr_no') or ''}", "source": "ncr",
                "source_no": ncr.get("ncr_no"), "ncr": ncr["id"], "capa_type": "corrective", "risk": "high",
                "problem": "同一供应商连续批次拒收 Consecutive lots of one supplier rejected",
                "owner": w.people.id("sqe"), "due_date": (day + timedelta(days=45)).isoformat(),
                "root_cause": "供应商过程能力不足 Supplier process capability too low", "cause_category": "machine"}
        if done:
            data |= {"closed_on": (day + timedelta(days=40)).isoformat(), "effective": "yes",
                     "verified_by": w.people.id("qm"), "verified_on": (day + timedelta(days=55)).isoformat()}
        w.create("sqe", "capa", data, at(day, 2))
        made += 1
    w.drain(at(plan.today, 1))
    w.ids.setdefault("paths", {})["capa"] = {"engine": made}


# IPQC series: (line index, product index, process, characteristic, nominal, tolerance, drift)
SERIES = [(0, 0, "回流焊 Reflow", "焊点高度 Solder height (mm)", 0.30, 0.06, None),
          (2, 1, "铆接 Riveting", "铆接高度 Rivet height (mm)", 5.00, 0.10, "shift"),
          (3, 2, "螺钉紧固 Screwing", "扭矩 Torque (N·m)", 1.20, 0.15, "trend"),
          (1, 3, "注塑 Moulding", "壁厚 Wall thickness (mm)", 1.50, 0.08, None)]


def ipqc(w: Writer, plan: p.Plan, rng: random.Random, progress) -> None:
    """Patrol checks of four series over the last months; one mean shift and one trend (SPC alarms)."""
    products = [i for i, part in enumerate(plan.parts) if part["is_product"]]
    n_checks = plan.size.ipqc_per_series
    for line, product, process, char, nominal, tol, drift in SERIES:
        sigma = tol / 5
        for k in range(n_checks):
            day = plan.today - timedelta(days=2 * (n_checks - k))
            centre = nominal
            if drift == "shift" and k >= n_checks * 2 // 3:
                centre = nominal + 2.2 * sigma
            if drift == "trend" and k >= n_checks // 2:
                centre = nominal + sigma * 0.35 * (k - n_checks // 2)
            values = [round(rng.gauss(centre, sigma), 4) for _ in range(5)]
            moment = at(day, 2 + k % 6)
            w.create("insp1", "ipqc_check", {
                "line": w.ids["line"][line], "part": w.ids["part"][products[product]], "shift": "day",
                "work_order": f"WO{day:%y%m%d}{line}", "process": process, "characteristic": char,
                "nominal": nominal, "lsl": round(nominal - tol, 4), "usl": round(nominal + tol, 4),
                "checked_at": moment.isoformat(), "inspector": w.people.id("insp1"),
                "readings": [{"value": v} for v in values],
                "reaction": "adjust" if any(abs(v - nominal) > tol for v in values) else None}, moment)
            w.drain(moment)
    w.ids.setdefault("paths", {})["ipqc_check"] = {"engine": n_checks * len(SERIES)}


SCORECARD = "monthly_supplier_scorecard"          # each run summarises the three complete months before it
NIGHTLY_KPI = ("kpi_iqc_monthly", "kpi_ipqc_monthly", "kpi_fqc_monthly")   # each run recomputes every month


def monthly_rules(w: Writer, plan: p.Plan, rng: random.Random, progress) -> None:
    """The shipped scheduled rules, run only as often as the year needs: the scorecard rule on the
    1st of every third month back from the last one (its three-month window covers the year), the
    nightly KPI rules once, on the last night (they recompute every month)."""
    ran = 0
    with w.session() as s:
        rules = {key: rule_defs.load_rule_version(s, w.tenant_id, key)
                 for key in (SCORECARD,) + NIGHTLY_KPI if _has_rule(s, w, key)}
    last = date(plan.today.year, plan.today.month, 1)
    runs = [(SCORECARD, at(_months_before(last, 3 * n), 2)) for n in range(4, -1, -1)
            if _months_before(last, 3 * n) > plan.first_day]
    runs += [(key, at(plan.today, 1, 20)) for key in NIGHTLY_KPI]
    for key, moment in runs:
        if key in rules:
            with w.session() as s:
                schedule_event(s, w.tenant_id, rules[key], moment)
            w.drain(moment)
            ran += 1
    w.ids.setdefault("paths", {})["monthly rules"] = {"runs": ran}


def _months_before(first: date, n: int) -> date:
    """The 1st of the month ``n`` months before ``first`` (a 1st of a month)."""
    index = first.year * 12 + first.month - 1 - n
    return date(index // 12, index % 12 + 1, 1)


def _has_rule(session, w: Writer, key: str) -> bool:
    try:
        rule_defs.load_rule_version(session, w.tenant_id, key)
        return True
    except Exception:  # noqa: BLE001 - a package without this rule (older catalogue): skip it
        return False
