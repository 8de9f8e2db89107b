"""Production and delivery on the engine path, so a trace from a shipment reaches a supplier lot:
production batches consume released material lots, each batch yields a finished lot, FQC inspects
it (the traceability rule releases or holds the lot; a rejection opens an NCR by the FQC rule; the
release flow is signed by a QE or, for a rejected lot, dispositioned by the quality manager), and
released finished lots are shipped to customers (the shipment release flow signed by a QE).
"""
from __future__ import annotations

import random
from bisect import bisect_right
from datetime import date, timedelta

from sqlalchemy import select

from engine.storage import form_store
from engine.storage.record_tables import sa_tables

from templates_qms.demo import plan as p
from templates_qms.demo.writer import Writer, at

FQC_CHECKS = [("外观 Appearance", "无划伤、脏污、毛刺 No scratches, stains or burrs"),
              ("标识 Marking", "铭牌、条码与型号一致 Nameplate and barcode match the model"),
              ("功能测试 Function test", "通电功能全部正常 All functions OK at power-on"),
              ("耐压测试 Hi-pot test", "1.5 kV 1 min 无击穿 No breakdown at 1.5 kV for 1 min"),
              ("包装 Packing", "包装、说明书、合格证齐全 Packing, manual and certificate present")]
FQC_DEFECTS = [("appearance", "MI", "外壳划伤 Housing scratched"), ("function", "MA", "指示灯不亮 Indicator LED dark"),
               ("marking", "MI", "铭牌贴歪 Nameplate skewed"), ("hipot", "CR", "耐压击穿 Hi-pot breakdown")]
DESTINATIONS = {"华北 North": "北京市大兴区物流园 Daxing logistics park, Beijing",
                "华南 South": "广东省佛山市顺德区 Shunde, Foshan, Guangdong",
                "华东 East": "上海市浦东新区 Pudong, Shanghai", "Europe": "Wernau, Germany (via Ningbo port)"}


def batch_count(plan: p.Plan) -> int:
    """Production batches in the year: a handful at the small size, 60 otherwise."""
    return 10 if plan.size.inspections < 5000 else 60


def production(w: Writer, plan: p.Plan, rng: random.Random, progress) -> None:
    """Batches, finished lots, FQC and shipments through the year (oldest first)."""
    products = [i for i, part in enumerate(plan.parts) if part["is_product"]]
    released = sorted(_released_lots(w), key=lambda lot: lot[1])
    received = [lot[1] for lot in released]
    total = batch_count(plan)
    counts = {"production_batch": 0, "finished_lot": 0, "fqc_inspection": 0, "fqc_rejected": 0}
    shippable: list[tuple[date, int, int, int]] = []          # (produced on, finished lot id, qty, product)
    for n in range(total):
        day = plan.day(int(345 * (n + rng.random()) / total))
        lots = released[:bisect_right(received, day - timedelta(days=2))]
        if not lots:
            continue
        product = products[n % len(products)]
        batch, qty = _batch(w, plan, rng, n, day, product, rng.sample(lots, min(len(lots), rng.randint(2, 4))))
        finished = _finished_lot(w, n, day, batch, product, qty)
        accepted = _fqc(w, rng, n, day, product, qty)
        for key in ("production_batch", "finished_lot", "fqc_inspection"):
            counts[key] += 1
        counts["fqc_rejected"] += not accepted
        if accepted:
            shippable.append((day, finished, qty, product))
    counts["shipment"] = _ship(w, plan, rng, shippable)
    w.ids.setdefault("paths", {})["production"] = {"engine (with the FQC, release and NCR rules)": counts}


def _released_lots(w: Writer) -> list[tuple[int, date, float]]:
    """(id, received on, qty) of the released material lots (read once: one query)."""
    with w.session() as s:
        top = sa_tables(form_store.load_published(s, w.tenant_id, "material_lot").spec)[()]
        rows = s.execute(select(top.c.id, top.c.received_on, top.c.qty).where(
            top.c.tenant_id == w.tenant_id, top.c.lot_status == "released").order_by(top.c.id)).all()
    return [(r.id, r.received_on if isinstance(r.received_on, date) else date.fromisoformat(str(r.received_on)[:10]),
             float(r.qty or 0)) for r in rows if r.qty]


def _batch(w: Writer, plan: p.Plan, rng: random.Random, n: int, day: date, product: int, lots: list) -> tuple[int, int]:
    """A completed production batch on line ``n % 5`` using ``lots``; its id and the good quantity."""
    planned = rng.choice([200, 300, 500, 800, 1000])
    scrap = rng.randint(0, planned // 50)
    start = at(day, 0, 30)
    materials = [{"material_lot": lot_id, "qty_used": max(1, min(qty, planned * rng.choice([1, 1, 2, 4])))}
                 for lot_id, _d, qty in lots]
    batch = w.create("sup1", "production_batch", {
        "work_order": f"WO{day:%y%m%d}-{n:03d}", "part": w.ids["part"][product],
        "line": w.ids["line"][2 + n % 3], "shift": ("day", "middle", "night")[n % 3],
        "supervisor": w.people.id("sup1"), "started_at": start.isoformat(),
        "ended_at": (start + timedelta(hours=7)).isoformat(), "planned_qty": planned,
        "actual_qty": planned - scrap, "scrap_qty": scrap, "materials": materials, "batch_status": "completed"}, start)
    w.drain(start)
    return batch, planned - scrap


def _finished_lot(w: Writer, n: int, day: date, batch: int, product: int, qty: int) -> int:
    moment = at(day, 8)
    return w.create("sup1", "finished_lot", {
        "lot_no": _fg_lot_no(day, n), "batch": batch, "part": w.ids["part"][product], "qty": qty,
        "produced_on": day.isoformat(), "expires_on": (day + timedelta(days=730)).isoformat(),
        "warehouse": "成品仓 FG-1", "lot_status": "pending_fqc"}, moment)


def _fg_lot_no(day: date, n: int) -> str:
    return f"FG{day:%y%m%d}-{n % 100:02d}"


def _fqc(w: Writer, rng: random.Random, n: int, day: date, product: int, qty: int) -> bool:
    """Final inspection of the finished lot (about one in twelve rejected); the release flow is worked; accepted?"""
    found = n % 12 == 5
    defects = [dict(zip(("code", "defect_class", "description"), FQC_DEFECTS[1]), qty=rng.randint(3, 5))] if found \
        else ([dict(zip(("code", "defect_class", "description"), FQC_DEFECTS[0]), qty=1)] if n % 4 == 1 else [])
    moment = at(day, 9)
    fqc = w.create("insp2", "fqc_inspection", {
        "inspection_type": "final", "part": w.ids["part"][product], "lot_no": _fg_lot_no(day, n),
        "line": w.ids["line"][2 + n % 3], "lot_size": qty, "inspection_level": "II", "aql_major": "0.65",
        "aql_minor": "1.5", "severity": "normal", "inspector": w.people.id("insp2"), "inspected_at": moment.isoformat(),
        "checks": [{"item": item, "requirement": req, "result": "OK"} for item, req in FQC_CHECKS],
        "defects": defects}, moment)
    w.drain(moment)
    later = moment + timedelta(hours=2)
    reject = w.get("fqc_inspection", fqc)["result"] == "reject"
    if reject:
        w.act("fqc_inspection", fqc, later, data={"disposition": "rework",
                                                   "remarks": "返工后重新送检 Rework, then re-inspect"})
    else:
        w.act("fqc_inspection", fqc, later)
    return not reject


def _ship(w: Writer, plan: p.Plan, rng: random.Random, shippable: list) -> int:
    """Released finished lots shipped 2–10 days after production, one to three lots per shipment."""
    made, k = 0, 0
    while k < len(shippable):
        group = shippable[k:k + rng.randint(1, 3)]
        k += len(group)
        day = group[-1][0] + timedelta(days=rng.randint(2, 10))
        if day >= plan.today:
            continue                                   # still in the warehouse
        code, zh, en, region = p.CUSTOMERS[made % len(p.CUSTOMERS)]
        moment = at(day, 6)
        shipment = w.create("pm", "shipment", {
            "customer": w.ids["customer"][made % len(p.CUSTOMERS)], "so_no": f"SO{day:%y%m}{made:03d}",
            "shipped_on": day.isoformat(), "destination": DESTINATIONS[region], "carrier": "顺丰速运 SF Express",
            "tracking_no": f"SF{rng.randint(10**11, 10**12 - 1)}", "shipped_by": w.people.id("pm"),
            "items": [{"finished_lot": lot_id, "qty": qty} for _d, lot_id, qty, _p in group]}, moment)
        w.drain(moment)
        w.act("shipment", shipment, moment + timedelta(hours=1), comment="出货放行 Released for shipment")
        w.ids.setdefault("shipments", []).append(shipment)
        made += 1
    return made
