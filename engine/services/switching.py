"""The AQL switching state of each supplier × part × defect class, kept in the database.

:func:`plan_for` gives the sampling plan a new lot gets under the current severity (normal,
tightened or reduced); :func:`record_lot` judges the lot against that plan and moves the state
by the ISO 2859-1 switching rules (:mod:`engine.quality.switching`), in the caller's
transaction, with the row locked so two inspections of the same supplier and part cannot both
read the old state. Each state keeps a short history (lots and switches) to show why a supplier
is on tightened inspection.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import and_, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.errors import PermissionDenied
from engine.i18n import msg
from engine.quality import QualityInputError
from engine.quality import aql as sampling
from engine.quality import switching
from engine.storage.report_tables import aql_switching_states as states
from engine.types import Actor

HISTORY = 50          # entries kept per state


@dataclass(frozen=True)
class LotOutcome:
    """What recording one lot did: the plan it was judged by, the decision, the new state."""

    plan: sampling.SamplingPlan
    decision: sampling.Decision
    transition: switching.Transition

    def to_json(self, lang: str = "zh-CN") -> dict:
        reason = self.transition.reason
        return {"severity": self.plan.severity.value if hasattr(self.plan.severity, "value") else str(self.plan.severity),
                "n": self.plan.n, "ac": self.plan.ac, "re": self.plan.re, "decision": self.decision.value,
                "state": self.transition.state.to_json(), "changed": self.transition.changed,
                "reason": reason.get(lang) if reason is not None else None}


def _key(supplier: Any, part: Any, defect_class: Any) -> tuple[str, str, str]:
    out = tuple(str(v).strip()[:100] if v is not None else "" for v in (supplier, part, defect_class))
    if not out[0] or not out[1]:
        raise QualityInputError(msg("切换状态需要供应商与料号", "A switching state needs a supplier and a part"))
    return out  # type: ignore[return-value]


def _row(session: Session, tenant_id: int, key: tuple[str, str, str], lock: bool = False):
    stmt = select(states).where(and_(states.c.tenant_id == tenant_id, states.c.supplier == key[0],
                                     states.c.part == key[1], states.c.defect_class == key[2]))
    if lock and session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return session.execute(stmt).first()


def state_of(session: Session, tenant_id: int, supplier: Any, part: Any, defect_class: Any = "",
             scheme: str = "iso2859") -> switching.SwitchingState:
    """The current state (normal inspection for a supplier × part never inspected)."""
    row = _row(session, tenant_id, _key(supplier, part, defect_class))
    return switching.SwitchingState.from_json(row.state) if row else switching.initial(scheme)


def plan_for(session: Session, tenant_id: int, supplier: Any, part: Any, lot_size: Any, level: Any = "II",
             aql: Any = "1.0", defect_class: Any = "") -> sampling.SamplingPlan:
    """The plan the next lot of this supplier and part is inspected by (its current severity)."""
    state = state_of(session, tenant_id, supplier, part, defect_class)
    return sampling.plan(lot_size, level, aql, state.severity)


def record_lot(session: Session, actor: Actor, supplier: Any, part: Any, *, lot_size: Any, level: Any, aql: Any,
               defects: int, defect_class: Any = "", steady: bool = True, reduced_approved: bool = True,
               now: datetime | None = None) -> LotOutcome:
    """Judge one original lot under the current severity and move the switching state."""
    key = _key(supplier, part, defect_class)
    for _ in range(2):        # a first lot of this key inserted concurrently: read it and redo ours on top
        outcome = _record(session, actor, key, lot_size, level, aql, defects, steady, reduced_approved, now)
        if outcome is not None:
            return outcome
    raise RuntimeError("switching state row vanished while recording a lot")


def _record(session, actor, key, lot_size, level, aql, defects, steady, reduced_approved, now) -> LotOutcome | None:
    row = _row(session, actor.tenant_id, key, lock=True)
    state = switching.SwitchingState.from_json(row.state) if row else switching.initial()
    plan = sampling.plan(lot_size, level, aql, state.severity)
    decision = sampling.judge(plan, defects)
    accepted = decision is not sampling.Decision.REJECT
    transition = switching.record_lot(state, accepted=accepted, defects=int(defects), plan=plan, aql=plan.aql,
                                      lot_size=lot_size, level=level, steady=steady, reduced_approved=reduced_approved,
                                      gap_accept=decision is sampling.Decision.ACCEPT_RETURN_TO_NORMAL)
    entry = {"at": (now or datetime.now(timezone.utc)).isoformat(), "severity": state.severity.value,
             "n": plan.n, "ac": plan.ac, "re": plan.re, "defects": int(defects), "decision": decision.value}
    if transition.reason is not None:
        entry["switch"] = {"to": transition.state.severity.value, "discontinued": transition.state.discontinued,
                           "reason": transition.reason.to_dict()}
    if not _store(session, actor.tenant_id, key, row, transition.state, entry, now):
        return None
    return LotOutcome(plan, decision, transition)


def resume(session: Session, actor: Actor, supplier: Any, part: Any, defect_class: Any = "",
           now: datetime | None = None) -> switching.Transition:
    """After the supplier's corrective action: discontinued inspection restarts on tightened."""
    if not actor.unrestricted:
        raise PermissionDenied(msg("只有管理员可以恢复检验", "Only an administrator can resume inspection"))
    key = _key(supplier, part, defect_class)
    row = _row(session, actor.tenant_id, key, lock=True)
    state = switching.SwitchingState.from_json(row.state) if row else switching.initial()
    transition = switching.resume(state)
    entry = {"at": (now or datetime.now(timezone.utc)).isoformat(), "switch": {
        "to": transition.state.severity.value, "discontinued": False,
        "reason": transition.reason.to_dict() if transition.reason else None}}
    if not _store(session, actor.tenant_id, key, row, transition.state, entry, now, lot=False):
        raise RuntimeError("switching state inserted concurrently while resuming")
    return transition


def _store(session: Session, tenant_id: int, key, row, state: switching.SwitchingState, entry: dict,
           now: datetime | None, lot: bool = True) -> bool:
    """Write the new state; False when the row was inserted meanwhile by someone else (redo)."""
    at = now or datetime.now(timezone.utc)
    if row is None:
        try:
            with session.begin_nested():
                session.execute(insert(states).values(tenant_id=tenant_id, supplier=key[0], part=key[1],
                                                      defect_class=key[2], state=state.to_json(), lots=int(lot),
                                                      history=[entry], updated_at=at))
        except IntegrityError:
            return False
        return True
    history = (list(row.history or []) + [entry])[-HISTORY:]
    session.execute(update(states).where(states.c.id == row.id).values(
        state=state.to_json(), lots=row.lots + int(lot), history=history, updated_at=at))
    return True


def history(session: Session, tenant_id: int, supplier: Any, part: Any, defect_class: Any = "") -> list[dict]:
    row = _row(session, tenant_id, _key(supplier, part, defect_class))
    return list(row.history) if row else []
