"""ISO 2859-1 / Z1.4 switching rules: every edge, the boundaries, scores and serialisation.

Lot size 1000 at level II is code letter J. Normal plans there: AQL 1.0 → n 80, Ac 2 / Re 3
(the one-step-tighter AQL 0.65 has Ac 1); AQL 0.65 → Ac 1 / Re 2. Reduced AQL 1.0 → n 32,
Ac 1 / Re 3, so 2 defects fall in the gap.
"""
from __future__ import annotations

import json

import pytest

from engine.i18n import Msg
from engine.quality import QualityInputError, aql, switching
from engine.quality.aql import Severity
from engine.quality.switching import SwitchingState

LOT, LEVEL = 1000, "II"


def lot(state, defects, aql_value="1.0", **options):
    """Record one lot judged with the plan of the state's severity."""
    plan = aql.plan(LOT, LEVEL, aql_value, state.severity)
    accepted = aql.judge(plan, defects).accepted
    return switching.record_lot(state, accepted=accepted, defects=defects, plan=plan,
                                aql=aql_value, lot_size=LOT, level=LEVEL, **options)


def run(state, defects_list, aql_value="1.0", **options):
    """Record several lots; return the final state and every transition."""
    steps = []
    for defects in defects_list:
        step = lot(state, defects, aql_value, **options)
        steps.append(step)
        state = step.state
    return state, steps


def on(severity, scheme="iso2859"):
    return SwitchingState(severity=severity, scheme=scheme)


def assert_reason(step):
    assert step.changed and isinstance(step.reason, Msg)
    assert step.reason.zh and step.reason.en and step.reason.zh != step.reason.en


REJECT = 3   # defects that reject at normal AQL 1.0 (Re 3)


# --- normal ⇄ tightened ----------------------------------------------------------------------

def test_initial_state_is_normal_with_nothing_counted():
    state = switching.initial()
    assert state == SwitchingState(Severity.NORMAL, False, 0, 0, (), 0, "iso2859")
    assert switching.initial("z14").scheme == "z14"


def test_two_rejects_within_five_lots_switch_to_tightened():
    state, steps = run(switching.initial(), [0, REJECT, 0, 0, REJECT])
    assert [s.changed for s in steps] == [False] * 4 + [True]
    assert state.severity is Severity.TIGHTENED
    assert_reason(steps[-1])
    assert "2 of the last 5" in steps[-1].reason.en
    assert state == on(Severity.TIGHTENED)     # every counter and the score reset


def test_two_consecutive_rejects_switch_at_once():
    state, _ = run(switching.initial(), [REJECT, REJECT])
    assert state.severity is Severity.TIGHTENED


@pytest.mark.parametrize("defects", [
    [REJECT, 0, 0, 0, 0],                    # one reject in 5 stays
    [REJECT, 0, 0, 0, 0, REJECT],            # rejects 5 lots apart: never 2 in one window of 5
    [REJECT, 0, 0, 0, 0, 0, REJECT],         # rejects 6 lots apart
])
def test_rejects_spread_out_stay_normal(defects):
    state, steps = run(switching.initial(), defects)
    assert state.severity is Severity.NORMAL and not any(s.changed for s in steps)
    assert len(state.recent) == min(len(defects), 5)


def test_five_consecutive_accepts_on_tightened_return_to_normal():
    state, steps = run(on(Severity.TIGHTENED), [0, 0, 0, 0])
    assert state.severity is Severity.TIGHTENED and state.consecutive_accepted == 4
    assert not any(s.changed for s in steps)            # 4 accepts stay on tightened
    step = lot(state, 0)
    assert step.state == switching.initial()            # normal, score reset
    assert_reason(step)


def test_a_reject_on_tightened_restarts_the_accept_count():
    state, _ = run(on(Severity.TIGHTENED), [0, 0, 0, 0, 2, 0, 0, 0, 0])   # tightened Re is 2
    assert state.severity is Severity.TIGHTENED
    assert (state.consecutive_accepted, state.rejected_on_tightened) == (4, 1)


# --- discontinue and resume ------------------------------------------------------------------

def test_five_rejects_on_tightened_discontinue_and_resume_restarts_tightened():
    state, steps = run(on(Severity.TIGHTENED), [2, 0, 2, 0, 0, 2, 2])
    assert state.rejected_on_tightened == 4 and not state.discontinued
    step = lot(state, 2)
    assert step.state.discontinued and step.state.severity is Severity.TIGHTENED
    assert_reason(step)
    assert "discontinued" in step.reason.en
    with pytest.raises(QualityInputError) as err:
        lot(step.state, 0)
    assert "resume()" in err.value.message.en
    resumed = switching.resume(step.state)
    assert resumed.state == on(Severity.TIGHTENED)
    assert_reason(resumed)
    with pytest.raises(QualityInputError):
        switching.resume(resumed.state)


# --- normal → reduced: the switching score ---------------------------------------------------

def test_ac_two_or_more_scores_three_when_accepted_one_step_tighter():
    state, steps = run(switching.initial(), [0, 1, 0, 1, 0, 1, 0, 1, 0])
    assert state.score == 27 and not any(s.changed for s in steps)
    step = lot(state, 1)
    assert step.state == on(Severity.REDUCED)           # score 30 → reduced, score reset
    assert_reason(step)
    assert "30" in step.reason.en


def test_ac_two_or_more_resets_when_only_accepted_at_the_aql_itself():
    state, _ = run(switching.initial(), [0, 0, 0])
    assert state.score == 9
    state, _ = run(state, [2])          # accepted at AQL 1.0 (Ac 2) but not at 0.65 (Ac 1)
    assert state.score == 0 and state.severity is Severity.NORMAL


def test_ac_zero_or_one_scores_two_per_accepted_lot_and_resets_on_a_reject():
    state, _ = run(switching.initial(), [0, 1, 0, 1], aql_value="0.65")   # Ac 1
    assert state.score == 8
    state, _ = run(state, [2], aql_value="0.65")
    assert state.score == 0
    state, steps = run(state, [0] * 15, aql_value="0.65")
    assert state.severity is Severity.REDUCED and steps[-1].changed
    assert not any(s.changed for s in steps[:-1])


def test_reduced_needs_steady_production_and_approval():
    state, _ = run(switching.initial(), [0] * 10, steady=False)
    assert state.severity is Severity.NORMAL and state.score == 30
    state, _ = run(state, [0], reduced_approved=False)
    assert state.severity is Severity.NORMAL and state.score == 33
    step = lot(state, 0)
    assert step.state.severity is Severity.REDUCED
    assert_reason(step)


def test_score_starts_from_zero_after_every_switch():
    state, _ = run(switching.initial(), [0] * 5 + [REJECT, REJECT])
    assert state.severity is Severity.TIGHTENED and state.score == 0
    state, _ = run(state, [0] * 5)
    assert state == switching.initial()
    state, _ = run(state, [0] * 9)
    assert state.score == 27 and state.severity is Severity.NORMAL


# --- reduced → normal ------------------------------------------------------------------------

def test_accepted_lots_keep_reduced():
    state, steps = run(on(Severity.REDUCED), [0, 1, 0, 1])
    assert state == on(Severity.REDUCED) and not any(s.changed for s in steps)


@pytest.mark.parametrize("defects, options, words", [
    (3, {}, "not accepted"),                              # Re 3 on reduced
    (2, {}, "between Ac and Re"),                         # the gap: accepted, back to normal
    (0, {"gap_accept": True}, "between Ac and Re"),       # caller-reported gap acceptance
    (0, {"steady": False}, "irregular"),
    (0, {"reduced_approved": False}, "withdrew"),
])
def test_reduced_returns_to_normal(defects, options, words):
    step = lot(on(Severity.REDUCED), defects, **options)
    assert step.state == switching.initial()
    assert_reason(step)
    assert words in step.reason.en


def test_gap_acceptance_counts_as_accepted_in_both_schemes():
    plan = aql.plan(LOT, LEVEL, "1.0", "reduced")
    assert aql.judge(plan, 2) is aql.Decision.ACCEPT_RETURN_TO_NORMAL
    for scheme in switching.SCHEMES:
        step = lot(on(Severity.REDUCED, scheme), 2)
        assert step.state == switching.initial(scheme)


# --- serialisation and purity ----------------------------------------------------------------

def test_state_round_trips_through_json_mid_sequence():
    state, _ = run(switching.initial("z14"), [0, REJECT, 0, 0])
    restored = SwitchingState.from_json(json.loads(json.dumps(state.to_json())))
    assert restored == state
    assert lot(restored, REJECT).state.severity is Severity.TIGHTENED
    assert state.recent == (True, False, True, True)    # the input state is untouched


@pytest.mark.parametrize("data", [
    None, {}, {"severity": "strict", "discontinued": False, "score": 0,
               "consecutive_accepted": 0, "recent": [], "rejected_on_tightened": 0},
    {"severity": "normal", "discontinued": "no", "score": 0, "consecutive_accepted": 0,
     "recent": [], "rejected_on_tightened": 0},
    {"severity": "normal", "discontinued": False, "score": -1, "consecutive_accepted": 0,
     "recent": [], "rejected_on_tightened": 0},
    {"severity": "normal", "discontinued": False, "score": 0, "consecutive_accepted": 0,
     "recent": [True] * 6, "rejected_on_tightened": 0},
    {"severity": "normal", "discontinued": False, "score": 0, "consecutive_accepted": 0,
     "recent": [], "rejected_on_tightened": 0, "scheme": "mil105d"},
])
def test_malformed_stored_state_is_refused(data):
    with pytest.raises(QualityInputError) as err:
        SwitchingState.from_json(data)
    assert err.value.message.zh and err.value.message.en


# --- bad input -------------------------------------------------------------------------------

def _record(state=None, **overrides):
    plan = aql.plan(LOT, LEVEL, "1.0", "normal")
    args = dict(accepted=True, defects=0, plan=plan, aql="1.0", lot_size=LOT, level=LEVEL)
    args.update(overrides)
    return switching.record_lot(state or switching.initial(), **args)


@pytest.mark.parametrize("call, words", [
    (lambda: _record(accepted=True, defects=3), "contradicts"),
    (lambda: _record(accepted=False, defects=0), "contradicts"),
    (lambda: _record(accepted="yes"), "True or False"),
    (lambda: _record(defects=-1), "number of nonconformities"),
    (lambda: _record(plan=aql.plan(LOT, LEVEL, "1.0", "tightened")), "current severity"),
    (lambda: _record(plan="J 80 2 3"), "SamplingPlan"),
    (lambda: _record(aql="2.5"), "does not match"),
    (lambda: _record(aql="3.3"), "AQL"),
    (lambda: _record(scheme="z14"), "scheme"),
    (lambda: _record(scheme="mil105d"), "scheme"),
    (lambda: _record(state={"severity": "normal"}), "SwitchingState"),
    (lambda: switching.initial("ansi"), "scheme"),
])
def test_bad_lot_input_is_a_bilingual_error(call, words):
    with pytest.raises(QualityInputError) as err:
        call()
    assert words in err.value.message.en and err.value.message.zh
