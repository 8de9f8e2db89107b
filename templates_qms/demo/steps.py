"""The order the year is written in: master data, incoming lots month by month (bulk for the plain
ones, then the engine-path ones, so serial numbers follow the calendar), NCR work, then the
downstream processes (8D, complaints, CAPA, IPQC, production → FQC → shipments, documents and
training, audits), and the monthly rules last (they summarise what is there)."""
from __future__ import annotations

import random
from itertools import groupby

from sqlalchemy import func, select

from engine.storage import form_store
from engine.storage.record_tables import sa_tables

from templates_qms.demo import plan as p
from templates_qms.demo.bulk import BulkWriter
from templates_qms.demo.incoming import work_ncrs, write_engine_lots
from templates_qms.demo.master import write_master_data
from templates_qms.demo.writer import Writer


def incoming(w: Writer, plan: p.Plan, rng: random.Random, progress) -> None:
    """The year's lots, month by month: the month's plain lots in bulk, then its engine-path lots."""
    bulk = BulkWriter(w, plan)
    totals = {"engine_lots": 0, "rejected": 0, "ncr": 0}
    indexed = list(enumerate(plan.lots))
    for _month, members in groupby(indexed, key=lambda kl: (kl[1].day.year, kl[1].day.month)):
        members = list(members)
        plain = [(k, lot) for k, lot in members if not lot.engine]
        for start in range(0, len(plain), 5000):
            bulk.write(plain[start:start + 5000])
        engine_lots = [(k, lot) for k, lot in members if lot.engine]
        counts = write_engine_lots(w, plan, engine_lots, rng, progress)
        for key in totals:
            totals[key] += counts.get(key, 0)
        progress("incoming", bulk.written + totals["engine_lots"], len(plan.lots))
    paths = w.ids.setdefault("paths", {})
    paths["iqc_inspection"] = {"engine": totals["engine_lots"], "bulk": bulk.written}
    paths["material_lot"] = {"engine (rule)": totals["engine_lots"], "bulk": bulk.written}
    paths["delivery"] = {"engine": totals["engine_lots"], "bulk": bulk.written}
    w.ids["rejected_lots"] = totals["rejected"]


def ncrs(w: Writer, plan: p.Plan, rng: random.Random, progress) -> None:
    w.ids.setdefault("paths", {})["ncr"] = {"engine (IQC rule), worked in the MRB flow": work_ncrs(w, plan, rng)}


def _steps():
    from templates_qms.demo import documents, downstream, production
    return [("master_data", lambda w, plan, rng, progress: write_master_data(w, plan)),
            ("incoming", incoming), ("ncr", ncrs),
            ("eight_d", downstream.eight_ds), ("complaints", downstream.complaints), ("capa", downstream.capas),
            ("ipqc", downstream.ipqc), ("production", production.production),
            ("documents", documents.documents), ("audits", documents.audits),
            ("monthly", downstream.monthly_rules)]


class _Steps:
    """STEPS resolved lazily (the downstream modules import this one's helpers)."""

    def __iter__(self):
        return iter(_steps())


STEPS = _Steps()


def count_records(w: Writer) -> dict[str, int]:
    """Records per form of the shipped apps in the tenant (a COUNT per table)."""
    from templates_qms.catalog import keys, load_package
    out = {}
    with w.session() as s:
        for app in keys():
            for form in load_package(app).get("forms", ()):
                try:
                    pub = form_store.load_published(s, w.tenant_id, form["key"])
                except Exception:  # noqa: BLE001 - an app that is not installed: nothing to count
                    continue
                top = sa_tables(pub.spec)[()]
                out[form["key"]] = s.execute(select(func.count()).select_from(top)
                                             .where(top.c.tenant_id == w.tenant_id)).scalar_one()
    return out
