"""The expression editor's JSON: the function catalog, live checks and "try it" against drafts.

``POST /designer/api/expressions/check`` and ``…/evaluate`` take the form to check against as
``definition`` (the editor's unsaved draft dict, possibly invalid elsewhere: it is loaded
leniently, every usable field counts) or ``form`` (a key: the saved draft if there is one, else
the published form; design permission needed). ``table`` (``"items"``, ``"items.readings"``)
checks inside a sub-table row; ``expect`` (``boolean``/``number``/``text``/``date``/``datetime``)
is the type the result must have. The checking itself is :mod:`engine.services.expression_trial`,
shared with the API's ``/api/v1/expressions/*``.
"""
from __future__ import annotations

from dataclasses import replace

from datetime import datetime, timezone
from typing import Any, Mapping

from flask import jsonify

from designer.blueprint import bp
from engine.errors import NotFound
from engine.expressions import EvalContext, function_catalog
from engine.expressions.functions.registry import CATEGORIES
from engine.definitions.scopes import SYSTEM_NAMES
from engine.i18n import msg
from engine.services import designs
from engine.services import expression_trial as trial
from engine.services import forms as form_service
from engine.types import Actor
from runtime.api.replies import BadInput, json_object, json_ready, member
from runtime.auth import current_actor, login_required
from runtime.db import db
from runtime.i18n import current_lang

_CATALOGS: dict[str, dict] = {}
MAX_SOURCE = 20_000





# ---------------------------------------------------------------------------- the form to check against

def saved_definition(actor: Actor, key: str) -> dict:
    """The designer's saved draft of form ``key``, else its published definition (design permission needed)."""
    definition = designs.get_draft(db(), actor, "form", key)["definition"]
    if not isinstance(definition, Mapping):
        raise NotFound(msg("表单“{k}”没有可用的定义", "Form '{k}' has no usable definition", k=key))
    return dict(definition)


def _target(body: Mapping) -> trial.Target:
    """The scope named by the request body (``definition`` wins over ``form``)."""
    actor = current_actor()
    definition = member(body, "definition", dict, required=False)
    key = member(body, "form", str, required=False)
    table = member(body, "table", str, required=False)
    known = form_service.published_forms(db(), actor.tenant_id)
    if definition is None and key:
        definition = saved_definition(actor, key)
    if definition is None:
        form, problems = None, []
    else:
        form, problems = trial.lenient_form(definition, known)
    try:
        where = trial.target(form, table or None, known, tuple(problems))
    except trial.TrialInputError as exc:
        raise BadInput(exc.message, exc.field) from None
    trigger = member(body, "trigger", dict, required=False)
    if trigger is not None and not table:
        # a rule's condition and mappings also see what its trigger brings: old.<field>, the
        # violated SPC rules, a webhook's payload … (the same names the rule check uses)
        scope = trial.rule_names(trigger, form, known)
        if scope is not None:
            where = replace(where, scope=scope)
    return where


def _source(body: Mapping) -> str:
    source = member(body, "expression", str)
    if len(source) > MAX_SOURCE:
        raise BadInput(msg("表达式太长（最多 {n} 个字符）", "The expression is too long (at most {n} characters)",
                           n=MAX_SOURCE), "expression")
    return source


def _expect(body: Mapping) -> str | None:
    expect = member(body, "expect", str, required=False)
    if expect and expect not in trial.EXPECTABLE:
        raise BadInput(msg("“expect”必须是 {k} 之一", "'expect' must be one of {k}", k=", ".join(trial.EXPECTABLE)),
                       "expect")
    return expect or None


# ---------------------------------------------------------------------------- routes

@bp.get("/api/expressions/catalog")
@login_required
def expression_catalog():
    """Every registered function (name, signature, one-line doc, example, category) and the system fields."""
    lang = current_lang()
    if lang not in _CATALOGS:
        _CATALOGS[lang] = {
            "functions": [{**row, "doc": _first_sentence(row.get("doc")), "help": row.get("doc") or ""}
                          for row in function_catalog(lang)],
            "categories": [{"key": k, "label": v.get(lang) if hasattr(v, "get") else str(v)}
                           for k, v in CATEGORIES.items()],
            "system_fields": [{"key": "id", "label": {"zh-CN": "记录 ID", "en": "Record id"}, "type": "id"}] + [
                {"key": k, "label": {"zh-CN": zh, "en": en}, "type": str(t)} for k, t, zh, en in SYSTEM_NAMES],
        }
    return jsonify(_CATALOGS[lang])


def _first_sentence(doc: Any) -> str:
    """The one-line description: the doc's first sentence (the full text goes out as ``help``)."""
    text = (doc if isinstance(doc, str) else "").strip().split("\n", 1)[0].strip()
    cuts = [i + 1 for i in (text.find("。"), text.find(". ")) if i >= 0]
    return text[:min(cuts)].strip() if cuts else text


@bp.post("/api/expressions/check")
@login_required
def expression_check():
    """``{ok, type, errors:[{line, column, end_column?, message}]}`` — never an error status for a bad expression."""
    body = json_object()
    source, expect = _source(body), _expect(body)
    where = _target(body)
    return jsonify(trial.check_source(source, where, expect, lang=current_lang()))


@bp.post("/api/expressions/evaluate")
@login_required
def expression_evaluate():
    """``{value, type}`` of the expression on sample ``data``; 422 with positions or field errors otherwise."""
    body = json_object()
    source = _source(body)
    _expect(body)                 # read like check's, so a bad value is reported the same way
    data = member(body, "data", dict, required=False, default={})
    where = _target(body)
    actor = current_actor()
    ctx = EvalContext(user_id=actor.user_id, now=datetime.now(timezone.utc), lang=current_lang())
    value, type_name = trial.evaluate_source(source, where, data, ctx)
    return jsonify({"value": json_ready(value), "type": type_name})
