"""Functions that read the AQL switching state (ISO 2859-1 §9) of a supplier × part.

The state lives in the database (:mod:`engine.services.switching`); the evaluation context's
``facts`` answers for it. Without facts (a design-time check, a sample evaluation) inspection is
normal and not discontinued, the state every supplier × part starts in.
"""
from __future__ import annotations

from engine.expressions.functions.registry import Param, register
from engine.expressions.types import ANY, BOOLEAN, TEXT
from engine.i18n import msg

_PARAMS = [Param("supplier", ANY), Param("part", ANY), Param("defect_class", TEXT, optional=True)]


def _state(ctx, supplier, part, defect_class) -> dict:
    facts = getattr(ctx, "facts", None)
    if facts is None or supplier in (None, "") or part in (None, ""):
        return {"severity": "normal", "discontinued": False}
    return facts.aql_state(supplier, part, defect_class)


@register("AQL_SEVERITY", params=_PARAMS, returns=TEXT, category="quality", context=True,
          doc=msg("该供应商与物料当前的检验严格度（GB/T 2828.1 转移规则）：normal 正常、tightened 加严、"
                  "reduced 放宽。不写缺陷类别时取各类别中最严的一个；从未检验过为 normal。",
                  "The current inspection severity of this supplier and part under the ISO 2859-1 "
                  "switching rules: normal, tightened or reduced. Without a defect class, the "
                  "strictest over the classes; normal when never inspected."),
          example='AQL_SAMPLE_SIZE(lot_size, "II", "1.0", AQL_SEVERITY(supplier, part))')
def aql_severity(ctx, supplier, part, defect_class=None):
    """AQL_SEVERITY(supplier, part, defect_class?)."""
    return _state(ctx, supplier, part, defect_class)["severity"]


@register("AQL_DISCONTINUED", params=_PARAMS, returns=BOOLEAN, category="quality", context=True,
          doc=msg("该供应商与物料是否已暂停检验（加严检验下累计 5 批不接收），需供应商纠正后由管理员恢复。",
                  "Whether inspection of this supplier and part is discontinued (5 lots not accepted "
                  "on tightened inspection) until an administrator resumes it after corrective action."),
          example='IF(AQL_DISCONTINUED(supplier, part), "暂停", "")')
def aql_discontinued(ctx, supplier, part, defect_class=None):
    """AQL_DISCONTINUED(supplier, part, defect_class?)."""
    return bool(_state(ctx, supplier, part, defect_class)["discontinued"])
