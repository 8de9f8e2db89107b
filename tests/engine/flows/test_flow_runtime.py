"""The pure state machine: branches, parallel split and join, multi-approver decisions,
and a flow that runs to the end through the services with parallel and sequential steps."""
import copy

import pytest

from engine.definitions import load_form
from engine.flows import runtime
from engine.flows.definition import load_flow
from tests.engine.flows.support import L, NCR_FORM, make_world

PARALLEL = {"format": 1, "key": "par", "label": L("并行", "Parallel"), "form": "ncr", "nodes": [
    {"id": "start", "type": "start", "next": "split"},
    {"id": "split", "type": "parallel", "join": "meet", "branches": [{"next": "a"}, {"next": "b_check"}]},
    {"id": "a", "type": "approval", "assignees": [{"kind": "role", "role": "qe"}], "next": "meet"},
    {"id": "b_check", "type": "exclusive", "branches": [
        {"condition": "cost > 100", "next": "b"}, {"default": True, "next": "meet"}]},
    {"id": "b", "type": "approval", "assignees": [{"kind": "role", "role": "mrb"}], "mode": "sequence",
     "next": "note"},
    {"id": "note", "type": "cc", "assignees": [{"kind": "submitter"}], "next": "meet"},
    {"id": "meet", "type": "join", "next": "end"},
    {"id": "end", "type": "end"}]}


def flow():
    return load_flow(copy.deepcopy(PARALLEL), load_form(copy.deepcopy(NCR_FORM)))


def cond(source, values):
    return values.get("cost", 0) > 100 if source == "cost > 100" else False


def test_parallel_branches_meet_at_the_join_once_each():
    f = flow()
    state, effects = runtime.start(f, {"cost": 500}, cond)
    assert sorted(state.tokens) == ["a", "b"] and state.joins == {"meet": 0}
    effects = runtime.complete(f, state, "b", {"cost": 500}, cond)
    assert effects.cc == ["note"] and state.joins == {"meet": 1} and state.state == "running"
    effects = runtime.complete(f, state, "a", {"cost": 500}, cond)
    assert effects.finished == "approved" and state.state == "approved" and state.tokens == []


def test_a_branch_that_skips_its_step_still_arrives_at_the_join():
    f = flow()
    state, effects = runtime.start(f, {"cost": 5}, cond)
    assert state.tokens == ["a"] and effects.choices == [("b_check", 1)] and state.joins == {"meet": 1}
    runtime.complete(f, state, "a", {}, cond)
    assert state.state == "approved"


def test_send_back_withdraw_and_resubmit_states():
    f = flow()
    state, _ = runtime.start(f, {"cost": 500}, cond)
    effects = runtime.send_back(f, state, None)
    assert state.state == "returned" and sorted(effects.left) == ["a", "b"] and state.joins == {}
    runtime.resubmit(f, state, {"cost": 5}, cond)
    assert state.run == 2 and state.tokens == ["a"]
    runtime.withdraw(state)
    assert state.state == "withdrawn"
    with pytest.raises(runtime.FlowError):
        runtime.complete(f, state, "a", {}, cond)


@pytest.mark.parametrize("mode, ratio, slots, expected", [
    ("any", None, ["open", "open"], None), ("any", None, ["approved", "open"], "approved"),
    ("any", None, ["rejected", "open"], "rejected"),
    ("all", None, ["approved", "open"], None), ("all", None, ["approved", "approved"], "approved"),
    ("all", None, ["approved", "rejected"], "rejected"),
    ("sequence", None, ["approved", "open", "open"], None), ("sequence", None, ["approved"] * 3, "approved"),
    ("ratio", 0.6, ["approved", "open", "open"], None), ("ratio", 0.6, ["approved", "approved", "open"], "approved"),
    ("ratio", 0.6, ["rejected", "rejected", "open"], "rejected"), ("ratio", 0.5, ["rejected", "open"], None),
    ("ratio", 1.0, ["approved", "rejected"], "rejected"), ("any", None, [], "approved"),
])
def test_multi_approver_decisions(mode, ratio, slots, expected):
    assert runtime.node_decision(mode, ratio, slots) == expected


def test_parallel_and_sequential_steps_through_the_services(db_engine, actor):
    world = make_world(db_engine, actor, PARALLEL)
    rid = world.submit(cost=500)
    assert sorted(world.instance(rid)["tokens"]) == ["a", "b"]
    mia, max_ = world["mia"].user_id, world["max"].user_id
    b_tasks = world.tasks(rid, node_id="b")
    assert [(t["assignee_id"], t["status"]) for t in b_tasks] == [(mia, "open"), (max_, "queued")]
    world.act(rid, "mia")
    assert world.tasks(rid, node_id="b", assignee_id=max_)[0]["status"] == "open"      # in sequence
    world.act(rid, "max")
    assert world.instance(rid)["state"] == "running" and world.instance(rid)["tokens"] == ["a"]
    assert world.tasks(rid, kind="cc", assignee_id=world["sam"].user_id)                # the CC step
    world.act(rid, "quinn")
    assert world.instance(rid)["state"] == "approved"
