"""Rule definitions are checked like forms and flows: every problem at once, with its JSON path and a
message in both languages; the trigger and action registries hold what they declare."""
from __future__ import annotations

import copy

import pytest
from jsonschema import Draft202012Validator

from engine.definitions import load_form
from engine.rules import ACTIONS, TRIGGERS, check_rule, load_rule
from tests.engine.rules.support import IQC_FORM, LOT_FORM, NCR_FORM, NG_OPENS_NCR

FORMS = {f["key"]: load_form(copy.deepcopy(f)) for f in (IQC_FORM, NCR_FORM, LOT_FORM)}


def problems(rule: dict) -> dict[str, str]:
    return {p.path: p.message.en for p in check_rule(rule, FORMS)}


def with_(**changes) -> dict:
    rule = copy.deepcopy(NG_OPENS_NCR)
    rule.update(changes)
    return rule


def test_the_example_rule_is_valid_and_loads():
    rule = load_rule(copy.deepcopy(NG_OPENS_NCR), FORMS)
    assert [a.type for a in rule.actions] == ["create_record", "set_status"] and rule.batch == "each"


@pytest.mark.parametrize("registry", [TRIGGERS, ACTIONS])
def test_every_registered_type_declares_labels_and_a_valid_options_schema(registry):
    for key, kind in registry.items():
        assert kind.type == key and kind.label.zh and kind.label.en
        Draft202012Validator.check_schema({"type": "object", "properties": kind.options_schema})
        assert set(kind.required_options) <= set(kind.options_schema)


@pytest.mark.parametrize("rule, path, words", [
    (with_(trigger={"type": "when_ever"}), "$.trigger.type", "Unknown type 'when_ever'"),
    (with_(trigger={"type": "field_changed"}), "$.trigger.fields", "required"),
    (with_(trigger={"type": "field_changed", "fields": ["nope"]}), "$.trigger.fields[0]", "no field 'nope'"),
    (with_(trigger={"type": "record_created", "extra": 1}), "$.trigger.extra", "has no property 'extra'"),
    (with_(trigger={"type": "schedule", "cron": "every day at 8"}), "$.trigger.cron", "five-field cron"),
    (with_(trigger={"type": "schedule", "cron": "0 8 * * *", "timezone": "Mars/Olympus"}), "$.trigger.timezone",
     "Unknown time zone"),
    (with_(trigger={"type": "flow_node_entered", "flow": "nope"}), "$.trigger.flow", "Flow 'nope' does not exist"),
    (with_(condition="result = "), "$.condition", "line 1, column"),
    (with_(condition="qty + 1"), "$.condition", "must give true or false"),
    (with_(form="nope"), "$.form", "Form 'nope' does not exist"),
    (with_(batch="sometimes"), "$.batch", "each"),
    (with_(actions=[{"type": "explode"}]), "$.actions[0].type", "Unknown type 'explode'"),
    (with_(actions=[{"type": "create_record", "form": "ncr", "values": {"serial_no": "1"}}]),
     "$.actions[0].values.serial_no", "has no field"),
    (with_(actions=[{"type": "create_record", "form": "ncr", "values": {"qty": "lot_no"}}]),
     "$.actions[0].values.qty", "number is needed"),
    (with_(actions=[{"type": "create_record", "form": "ncr", "rows": {"items": {"from": "nope", "values": {}}}}]),
     "$.actions[0].rows.items.from", "no sub-table 'nope'"),
    (with_(actions=[{"type": "update_records", "target": {"form": "lot", "filter": "remark +"}, "values": {}}]),
     "$.actions[0].target.filter", "Filter, line 1"),
    (with_(actions=[{"type": "set_status", "status": "Frozen!"}]), "$.actions[0].status", "Frozen!"),
    (with_(actions=[{"type": "notify", "subject": "x"}]), "$.actions[0].to", "whom to notify"),
    (with_(actions=[{"type": "notify", "to": {"fields": ["lot_no"]}, "subject": "x"}]),
     "$.actions[0].to.fields[0]", "not a user field"),
    (with_(actions=[{"type": "notify", "to": {"submitter": True}, "subject": "{% if %}"}]),
     "$.actions[0].subject", "Template error on line 1"),
    (with_(actions=[{"type": "call_webhook", "url": "ftp://erp"}]), "$.actions[0].url", "https?"),
    (with_(actions=[{"type": "call_webhook", "url": "https://erp", "headers": {"X-QMS-Signature": "x"}}]),
     "$.actions[0].headers.X-QMS-Signature", "cannot be set"),
    (with_(actions=[{"type": "start_flow", "flow": "nope"}]), "$.actions[0].flow", "Flow 'nope' does not exist"),
])
def test_each_problem_is_reported_at_its_path(rule, path, words):
    found = problems(rule)
    assert path in found, found
    assert words in found[path], found[path]


def test_all_problems_come_at_once_in_both_languages():
    rule = with_(key="Bad Key", condition="qty +", actions=[{"type": "explode"}, {"type": "set_status"}])
    found = check_rule(rule, FORMS)
    assert {p.path for p in found} >= {"$.key", "$.condition", "$.actions[0].type", "$.actions[1].status"}
    assert all(p.message.zh and p.message.en for p in found)


@pytest.mark.parametrize("junk", [None, [], "rule", {"trigger": []}, {"actions": "x"}, {"a" * 5: {"b": [[[[[]]]]]}}])
def test_junk_never_raises(junk):
    assert check_rule(junk, FORMS)
