"""The rule engine: definitions (trigger + condition + ordered actions), checked like forms and
flows, with trigger and action types registered one class each (see docs/rules.md)."""
from engine.rules.actions import ACTIONS, Action, RunContext
from engine.rules import data_actions, sampling_actions  # noqa: F401  (registers their actions)
from engine.rules.definition import build_rule, check_rule, load_rule, rule_scope
from engine.rules.model import EACH, ONCE, ActionDef, RuleDef, TriggerDef
from engine.rules.triggers import TRIGGERS, Trigger

__all__ = ["ACTIONS", "Action", "RunContext", "TRIGGERS", "Trigger", "RuleDef", "TriggerDef", "ActionDef",
           "EACH", "ONCE", "check_rule", "load_rule", "build_rule", "rule_scope"]
