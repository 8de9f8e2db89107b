"""Rule action ``record_sampling_lot``: an inspected lot moves the AQL switching state.

ISO 2859-1 §9: the severity (normal / tightened / reduced) of the next lot of a supplier × part
depends on the lots before it. An incoming-inspection app records each final lot decision with
this action, once per defect class it judges; forms read the resulting state with
``AQL_SEVERITY(supplier, part)``.
"""
from __future__ import annotations

from engine.i18n import Msg
from engine.expressions.types import NUMBER, TEXT
from engine.rules.actions import Action, action, expression_problems

_EXPR = {"type": "string", "minLength": 1, "maxLength": 4000}


@action
class RecordSamplingLot(Action):
    """Judge the lot by the supplier × part's current plan and move its switching state."""

    type = "record_sampling_lot"
    label = Msg("记录抽样批次（转移规则）", "Record a sampled lot (switching rules)")
    options_schema = {"supplier": _EXPR, "part": _EXPR, "lot_size": _EXPR, "level": _EXPR, "aql": _EXPR,
                      "defects": _EXPR, "defect_class": {"type": "string", "maxLength": 20}}
    required_options = ("supplier", "part", "lot_size", "aql", "defects")
    _TYPES = {"supplier": None, "part": None, "lot_size": NUMBER, "level": TEXT, "aql": None, "defects": NUMBER}

    def check(self, action, ctx):
        for name, expected in self._TYPES.items():
            if action.option(name) is not None:
                yield from expression_problems(action.option(name), ctx.scope, f"{ctx.path}.{name}", expected)

    def run(self, action, run):
        values = {name: run.evaluate(action.option(name)) for name in self._TYPES if action.option(name) is not None}
        return run.record_sampling_lot(values["supplier"], values["part"], lot_size=values["lot_size"],
                                       level=values.get("level") or "II", aql=values["aql"],
                                       defects=values["defects"] or 0, defect_class=action.option("defect_class") or "")
