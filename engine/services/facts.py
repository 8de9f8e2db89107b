"""What expressions may know beyond the values they are given, answered from the database.

:class:`SqlFacts` is handed to :class:`engine.expressions.EvalContext` as ``facts`` wherever
records are computed for a tenant (saving, live formulas, imports, rules); each answer is read
once per context and cached, so a formula evaluated for every row costs one query.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from engine.storage.report_tables import aql_switching_states as states

_STRICTNESS = {"reduced": 0, "normal": 1, "tightened": 2}


class SqlFacts:
    """Facts of one tenant, read through ``session`` (cached for the context's lifetime)."""

    def __init__(self, session: Session, tenant_id: int):
        self.session, self.tenant_id = session, tenant_id
        self._aql: dict[tuple[str, str, str | None], dict] = {}

    def aql_state(self, supplier: Any, part: Any, defect_class: Any = None) -> dict:
        """{"severity", "discontinued"} of supplier × part (× class; without one, the strictest)."""
        key = (str(supplier).strip()[:100], str(part).strip()[:100],
               None if defect_class in (None, "") else str(defect_class).strip()[:100])
        if key not in self._aql:
            self._aql[key] = self._read_aql(*key)
        return self._aql[key]

    def _read_aql(self, supplier: str, part: str, defect_class: str | None) -> dict:
        where = [states.c.tenant_id == self.tenant_id, states.c.supplier == supplier, states.c.part == part]
        if defect_class is not None:
            where.append(states.c.defect_class == defect_class)
        found = [row.state or {} for row in self.session.execute(select(states.c.state).where(and_(*where)))]
        if not found:
            return {"severity": "normal", "discontinued": False}
        severity = max((s.get("severity") or "normal" for s in found), key=lambda v: _STRICTNESS.get(v, 1))
        return {"severity": severity, "discontinued": any(bool(s.get("discontinued")) for s in found)}
