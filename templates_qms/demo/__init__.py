"""Demo data: a realistic year of plant life in one tenant (``qms demo``, and the first start with QMS_DEMO=1).

:func:`generate` fills a tenant that has the shipped QMS apps installed with: people in every
role, 20 suppliers (three bad ones, one conditional, one disqualified, three with a certificate
about to expire), 200 parts, customers and lines; a year of incoming lots — the bad suppliers'
lots and a sample of the others through the engine (inspection, review flow with e-signatures,
rejected lots → NCR by the rule → MRB → 8D by the rule), the plain rest through the bulk path
(:mod:`templates_qms.demo.bulk`) — then 8Ds in every state, CAPAs, complaints, IPQC patrol checks
with two drifting processes (SPC alarms by the rule), quality costs from the NCR rule, and the
monthly scorecard / KPI rules run for each past month. The summary says which records took which
path. Not generated yet: FQC, production batches / finished lots / shipments, documents and
training, audits.

Idempotence: a tenant that already has supplier records is refused (:class:`DemoError`): the
generator makes a year of history, and topping it up would duplicate the year.
"""
from __future__ import annotations

import random
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from engine.errors import QMSError
from engine.i18n import msg
from engine.services import records as record_service
from engine.storage.db import session_scope
from engine.types import Actor

from templates_qms.demo import plan as p
from templates_qms.demo.people import create_people
from templates_qms.demo.writer import Writer

Progress = Callable[[str, int, int], None]


class DemoError(QMSError):
    """The demo cannot be generated into this tenant (apps missing, data already there)."""

    code = "demo_refused"


def _quiet(_stage: str, _done: int, _total: int) -> None:
    return None


def generate(engine, tenant_id: int, size: str | int = "default", seed: int = 7, now: datetime | None = None,
             progress: Progress | None = None, uploads_dir: Path | None = None) -> dict[str, Any]:
    """Fill ``tenant_id`` with a year of plant life ending ``now``; a summary dict (counts per form, paths,
    seconds, the demo users' password). DemoError when the tenant lacks the apps or already has data.

    ``uploads_dir``: where the controlled documents' files are saved (the app's
    ``Settings.uploads_dir``); without it, the directory of the environment's settings."""
    started = time.perf_counter()
    progress = progress or _quiet
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    size_spec = p.size_of(size)
    plan = p.make_plan(now.date(), size_spec, seed)
    admin = Actor.system(tenant_id)
    _refuse_if_filled(engine, admin)
    with session_scope(engine) as s:
        people = create_people(s, tenant_id)
    w = Writer(engine, tenant_id, admin, people)
    w.ids["uploads_dir"] = uploads_dir or _uploads_dir()
    timings: dict[str, float] = {}
    from templates_qms.demo import steps
    for name, step in steps.STEPS:
        t0 = time.perf_counter()
        progress(name, 0, 1)
        with w.jobs():
            step(w, plan, random.Random(f"{seed}:{name}"), progress)
        timings[name] = round(time.perf_counter() - t0, 2)
    return _summary(w, plan, size_spec, timings, time.perf_counter() - started)


def _uploads_dir() -> Path:
    from engine.settings import load_settings
    return load_settings().uploads_dir


def _refuse_if_filled(engine, admin: Actor) -> None:
    with session_scope(engine) as s:
        try:
            page = record_service.query_records(s, admin, "supplier", per_page=1)
        except QMSError as exc:
            raise DemoError(msg("租户还没有安装质量应用（{e}）：先安装 QMS 应用再生成演示数据",
                                "The tenant has no QMS apps yet ({e}): install them before generating demo data",
                                e=str(exc))) from None
    if page.items:
        raise DemoError(msg("租户中已有供应商数据：演示数据只能生成到新的空租户中（不会重复生成）",
                            "The tenant already has supplier records: demo data is only generated into a new, "
                            "empty tenant (it is never generated twice)"))


def _summary(w: Writer, plan: p.Plan, size: p.Size, timings: dict, seconds: float) -> dict[str, Any]:
    from templates_qms.demo.steps import count_records
    counts = count_records(w)
    return {"tenant_id": w.tenant_id, "size": size.__dict__, "seconds": round(seconds, 1), "steps": timings,
            "counts": counts, "paths": w.ids.get("paths", {}),
            "engine_records_as_admin": w.as_admin,
            "users": {"password": w.people.password, "logins": w.people.logins()},
            "period": [plan.first_day.isoformat(), plan.today.isoformat()]}
