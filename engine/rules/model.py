"""Frozen dataclasses of a rule definition (the JSON format is documented in docs/rules.md).

Built by :func:`engine.rules.load_rule` after the definition has been checked; never build them
from unchecked input. ``RuleDef.raw`` keeps the JSON as published.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Mapping

from engine.i18n import Msg

EACH, ONCE = "each", "once"          # bulk operations: fire per record (default) or once per batch
BATCH_MODES = (EACH, ONCE)


@dataclass(frozen=True)
class TriggerDef:
    """What fires the rule: a registered trigger type and its options."""

    type: str
    options: Mapping[str, Any] = field(default_factory=dict)

    def option(self, name: str, default: Any = None) -> Any:
        return self.options.get(name, default)


@dataclass(frozen=True)
class ActionDef:
    """One step of the rule: a registered action type and its options, at ``index`` in the rule."""

    type: str
    index: int
    options: Mapping[str, Any] = field(default_factory=dict)

    def option(self, name: str, default: Any = None) -> Any:
        return self.options.get(name, default)


@dataclass(frozen=True)
class RuleDef:
    """A published rule: trigger + condition + ordered actions."""

    key: str
    label: Msg
    trigger: TriggerDef
    actions: tuple[ActionDef, ...]
    form: str | None = None            # the form whose records the trigger and expressions refer to
    condition: str | None = None
    batch: str = EACH
    enabled: bool = True
    description: Msg | None = None
    version: int = 0
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def to_dict(self) -> dict:
        """The definition as JSON (what was published)."""
        return copy.deepcopy(dict(self.raw))
