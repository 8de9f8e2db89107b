"""Incoming lots on the engine path: the inspection, its review flow, the NCR the rejection opens and
how the NCR is dispositioned (MRB, deviation, closure) — each step by the person whose task it is."""
from __future__ import annotations

import random
from datetime import timedelta

from templates_qms.demo import plan as p
from templates_qms.demo.writer import Writer, at, business_hours

INSPECTORS = ("insp1", "insp2", "insp3")
INSTRUMENTS = ("卡尺 Caliper", "千分尺 Micrometer", "万用表 Multimeter", "三坐标 CMM", "高度规 Height gauge")


def lot_no(plan: p.Plan, lot: p.Lot, k: int) -> str:
    """The supplier's lot number as printed on the label: supplier, date, running number."""
    return f"{p.SUPPLIERS[lot.supplier][0]}-{lot.day:%y%m%d}-{k:05d}"


def inspection_data(w: Writer, plan: p.Plan, lot: p.Lot, k: int, inspector: int) -> dict:
    """The IQC record's input (shared by the engine and the bulk path)."""
    spec = plan.parts[lot.part]
    zh, en = spec["char"]
    tol = spec["tol"]
    return {"supplier": w.ids["supplier"][lot.supplier], "part": w.ids["part"][lot.part],
            "lot_no": lot_no(plan, lot, k), "lot_size": lot.lot_size, "po_no": f"PO{lot.day:%y%m}{k % 997:04d}",
            "received_on": lot.day.isoformat(), "inspector": inspector,
            "inspected_at": at(lot.day, 3 + k % 6, k % 60).isoformat(),
            "characteristics": [{"char_no": "1", "name": f"{zh} {en}", "ctq": True, "nominal": spec["nominal"],
                                 "lsl": round(spec["nominal"] - tol, 4), "usl": round(spec["nominal"] + tol, 4),
                                 "instrument": INSTRUMENTS[k % len(INSTRUMENTS)], "value": lot.readings[0],
                                 "v2": lot.readings[1], "v3": lot.readings[2], "v4": lot.readings[3],
                                 "v5": lot.readings[4]}],
            "defects": [dict(d) for d in lot.defects],
            "disposition": "mrb" if lot.defects else "accept"}


def write_engine_lots(w: Writer, plan: p.Plan, engine_lots: list[tuple[int, p.Lot]], rng: random.Random,
                      progress) -> dict:
    """Engine-path lots (index in the plan, lot) in day order: inspection, delivery, review; the counts."""
    counts = {"engine_lots": 0, "rejected": 0}
    for n, (k, lot) in enumerate(engine_lots):
        moment = business_hours(lot.day, k)
        who = INSPECTORS[k % 3]
        with w.jobs():
            iqc = w.create(who, "iqc_inspection", inspection_data(w, plan, lot, k, w.people.id(who)), moment)
            w.create("buyer", "delivery", delivery_data(w, plan, lot, k), moment)
            w.drain(moment)
            rejected = _review(w, iqc, lot, rng, moment)
        counts["engine_lots"] += 1
        counts["rejected"] += rejected
    return counts


def delivery_data(w: Writer, plan: p.Plan, lot: p.Lot, k: int) -> dict:
    """The delivery record of a lot: promised ``late_days`` before it came."""
    return {"supplier": w.ids["supplier"][lot.supplier], "part": w.ids["part"][lot.part],
            "po_no": f"PO{lot.day:%y%m}{k % 997:04d}", "promised_date": (lot.day - timedelta(days=lot.late_days)).isoformat(),
            "received_date": lot.day.isoformat(), "ordered_qty": lot.lot_size,
            "qty": lot.lot_size if k % 23 else lot.lot_size - lot.lot_size // 20}


def _review(w: Writer, iqc: int, lot: p.Lot, rng: random.Random, moment) -> int:
    """The QE reviews (and signs); a rejection goes to the quality manager, whose approval opens the NCR."""
    result = w.get("iqc_inspection", iqc)["result"]
    later = moment + timedelta(hours=2)
    if result != "reject":
        w.act("iqc_inspection", iqc, later, data={"disposition": "accept"})
        return 0
    disposition = rng.choices(["return_to_supplier", "concession", "scrap", "rework"], [55, 20, 10, 15])[0]
    w.act("iqc_inspection", iqc, later, data={"disposition": disposition})
    w.act("iqc_inspection", iqc, later + timedelta(hours=3))
    return 1


def work_ncrs(w: Writer, plan: p.Plan, rng: random.Random) -> dict:
    """Each NCR opened by the IQC rule, worked through MRB by its QE; the newest few stay open."""
    counts = {"ncr_closed": 0, "ncr_open": 0}
    found = w.find("ncr", 'source = "iqc"')
    for n, ncr in enumerate(found):
        day = ncr["detected_on"]
        leave_open = day > plan.today - timedelta(days=20) or n % 9 == 4
        bad = ncr.get("supplier") in {w.ids["supplier"][p._index(c)] for c in p.BAD_SUPPLIERS}
        if _disposition(w, ncr, day, bad, rng) and not leave_open:
            _through_mrb(w, ncr, day, rng)
            counts["ncr_closed"] += 1
        else:
            counts["ncr_open"] += 1
    return counts


def _disposition(w: Writer, ncr: dict, day, bad: bool, rng: random.Random) -> bool:
    """QE review: responsibility, containment, disposition; False when left open at this step."""
    if "qe_review" not in w.nodes("ncr", ncr["id"]):
        return False
    data = {"qe": w.people.id("sqe" if bad else "qe1"), "hold_location": "IQC 隔离区 Quarantine rack Q-2",
            "containment": "库存及在途批次全检，合格品加贴绿色标签 Stock and in-transit lots 100 % sorted",
            "responsibility": "supplier" if bad or rng.random() < 0.6 else rng.choice(["logistics", "design"]),
            "disposition": ncr.get("disposition") or "return_to_supplier",
            "disposition_reason": "批次抽样超出 AQL 拒收数 Sample exceeded the AQL rejection number",
            "capa_required": bad, "sorting_cost": round(rng.uniform(100, 900), 0)}
    return w.act("ncr", ncr["id"], at(day + timedelta(days=1), 2), data=data)


def _through_mrb(w: Writer, ncr: dict, day, rng: random.Random) -> None:
    """MRB members sign (use-as-is, concession, repair, rework), the QM approves a deviation, the QE closes."""
    moment = at(day + timedelta(days=2), 3)
    for _ in range(6):                              # the MRB signs one member at a time ("all" mode)
        if "mrb" not in w.nodes("ncr", ncr["id"]):
            break
        w.act("ncr", ncr["id"], moment, data={"mrb_comment": "不影响装配与功能，同意处置 No impact on fit or function"})
    if "deviation" in w.nodes("ncr", ncr["id"]):
        w.act("ncr", ncr["id"], moment + timedelta(hours=4), data={
            "deviation_no": f"DEV-{day:%Y}-{ncr['id']:03d}", "deviation_qty": int(ncr.get("qty_suspect") or 100),
            "deviation_until": (day + timedelta(days=30)).isoformat()})
    if "qe_confirm" in w.nodes("ncr", ncr["id"]):
        closed = day + timedelta(days=rng.randint(3, 9))
        w.act("ncr", ncr["id"], at(closed, 6), data={
            "reinspection_result": "pass", "rework_cost": round(rng.uniform(0, 1500), 0),
            "scrap_cost": round(rng.uniform(0, 2500), 0), "other_cost": round(rng.uniform(0, 300), 0),
            "closure_comment": "处置完成，退货单/返工记录已归档 Disposition done, records filed",
            "closed_on": closed.isoformat()})
