"""Quality statistics: AQL sampling plans, SPC constants and process capability.

Plain functions on numbers (standard library only). The reference tables ship inside the
package in ``engine/quality/data/`` (copied from ``shared/qms-reference/``, which stays the
source of truth; the tests compare the two so a drift is caught).

    from engine.quality import aql, capability, constants
    aql.plan(1000, "II", "1.0")          # SamplingPlan(letter="J", n=80, ac=2, re=3, ...)
    capability.cpk(values, 9.9, 10.1)    # IndexResult(value=..., sigma=Sigma(..., method=...))
    constants.d2(5)                      # 2.325929

Every error these modules raise on purpose is a :class:`QualityInputError` with a bilingual
message that names the argument and what is wrong with it.
"""
from __future__ import annotations

from engine.errors import QMSError


class QualityInputError(QMSError, ValueError):
    """An argument of a quality function is unusable (bilingual ``message``).

    Also a ``ValueError`` so plain-Python callers can catch it the usual way.
    """

    code = "invalid_quality_input"


def shown(value: object, limit: int = 40) -> str:
    """A short ``repr`` of a user-supplied value for error messages (long ones are cut)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


from engine.quality import (  # noqa: E402  (modules need the error)
    aql, capability, constants, control, run_rules, switching)

__all__ = ["QualityInputError", "shown", "aql", "capability", "constants", "control",
           "run_rules", "switching"]
