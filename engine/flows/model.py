"""Frozen dataclasses of a flow definition (see docs/flows.md for the JSON format).

Built by :func:`engine.flows.load_flow` after the definition has been checked; never build
them from unchecked input. ``FlowDef.raw`` keeps the JSON as published.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from engine.i18n import Msg

NODE_TYPES = ("start", "approval", "handle", "cc", "exclusive", "parallel", "join", "automatic", "end")
TASK_NODES = frozenset({"approval", "handle"})          # nodes that wait for people
MODES = ("any", "all", "ratio", "sequence")
PERMISSIONS = ("editable", "readonly", "hidden")
OVERDUE_ACTIONS = ("remind", "escalate", "approve", "return")
ASSIGNEE_KINDS = ("user", "role", "department_head", "field", "expression", "submitter")
MEANINGS = {
    "reviewed": Msg("已审核", "Reviewed"), "approved": Msg("已批准", "Approved"),
    "verified": Msg("已验证", "Verified"), "responsible": Msg("负责", "Responsible"),
    "authored": Msg("编制", "Authored"),
}


@dataclass(frozen=True)
class Assignee:
    """One assignee spec: ``kind`` and its value (user id, role key, level, field key, expression)."""

    kind: str
    value: Any = None


@dataclass(frozen=True)
class Deadline:
    """When a task is due and what happens when it is overdue."""

    hours: float                                  # ``days`` are stored as 24 h each (calendar) or 8 h (working)
    working_hours: bool = False
    remind_before_hours: float | None = None
    on_overdue: str = "remind"
    repeat_hours: float = 24.0
    escalate_to: tuple[Assignee, ...] = ()


@dataclass(frozen=True)
class SignatureRule:
    """A node that requires an electronic signature, with the meaning of signing."""

    meaning: str                                  # a MEANINGS key, or "custom" with ``label``
    label: Msg


@dataclass(frozen=True)
class Branch:
    """A branch of an exclusive or parallel node."""

    next: str
    condition: str | None = None
    default: bool = False
    label: Msg | None = None


@dataclass(frozen=True)
class NodeDef:
    """One node; which attributes matter depends on ``type`` (see docs/flows.md)."""

    id: str
    type: str
    label: Msg | None = None
    next: str | None = None
    branches: tuple[Branch, ...] = ()
    join: str | None = None
    assignees: tuple[Assignee, ...] = ()
    mode: str = "any"
    ratio: float | None = None
    fields: Mapping[str, str] = field(default_factory=dict)   # field key (or "*") → permission
    deadline: Deadline | None = None
    signature: SignatureRule | None = None
    actions: tuple[Mapping[str, Any], ...] = ()

    def permission(self, field_key: str) -> str:
        """editable / readonly / hidden for a top-level field (or sub-table) at this node."""
        if field_key in self.fields:
            return self.fields[field_key]
        return self.fields.get("*", "editable" if self.type == "start" else "readonly")

    @property
    def waits(self) -> bool:
        return self.type in TASK_NODES

    def targets(self) -> tuple[str, ...]:
        """Ids of the nodes this node leads to."""
        if self.branches:
            return tuple(b.next for b in self.branches)
        return (self.next,) if self.next else ()


@dataclass(frozen=True)
class FlowDef:
    """A published (or loaded) flow definition."""

    key: str
    label: Msg
    form: str
    nodes: tuple[NodeDef, ...]
    auto_start: bool = True
    description: Msg | None = None
    version: int = 0
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def node(self, node_id: str) -> NodeDef:
        for n in self.nodes:
            if n.id == node_id:
                return n
        raise KeyError(node_id)

    @property
    def start(self) -> NodeDef:
        return next(n for n in self.nodes if n.type == "start")

    def to_dict(self) -> dict:
        return dict(self.raw)
