"""ISO 2859-1 / ANSI/ASQ Z1.4 switching rules as a pure, serialisable state machine.

One :class:`SwitchingState` per supplier × part × defect class. :func:`record_lot` takes the
state and one original (not resubmitted) lot and returns a :class:`Transition` with the new
state and, when the severity changed or inspection was discontinued, a bilingual reason.
Inspection starts on normal (:func:`initial`). Rules (``shared/qms-reference`` README §2.5):

* normal → tightened: 2 lots not accepted within 5 or fewer consecutive lots;
* tightened → normal: 5 consecutive lots accepted;
* tightened → discontinued: the lots not accepted while on tightened add up to 5; only
  :func:`resume` (after the supplier's corrective action) restarts it, on tightened;
* normal → reduced: switching score ≥ 30 AND production steady AND the responsible
  authority approves (``reduced_approved``);
* reduced → normal: a lot not accepted, a lot accepted inside the Ac < d < Re gap, production
  no longer steady, or the approval for reduced inspection withdrawn.

Switching score (reset to 0 at the start of normal inspection and after every switch), per lot
on normal: with Ac ≥ 2, +3 if the lot would also have been accepted at the AQL one step
tighter (the next smaller value of :func:`engine.quality.aql.aql_values`, its plan looked up
for the same lot size and level; the defects are compared with that plan's Ac), else reset;
with Ac 0 or 1, +2 if accepted, else reset.

Decisions: both schemes ("iso2859", "z14") use the switching score for normal → reduced. The
score can only reach 30 after at least 10 consecutive accepted lots on normal, which is
Z1.4's first condition; Z1.4's optional limit numbers (Table VIII) are not in the verified
reference data, so the last-10-lots history is not kept. Both schemes also leave reduced on a
gap acceptance: the platform's reduced plans are the Z1.4 ones for both (project decision),
and under a gap-free ISO table that case cannot arise. The scheme is recorded on the state.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from engine.i18n import Msg, msg
from engine.quality import QualityInputError, shown
from engine.quality import aql as sampling  # the name ``aql`` is record_lot's AQL argument
from engine.quality.aql import SamplingPlan, Severity

SCHEMES = ("iso2859", "z14")
WINDOW = 5                 # normal → tightened: 2 not accepted within this many lots
TO_TIGHTENED = 2
TO_NORMAL_ACCEPTED = 5     # consecutive accepted lots on tightened
TO_DISCONTINUE = 5         # cumulative lots not accepted on tightened
SCORE_TO_REDUCED = 30


@dataclass(frozen=True)
class SwitchingState:
    """Switching state of one supplier × part × defect class (see the module docstring)."""

    severity: Severity = Severity.NORMAL
    discontinued: bool = False
    score: int = 0                       # ISO switching score (normal only)
    consecutive_accepted: int = 0        # on tightened
    recent: tuple[bool, ...] = ()        # last ≤ 5 lots on normal: accepted?
    rejected_on_tightened: int = 0       # lots not accepted during this tightened period
    scheme: str = "iso2859"

    def to_json(self) -> dict:
        return {"severity": self.severity.value, "discontinued": self.discontinued,
                "score": self.score, "consecutive_accepted": self.consecutive_accepted,
                "recent": list(self.recent), "rejected_on_tightened": self.rejected_on_tightened,
                "scheme": self.scheme}

    @classmethod
    def from_json(cls, data: object) -> "SwitchingState":
        """Rebuild a stored state; anything malformed is a :class:`QualityInputError`."""
        if not isinstance(data, dict):
            raise _bad_field("state", data)
        try:
            state = cls(severity=sampling.normalise_severity(data["severity"]),
                        discontinued=_flag(data, "discontinued"),
                        score=_count(data, "score"),
                        consecutive_accepted=_count(data, "consecutive_accepted"),
                        recent=_flags(data, "recent"),
                        rejected_on_tightened=_count(data, "rejected_on_tightened"),
                        scheme=_scheme(data.get("scheme", "iso2859")))
        except KeyError as missing:
            raise QualityInputError(msg("转移状态缺少字段 {k}", "The switching state lacks {k}",
                                        k=missing.args[0])) from None
        return state


@dataclass(frozen=True)
class Transition:
    """Result of one step: the new state, whether severity/discontinuation changed, and why."""

    state: SwitchingState
    changed: bool
    reason: Msg | None


def _bad_field(name: str, value: object) -> QualityInputError:
    return QualityInputError(msg("转移状态的 {k} 无效：{v}", "Switching state field {k} is not "
                                 "valid: {v}", k=name, v=shown(value)))


def _flag(data: dict, key: str) -> bool:
    if not isinstance(data[key], bool):
        raise _bad_field(key, data[key])
    return data[key]


def _flags(data: dict, key: str) -> tuple[bool, ...]:
    value = data[key]
    if not isinstance(value, list) or len(value) > WINDOW or any(
            not isinstance(v, bool) for v in value):
        raise _bad_field(key, value)
    return tuple(value)


def _count(data: dict, key: str) -> int:
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _bad_field(key, value)
    return value


def _scheme(scheme: object) -> str:
    if scheme not in SCHEMES:
        raise QualityInputError(msg("转移规则方案 {v} 无效；可用：{known}",
                                    "Switching scheme {v} is not valid; use one of: {known}",
                                    v=shown(scheme), known=", ".join(SCHEMES)))
    return scheme


def initial(scheme: str = "iso2859") -> SwitchingState:
    """A fresh state on normal inspection."""
    return SwitchingState(scheme=_scheme(scheme))


def _switch(state: SwitchingState, severity: Severity, reason: Msg) -> Transition:
    """Move to ``severity`` with every counter and the score reset."""
    return Transition(SwitchingState(severity=severity, scheme=state.scheme), True, reason)


def _accepted_one_step_tighter(defects: int, lot_size: object, level: object,
                               column: str) -> bool:
    columns = sampling.aql_values()
    position = columns.index(column)
    if position == 0:  # nothing tighter than the first column: no extra credit can be proven
        return False
    tighter = sampling.plan(lot_size, level, columns[position - 1], Severity.NORMAL)
    return defects <= tighter.ac


def _score(state: SwitchingState, accepted: bool, defects: int, plan: SamplingPlan,
           lot_size: object, level: object, column: str) -> int:
    if plan.ac >= 2:
        gains = accepted and _accepted_one_step_tighter(defects, lot_size, level, column)
        return state.score + 3 if gains else 0
    return state.score + 2 if accepted else 0


def _on_normal(state: SwitchingState, accepted: bool, score: int, steady: bool,
               reduced_approved: bool) -> Transition:
    recent = (*state.recent, accepted)[-WINDOW:]
    if recent.count(False) >= TO_TIGHTENED:
        return _switch(state, Severity.TIGHTENED, msg(
            "最近 {n} 批中有 {k} 批不被接收，转为加严检验",
            "{k} of the last {n} lots were not accepted: switch to tightened inspection",
            n=len(recent), k=recent.count(False)))
    if score >= SCORE_TO_REDUCED and steady and reduced_approved:
        return _switch(state, Severity.REDUCED, msg(
            "转移得分 {s} ≥ 30，生产稳定且已获批准，转为放宽检验",
            "Switching score {s} ≥ 30, production steady and approved: switch to reduced "
            "inspection", s=score))
    return Transition(replace(state, recent=recent, score=score), False, None)


def _on_tightened(state: SwitchingState, accepted: bool) -> Transition:
    if accepted:
        streak = state.consecutive_accepted + 1
        if streak >= TO_NORMAL_ACCEPTED:
            return _switch(state, Severity.NORMAL, msg(
                "加严检验下连续 {n} 批被接收，恢复正常检验",
                "{n} consecutive lots accepted on tightened inspection: back to normal",
                n=streak))
        return Transition(replace(state, consecutive_accepted=streak), False, None)
    rejected = state.rejected_on_tightened + 1
    if rejected >= TO_DISCONTINUE:
        return Transition(replace(state, consecutive_accepted=0, rejected_on_tightened=rejected,
                                  discontinued=True), True, msg(
            "加严检验下累计 {n} 批不被接收，暂停检验，待供方采取纠正措施",
            "{n} lots not accepted on tightened inspection: inspection discontinued until the "
            "supplier has taken corrective action", n=rejected))
    return Transition(replace(state, consecutive_accepted=0, rejected_on_tightened=rejected),
                      False, None)


def _on_reduced(state: SwitchingState, accepted: bool, gap: bool, steady: bool,
                reduced_approved: bool) -> Transition:
    reasons = [
        (not accepted, Msg("放宽检验下有一批不被接收，恢复正常检验",
                           "A lot was not accepted on reduced inspection: back to normal")),
        (gap, Msg("放宽检验下不合格数落在 Ac 与 Re 之间（接收该批），恢复正常检验",
                  "Defects between Ac and Re on reduced inspection (lot accepted): back to "
                  "normal")),
        (not steady, Msg("生产不稳定或延迟，恢复正常检验",
                         "Production irregular or delayed: back to normal inspection")),
        (not reduced_approved, Msg("负责部门撤销放宽检验的批准，恢复正常检验",
                                   "The responsible authority withdrew reduced inspection: "
                                   "back to normal")),
    ]
    for applies, reason in reasons:
        if applies:
            return _switch(state, Severity.NORMAL, reason)
    return Transition(state, False, None)


def _check_lot(state: object, accepted: object, defects: object, plan: object,
               scheme: object) -> int:
    """Refuse a lot that cannot be recorded; return the defect count as an int."""
    if not isinstance(state, SwitchingState):
        raise QualityInputError(msg("state 必须是 SwitchingState，收到 {v}",
                                    "state must be a SwitchingState, got {v}", v=shown(state)))
    if scheme is not None and _scheme(scheme) != state.scheme:
        raise QualityInputError(msg("该状态按 {a} 方案记录，不能按 {b} 方案继续",
                                    "This state follows the {a} scheme, not {b}",
                                    a=state.scheme, b=scheme))
    if state.discontinued:
        raise QualityInputError(msg("检验已暂停；供方完成纠正措施后请先调用 resume()",
                                    "Inspection is discontinued; call resume() after the "
                                    "supplier's corrective action"))
    if not isinstance(plan, SamplingPlan) or plan.severity is not state.severity:
        raise QualityInputError(msg(
            "plan 必须是当前严格度（{s}）的 SamplingPlan，收到 {v}",
            "plan must be a SamplingPlan for the current severity ({s}), got {v}",
            s=state.severity.value, v=shown(plan, 80)))
    if not isinstance(accepted, bool):
        raise QualityInputError(msg("accepted 必须是 True 或 False，收到 {v}",
                                    "accepted must be True or False, got {v}", v=shown(accepted)))
    decision = sampling.judge(plan, defects)
    if decision.accepted != accepted:
        raise QualityInputError(msg(
            "accepted={a} 与方案 Ac={ac}、Re={re} 下的不合格数 {d} 不符",
            "accepted={a} contradicts {d} defects under the plan Ac={ac}, Re={re}",
            a=accepted, d=defects, ac=plan.ac, re=plan.re))
    return int(defects)


def record_lot(state: SwitchingState, *, accepted: bool, defects: int, plan: SamplingPlan,
               aql: str, lot_size: object, level: object, steady: bool = True,
               reduced_approved: bool = True, scheme: str | None = None,
               gap_accept: bool = False) -> Transition:
    """Apply one original lot's result to ``state`` (pure: the input state is unchanged).

    ``plan`` is the plan the lot was judged with (its severity must be the state's);
    ``accepted`` must agree with ``defects`` under that plan. ``aql``, ``lot_size`` and
    ``level`` are used to look up the one-step-tighter plan for the switching score.
    ``gap_accept`` marks an Ac < d < Re acceptance on reduced; it is also detected from
    ``defects`` and ``plan``. ``scheme``, when given, must match the state's.
    """
    count = _check_lot(state, accepted, defects, plan, scheme)
    column = sampling.normalise_aql(aql)
    if plan.aql and plan.aql != column:
        raise QualityInputError(msg("aql={a} 与方案的 AQL {b} 不符",
                                    "aql={a} does not match the plan's AQL {b}",
                                    a=column, b=plan.aql))
    if state.severity is Severity.TIGHTENED:
        return _on_tightened(state, accepted)
    if state.severity is Severity.REDUCED:
        gap = bool(gap_accept) or (accepted and plan.ac < count < plan.re)
        return _on_reduced(state, accepted, gap, bool(steady), bool(reduced_approved))
    score = _score(state, accepted, count, plan, lot_size, level, column)
    return _on_normal(state, accepted, score, bool(steady), bool(reduced_approved))


def resume(state: SwitchingState) -> Transition:
    """Restart discontinued inspection, on tightened, after the supplier's corrective action."""
    if not isinstance(state, SwitchingState) or not state.discontinued:
        raise QualityInputError(msg("只有已暂停的检验才能恢复", "Only discontinued inspection "
                                    "can be resumed"))
    return _switch(state, Severity.TIGHTENED, Msg(
        "供方已采取纠正措施，以加严检验恢复检验",
        "Supplier corrective action taken: inspection resumes on tightened"))

