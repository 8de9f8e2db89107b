"""The pure state machine of a flow instance: where the tokens are and where they go next.

No I/O here. ``start``/``complete``/``send_back``/``resubmit`` change an :class:`InstanceState`
and return :class:`Effects` — the task nodes entered (the service creates their tasks), the
CC and automatic nodes passed, the branch choices made, and whether an end was reached. The
service persists the state and the effects in one transaction.

Tokens: one per waiting task node. An exclusive node passes the token down the first branch
whose condition holds (else the default); a parallel node sends one token down every branch
and its join lets one token through once every branch has arrived (the definition checker
guarantees that each branch reaches its join exactly once, so a join cannot wait forever).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from engine.errors import Conflict, ExpressionError
from engine.flows.model import FlowDef, NodeDef
from engine.i18n import msg

MAX_STEPS = 1000        # nodes passed in one move without reaching a waiting node: a loop


class FlowError(Conflict):
    """A move the flow's state does not allow (not running, not at that step, a loop)."""

    code = "flow_state"


@dataclass
class InstanceState:
    """What a running instance is: its state, its run (1 + resubmissions) and its tokens."""

    state: str = "running"            # running returned withdrawn approved rejected cancelled
    run: int = 1
    tokens: list[str] = field(default_factory=list)
    joins: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"state": self.state, "run": self.run, "tokens": list(self.tokens), "joins": dict(self.joins)}


@dataclass
class Effects:
    """What a move did, for the service to persist."""

    entered: list[str] = field(default_factory=list)            # task nodes whose tasks must be created
    cc: list[str] = field(default_factory=list)                 # CC nodes passed
    automatic: list[str] = field(default_factory=list)          # automatic nodes passed
    choices: list[tuple[str, int]] = field(default_factory=list)  # (exclusive node, branch index taken)
    left: list[str] = field(default_factory=list)               # task nodes whose open tasks must be closed
    finished: str | None = None                                 # "approved" when an end was reached


Condition = Callable[[str, Mapping[str, Any]], bool]


def start(flow: FlowDef, values: Mapping[str, Any], condition: Condition) -> tuple[InstanceState, Effects]:
    """A new instance moved from the start node to its first waiting node(s)."""
    state, effects = InstanceState(), Effects()
    _walk(flow, state, flow.start.next, values, condition, effects)
    return state, effects


def complete(flow: FlowDef, state: InstanceState, node_id: str, values: Mapping[str, Any],
             condition: Condition) -> Effects:
    """The task node ``node_id`` was approved: its token moves on."""
    _require_running(state)
    if node_id not in state.tokens:
        raise FlowError(msg("流程当前不在节点“{n}”", "The flow is not at step '{n}'", n=node_id))
    state.tokens.remove(node_id)
    effects = Effects()
    _walk(flow, state, flow.node(node_id).next, values, condition, effects)
    return effects


def send_back(flow: FlowDef, state: InstanceState, to_node: str | None) -> Effects:
    """A rejection: every waiting node is left; back to the submitter (None) or to ``to_node``."""
    _require_running(state)
    effects = Effects(left=list(state.tokens))
    state.tokens, state.joins = [], {}
    if to_node is None:
        state.state = "returned"
    else:
        flow.node(to_node)
        state.tokens.append(to_node)
        effects.entered.append(to_node)
    return effects


def reject(state: InstanceState) -> Effects:
    """The flow ends rejected (a final rejection, e.g. an overdue rule or an administrator)."""
    _require_running(state)
    effects = Effects(left=list(state.tokens))
    state.tokens, state.joins, state.state = [], {}, "rejected"
    return effects


def withdraw(state: InstanceState) -> Effects:
    """The submitter takes the record back (the service checks that nobody has acted yet)."""
    _require_running(state)
    effects = Effects(left=list(state.tokens))
    state.tokens, state.joins, state.state = [], {}, "withdrawn"
    return effects


def resubmit(flow: FlowDef, state: InstanceState, values: Mapping[str, Any], condition: Condition) -> Effects:
    """A returned or withdrawn record sent again: a new run from the start node."""
    if state.state not in ("returned", "withdrawn"):
        raise FlowError(msg("只有退回或撤回的流程可以重新提交", "Only a returned or withdrawn flow can be resubmitted"))
    state.state, state.run, state.tokens, state.joins = "running", state.run + 1, [], {}
    effects = Effects()
    _walk(flow, state, flow.start.next, values, condition, effects)
    return effects


def _require_running(state: InstanceState) -> None:
    if state.state != "running":
        raise FlowError(msg("流程已不在进行中", "The flow is no longer running"))


def _walk(flow: FlowDef, state: InstanceState, first: str | None, values: Mapping[str, Any],
          condition: Condition, effects: Effects) -> None:
    """Move a token from ``first`` until it waits, is absorbed by a join, or ends the flow."""
    pending, steps = [first], 0
    while pending:
        node_id = pending.pop()
        steps += 1
        if steps > MAX_STEPS or node_id is None:
            raise FlowError(msg("流程在自动步骤中循环，无法继续", "The flow loops through automatic steps and cannot go on"))
        node = flow.node(node_id)
        pending.extend(reversed(_pass(flow, state, node, values, condition, effects)))
        if effects.finished:
            state.tokens, state.joins, state.state = [], {}, "approved"
            return


def _pass(flow: FlowDef, state: InstanceState, node: NodeDef, values, condition, effects) -> list[str]:
    """The token arrives at ``node``: the ids it continues to (none when it waits or ends)."""
    kind = node.type
    if node.waits:
        if node.id not in state.tokens:
            state.tokens.append(node.id)
            effects.entered.append(node.id)
        return []
    if kind == "end":
        effects.finished = "approved"
        return []
    if kind == "exclusive":
        index = choose_branch(node, values, condition)
        effects.choices.append((node.id, index))
        return [node.branches[index].next]
    if kind == "parallel":
        state.joins[node.join] = 0
        return [b.next for b in node.branches]
    if kind == "join":
        return _arrive(flow, state, node)
    if kind == "cc":
        effects.cc.append(node.id)
    elif kind == "automatic":
        effects.automatic.append(node.id)
    return [node.next] if node.next else []


def _arrive(flow: FlowDef, state: InstanceState, join: NodeDef) -> list[str]:
    split = next(n for n in flow.nodes if n.type == "parallel" and n.join == join.id)
    arrived = state.joins.get(join.id, 0) + 1
    if arrived < len(split.branches):
        state.joins[join.id] = arrived
        return []
    state.joins.pop(join.id, None)
    return [join.next] if join.next else []


def choose_branch(node: NodeDef, values: Mapping[str, Any], condition: Condition) -> int:
    """Index of the first branch whose condition holds, else of the default branch.

    A condition that cannot be evaluated for this record (a blank it divides by…) counts as
    not holding, like a formula that cannot be computed.
    """
    default = None
    for index, branch in enumerate(node.branches):
        if branch.default:
            default = index
            continue
        try:
            if branch.condition and condition(branch.condition, values):
                return index
        except ExpressionError:
            continue
    if default is None:
        raise FlowError(msg("条件分支“{n}”没有默认分支", "The exclusive step '{n}' has no default branch", n=node.id))
    return default


def node_decision(mode: str, ratio: float | None, slots: list[str]) -> str | None:
    """"approved", "rejected" or None (still waiting) from the outcome of each assignee slot.

    ``slots``: "approved", "rejected" or "open" per slot (an assignee and whoever they added).
    """
    total = len(slots)
    approved, rejected = slots.count("approved"), slots.count("rejected")
    if total == 0:
        return "approved"
    if mode == "any":
        return "rejected" if rejected and not approved else ("approved" if approved else None)
    if mode in ("all", "sequence"):
        return "rejected" if rejected else ("approved" if approved == total else None)
    needed = ratio if ratio is not None else 1.0
    if approved / total >= needed - 1e-9:
        return "approved"
    if (total - rejected) / total < needed - 1e-9:
        return "rejected"
    return None
