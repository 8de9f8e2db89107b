"""List-page timing at 1,000,000 records on SQLite: admin vs a user who may read only their own.

``python -m tests.benchmarks.bench_list [rows]`` publishes a 10-field inspection form, bulk
inserts rows straight into its table (SQLAlchemy Core executemany; every 10th row belongs to
the restricted user), then times page 1 exactly as the list page asks for it
(``query_records`` with the page's filter, sort and count budget) for an admin and for an
"own"-scoped user, best of 5. Targets: page 1 under 200 ms; restricted ≤ 1.2 × admin (the
ratio is printed per case; below a few milliseconds it is mostly timer noise).
"""
from __future__ import annotations

import random
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import func, insert, select

from engine.services import accounts, forms as form_service, records as record_service
from engine.storage import form_store, records
from engine.storage.db import make_engine, session_scope, upgrade_database
from runtime.records.listing import ListQuery, build_filter
from runtime.records.views import LIST_COUNT_BUDGET_MS

FORM = {"format": 1, "key": "insp", "label": {"zh-CN": "检验", "en": "Inspection"}, "fields": [
    {"key": "lot_no", "type": "text", "label": {"zh-CN": "批号", "en": "Lot"}, "indexed": True},
    {"key": "supplier", "type": "text", "label": {"zh-CN": "供应商", "en": "Supplier"}},
    {"key": "part_no", "type": "text", "label": {"zh-CN": "物料", "en": "Part"}},
    {"key": "inspector", "type": "text", "label": {"zh-CN": "检验员", "en": "Inspector"}},
    {"key": "inspected_at", "type": "date", "label": {"zh-CN": "日期", "en": "Date"}, "indexed": True},
    {"key": "sample_size", "type": "number", "label": {"zh-CN": "样本", "en": "Sample"}, "precision": 0},
    {"key": "defect_qty", "type": "number", "label": {"zh-CN": "缺陷", "en": "Defects"}, "precision": 0},
    {"key": "defect_code", "type": "text", "label": {"zh-CN": "缺陷代码", "en": "Code"}},
    {"key": "result", "type": "select", "label": {"zh-CN": "结果", "en": "Result"}, "indexed": True,
     "choices": [{"code": "OK", "label": {"zh-CN": "合格", "en": "OK"}}, {"code": "NG", "label": {"zh-CN": "不合格", "en": "NG"}}]},
    {"key": "measured", "type": "number", "label": {"zh-CN": "测量值", "en": "Measured"}, "precision": 3},
]}


def timed(fn, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best * 1000


def main(n: int) -> None:
    folder = tempfile.mkdtemp()
    engine = make_engine(f"sqlite:///{folder}/bench.db")
    upgrade_database(engine)
    with session_scope(engine) as s:
        tenant = accounts.create_tenant(s, "bench", "Bench")
        accounts.create_role(s, tenant, "insp", {"zh-CN": "检", "en": "Insp"})
        accounts.set_permissions(s, tenant, "insp", "form:insp", {"read": "own", "create": True})
        admin = accounts.actor_for_user(s, accounts.create_user(s, tenant, "a@b.c", "A", "password-1", is_admin=True))
        user = accounts.actor_for_user(s, accounts.create_user(s, tenant, "u@b.c", "U", "password-1", roles=["insp"]))
        form_service.publish_form(s, admin, FORM)
        table = records.top_table(form_store.load_published(s, tenant, "insp").spec)
    rnd, now, start = random.Random(1), datetime.now(timezone.utc), time.perf_counter()
    with engine.begin() as conn:
        batch = []
        for i in range(n):
            batch.append({"tenant_id": tenant, "lot_no": f"LOT-{i:07d}", "supplier": f"Supplier {i % 500}",
                          "part_no": f"P-{i % 2000:05d}", "inspector": f"inspector {i % 40}",
                          "inspected_at": date(2020, 1, 1) + timedelta(days=i % 2000), "sample_size": 50,
                          "defect_qty": rnd.randint(0, 5), "defect_code": rnd.choice(["D1", "D2", "D3", None]),
                          "result": "NG" if i % 17 == 0 else "OK", "measured": round(rnd.gauss(10, 0.1), 3),
                          "version": 1, "status": "active", "def_version": 1, "serial_no": None, "title": f"LOT-{i:07d}",
                          "created_by": user.user_id if i % 10 == 0 else admin.user_id, "created_at": now,
                          "updated_by": admin.user_id, "updated_at": now})
            if len(batch) == 20000:
                conn.execute(insert(table), batch)
                batch = []
        if batch:
            conn.execute(insert(table), batch)
    print(f"inserted {n} rows in {time.perf_counter() - start:.1f}s")
    cases = {
        "default (-id), no filter": (None, "-id"),
        "result = NG, sort -id": (build_filter(ListQuery(filters={"f_result": "NG"}), _form(engine, tenant), frozenset()), "-id"),
        "result = NG, sort inspected_at": (build_filter(ListQuery(filters={"f_result": "NG"}), _form(engine, tenant), frozenset()), "inspected_at"),
        "date range 2021, sort -inspected_at": (build_filter(ListQuery(filters={"f_inspected_at_from": "2021-01-01", "f_inspected_at_to": "2021-12-31"}), _form(engine, tenant), frozenset()), "-inspected_at"),
        "search 'Supplier 42', sort -id": (build_filter(ListQuery(search="Supplier 42"), _form(engine, tenant), frozenset()), "-id"),
    }
    print(f"{'case':40s} {'admin ms':>9s} {'own ms':>9s} {'own/admin':>9s}  totals (None = over the count budget)")
    worst = 0.0
    for name, (expr, sort) in cases.items():
        ms, totals = {}, {}
        for who, actor in (("admin", admin), ("own", user)):
            with session_scope(engine) as s:
                ask = lambda: record_service.query_records(s, actor, "insp", filter=expr, sort=sort,  # noqa: E731
                                                           per_page=50, count_budget_ms=LIST_COUNT_BUDGET_MS)
                ms[who], totals[who] = timed(ask), ask().total
        worst = max(worst, ms["admin"], ms["own"])
        print(f"{name:40s} {ms['admin']:9.1f} {ms['own']:9.1f} {ms['own'] / ms['admin']:9.2f}  "
              f"{totals['admin']} / {totals['own']}")
    with session_scope(engine) as s:
        print(f"{'COUNT(*) all rows':40s} {timed(lambda: s.execute(select(func.count()).select_from(table).where(table.c.tenant_id == tenant)).scalar()):9.1f}")
    print(f"slowest page 1: {worst:.1f} ms (target < 200 ms)")


def _form(engine, tenant):
    with session_scope(engine) as s:
        return form_service.get_form(s, tenant, "insp")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
