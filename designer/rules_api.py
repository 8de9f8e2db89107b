"""The rule designer's server side (JSON only):

- ``GET  /designer/api/rule-choices`` — trigger and action types from the registries (bilingual
  labels, option schemas) and the tenant's forms (fields with the type a mapping must give),
  flows with their nodes, roles, people and group robots, for the editor's pickers;
- ``GET  /designer/api/rules/cron?cron=&timezone=`` — the next run times of a schedule (its hint);
- ``GET  /designer/api/rules/trial-records?form=&q=`` — records to try a rule on (by number/title);
- ``POST /designer/api/rules/trial`` ``{definition, record_id, payload?}`` — what the draft rule would
  do with that record of its form, without doing it (:func:`engine.services.rule_trial.trial`).

The trial needs design permission on the rule's app (or, for a rule of no app, on its form);
a record of another company or outside the designer's read scope is a 404. Nothing is committed:
the trial runs in a savepoint that is rolled back, and this view never commits.
"""
from __future__ import annotations

from typing import Any

from flask import jsonify, request

from designer.blueprint import bp
from engine.i18n import msg
from engine.services import rule_choices, rule_trial
from runtime.api.replies import BadInput, json_object, json_ready
from runtime.auth import current_actor, login_required
from runtime.db import db
from runtime.i18n import current_lang




def require_rule_design(session, actor, definition: dict) -> None:
    """Design permission on the rule's app (its draft's, its published definition's or its form's)."""
    from engine.services import designs
    form_key = definition.get("form") if isinstance(definition.get("form"), str) else None
    app_key = rule_choices.rule_app(session, actor.tenant_id, definition.get("key"), form_key)
    designs.require_definition_design(session, actor, app_key, form_key)


@bp.get("/api/rule-choices")
@login_required
def rule_choices_view():
    return jsonify(json_ready(rule_choices.rule_choices(db(), current_actor())))


@bp.get("/api/rules/cron")
@login_required
def cron_hint():
    expression = (request.args.get("cron") or "").strip()
    hint = rule_choices.cron_hint(expression, (request.args.get("timezone") or "").strip() or None)
    if not hint["ok"]:
        hint["message"] = hint["message"]["en" if current_lang() == "en" else "zh-CN"]
    return jsonify(hint)


@bp.get("/api/rules/trial-records")
@login_required
def trial_records():
    form_key = (request.args.get("form") or "").strip()
    if not form_key:
        raise BadInput(msg("缺少“form”", "'form' is missing"), "form")
    items = rule_choices.trial_records(db(), current_actor(), form_key, request.args.get("q") or "")
    return jsonify({"items": items})


def _record_id(body: dict) -> int | None:
    value: Any = body.get("record_id")
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise BadInput(msg("“record_id”必须是正整数", "'record_id' must be a positive integer"), "record_id")
    return value


@bp.post("/api/rules/trial")
@login_required
def rule_trial_view():
    body = json_object()
    definition = body.get("definition")
    if not isinstance(definition, dict):
        raise BadInput(msg("“definition”必须是规则定义对象", "'definition' must be a rule definition object"), "definition")
    session, actor = db(), current_actor()
    require_rule_design(session, actor, definition)
    result = rule_trial.trial(session, actor, definition, definition.get("form"), _record_id(body), current_lang(),
                              payload=body.get("payload"))
    session.rollback()          # belt and braces: a trial never leaves anything behind
    return jsonify(json_ready(_pointers(result)))


def _pointers(result: dict) -> dict:
    """Problem and detail paths as JSON pointers (``/actions/0/values/qty``), like the draft check's."""
    from engine.services.designs import pointer
    for item in [result, *result.get("actions", ())]:
        for entry in [*item.get("problems", ()), *item.get("details", ())]:
            if isinstance(entry.get("path"), str):
                entry["path"] = pointer(entry["path"])
    return result
