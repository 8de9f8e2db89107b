"""What fires a rule: one registered class per trigger type.

A trigger declares the event kinds it listens to, the JSON Schema of its options, its semantic
checks, whether an event matches, and the names its rule's expressions see (the scope) with
the values that go with them (:meth:`Trigger.inputs`). Adding a trigger type = one class here
registered with ``@trigger``; the rule schema, the checker and the designer read the registry.

Events are plain JSON dicts (they are stored in the outbox): ``kind`` (``record.created``,
``record.updated``, ``record.deleted``, ``flow.entered``, ``flow.completed``, ``flow.overdue``,
``schedule``, ``webhook``, ``spc.violation``), ``form``, ``record_id``, ``values`` (the record as
JSON: fields plus system values), ``old`` (before an update), ``changed`` (keys), ``flow``
(``{"flow", "node", "outcome"}``), ``payload`` (an inbound webhook body), ``violation``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Iterable, Iterator, Mapping

from engine.definitions.model import FormDef
from engine.errors import Problem
from engine.expressions.types import (BOOLEAN, DATE, DATETIME, EMPTY_SCOPE, NUMBER, TEXT, ExprType, Scope,
                                      list_of)
from engine.i18n import Msg, msg
from engine.registry import Registry
from engine.rules.model import TriggerDef
from engine.rules.values import record_values

MAX_WEBHOOK_FIELDS = 100
PAYLOAD_TYPES: dict[str, ExprType] = {"text": TEXT, "number": NUMBER, "boolean": BOOLEAN, "date": DATE,
                                      "datetime": DATETIME, "list": list_of(TEXT)}


@dataclass(frozen=True)
class CheckContext:
    """What a trigger's or action's checks may consult."""

    form: FormDef | None                           # the rule's form (published), if any
    forms: Mapping[str, FormDef]                   # every published form of the tenant, by key
    flows: Mapping[str, Any]                       # published flows by key (FlowDef)
    path: str                                      # JSON path of the trigger / action


class Trigger:
    """Base class: safe defaults; override what the type needs."""

    type: ClassVar[str] = ""
    label: ClassVar[Msg] = Msg("", "")
    events: ClassVar[frozenset[str]] = frozenset()
    needs_form: ClassVar[bool] = True
    options_schema: ClassVar[dict] = {}
    required_options: ClassVar[tuple[str, ...]] = ()

    def check(self, trigger: TriggerDef, ctx: CheckContext) -> Iterable[Problem]:
        return ()

    def matches(self, trigger: TriggerDef, event: Mapping[str, Any]) -> bool:
        return event.get("kind") in self.events

    def scope(self, trigger: TriggerDef, form: FormDef | None, forms: Mapping[str, FormDef] | None = None) -> Scope:
        """Names the rule's condition and actions see."""
        if form is None:
            return EMPTY_SCOPE
        from engine.definitions import form_scope
        return form_scope(form, forms)

    def inputs(self, trigger: TriggerDef, event: Mapping[str, Any], form: FormDef | None) -> dict[str, Any]:
        """The values for :meth:`scope`'s names, from a stored event."""
        return record_values(form, event.get("values")) if form is not None else {}


TRIGGERS: Registry[Trigger] = Registry("trigger type")


def trigger(cls: type[Trigger]) -> type[Trigger]:
    TRIGGERS.register(cls.type, cls())
    return cls


def _field_keys(form: FormDef | None) -> set[str]:
    return {f.key for f in form.fields} if form is not None else set()


def _with_old(scope: Scope) -> Scope:
    """The form's scope plus ``old``: the values before the change (``old.status``)."""
    fields = tuple((k, v) for k, v in scope.fields if not isinstance(v, Scope) or not v.record)
    old = Scope(fields=fields, record=True)
    return Scope(fields=scope.fields + (("old", old),), parent=scope.parent, labels=scope.labels)


@trigger
class RecordCreated(Trigger):
    type = "record_created"
    label = Msg("新建记录时", "When a record is created")
    events = frozenset({"record.created"})


@trigger
class RecordUpdated(Trigger):
    type = "record_updated"
    label = Msg("修改记录时", "When a record is changed")
    events = frozenset({"record.updated"})

    def scope(self, trigger, form, forms=None):
        return _with_old(super().scope(trigger, form, forms))

    def inputs(self, trigger, event, form):
        values = super().inputs(trigger, event, form)
        values["old"] = record_values(form, event.get("old")) if form is not None else None
        return values


@trigger
class FieldChanged(RecordUpdated):
    type = "field_changed"
    label = Msg("字段值变化时", "When a field changes")
    options_schema = {"fields": {"type": "array", "minItems": 1, "maxItems": 50,
                                 "items": {"$ref": "common.schema.json#/$defs/identifier"}}}
    required_options = ("fields",)

    def check(self, trigger, ctx):
        known = _field_keys(ctx.form)
        for i, key in enumerate(trigger.option("fields") or ()):
            if ctx.form is not None and key not in known:
                yield Problem(f"{ctx.path}.fields[{i}]", msg("表单没有字段“{k}”", "The form has no field '{k}'", k=key))

    def matches(self, trigger, event):
        return super().matches(trigger, event) and bool(set(trigger.option("fields") or ()) & set(event.get("changed") or ()))


@trigger
class RecordDeleted(Trigger):
    type = "record_deleted"
    label = Msg("删除记录时", "When a record is deleted")
    events = frozenset({"record.deleted"})


class _FlowTrigger(Trigger):
    options_schema = {"flow": {"$ref": "common.schema.json#/$defs/identifier"},
                      "nodes": {"type": "array", "maxItems": 50, "items": {"$ref": "common.schema.json#/$defs/identifier"}}}
    required_options = ("flow",)

    def check(self, trigger, ctx):
        flow = ctx.flows.get(trigger.option("flow"))
        if flow is None:
            yield Problem(f"{ctx.path}.flow", msg("流程“{k}”不存在或未发布", "Flow '{k}' does not exist or is not published",
                                                  k=trigger.option("flow")))
            return
        if ctx.form is not None and flow.form != ctx.form.key:
            yield Problem(f"{ctx.path}.flow", msg("流程“{k}”不属于表单“{f}”", "Flow '{k}' does not belong to form '{f}'",
                                                  k=flow.key, f=ctx.form.key))
        ids = {n.id for n in flow.nodes}
        for i, node in enumerate(trigger.option("nodes") or ()):
            if node not in ids:
                yield Problem(f"{ctx.path}.nodes[{i}]", msg("流程中没有节点“{n}”", "The flow has no node '{n}'", n=node))

    def matches(self, trigger, event):
        info = event.get("flow") or {}
        nodes = trigger.option("nodes") or ()
        return (super().matches(trigger, event) and info.get("flow") == trigger.option("flow")
                and (not nodes or info.get("node") in nodes))


@trigger
class FlowNodeEntered(_FlowTrigger):
    type = "flow_node_entered"
    label = Msg("流程到达节点时", "When a flow reaches a node")
    events = frozenset({"flow.entered"})


@trigger
class FlowNodeCompleted(_FlowTrigger):
    type = "flow_node_completed"
    label = Msg("流程节点完成时", "When a flow node is completed")
    events = frozenset({"flow.completed"})
    options_schema = {**_FlowTrigger.options_schema, "outcome": {"enum": ["approved", "rejected", "any"]}}

    def matches(self, trigger, event):
        outcome = trigger.option("outcome") or "any"
        return super().matches(trigger, event) and outcome in ("any", (event.get("flow") or {}).get("outcome"))


@trigger
class FlowNodeOverdue(_FlowTrigger):
    type = "flow_node_overdue"
    label = Msg("流程节点超时时", "When a flow task is overdue")
    events = frozenset({"flow.overdue"})


@trigger
class Schedule(Trigger):
    """A cron time. With ``records`` (and the rule's ``form``) the run fans out: one run per record
    of the form matching ``records.filter``, whose values the condition and actions see — "every
    day, for each certificate expiring within 30 days, remind its owner"."""

    type = "schedule"
    label = Msg("按计划时间", "On a schedule")
    events = frozenset({"schedule"})
    needs_form = False
    MAX_RECORDS = 1000          # records one scheduled time may fan out to
    options_schema = {"cron": {"type": "string", "minLength": 9, "maxLength": 120},
                      "timezone": {"type": "string", "minLength": 1, "maxLength": 64},
                      "records": {"type": "object", "additionalProperties": False,
                                  "properties": {"filter": {"type": "string", "maxLength": 4000}}}}
    required_options = ("cron",)

    def check(self, trigger, ctx):
        from engine.rules.schedule import cron_problem, zone_problem
        problem = cron_problem(trigger.option("cron"))
        if problem is not None:
            yield Problem(f"{ctx.path}.cron", problem)
        if trigger.option("timezone") is not None and zone_problem(trigger.option("timezone")) is not None:
            yield Problem(f"{ctx.path}.timezone", zone_problem(trigger.option("timezone")))
        records = trigger.option("records")
        if records is not None and ctx.form is None:
            yield Problem(f"{ctx.path}.records", msg("按记录执行需要指定规则的表单（form）",
                                                     "Running per record needs the rule's form"))
        elif records is not None and records.get("filter"):
            from engine.definitions import form_scope
            from engine.rules.actions import expression_problems
            yield from expression_problems(records["filter"], form_scope(ctx.form, ctx.forms), f"{ctx.path}.records.filter",
                                           what=Msg("筛选条件", "Filter"))

    def per_record(self, trigger) -> bool:
        return trigger.option("records") is not None

    def scope(self, trigger, form, forms=None):
        return super().scope(trigger, form, forms) if self.per_record(trigger) else EMPTY_SCOPE

    def inputs(self, trigger, event, form):
        return super().inputs(trigger, event, form) if self.per_record(trigger) else {}


@trigger
class Webhook(Trigger):
    """An inbound webhook: a tenant's secret URL; declared payload fields become expression names."""

    type = "webhook"
    label = Msg("收到外部系统推送（Webhook）时", "When an inbound webhook is called")
    events = frozenset({"webhook"})
    needs_form = False
    options_schema = {"fields": {"type": "array", "maxItems": MAX_WEBHOOK_FIELDS, "items": {
        "type": "object", "required": ["key", "type"], "additionalProperties": False,
        "properties": {"key": {"$ref": "common.schema.json#/$defs/identifier"},
                       "path": {"type": "string", "minLength": 1, "maxLength": 200},
                       "type": {"enum": list(PAYLOAD_TYPES)},
                       "required": {"type": "boolean"}}}}}

    def check(self, trigger, ctx):
        seen: set[str] = set()
        for i, spec in enumerate(trigger.option("fields") or ()):
            if spec.get("key") in seen:
                yield Problem(f"{ctx.path}.fields[{i}].key", msg("字段名“{k}”重复", "Duplicate key '{k}'", k=spec.get("key")))
            seen.add(spec.get("key"))

    def scope(self, trigger, form, forms=None):
        return Scope.of((spec["key"], PAYLOAD_TYPES[spec["type"]]) for spec in trigger.option("fields") or ())

    def inputs(self, trigger, event, form):
        from engine.rules.values import payload_values
        return payload_values(trigger.option("fields") or (), event.get("payload"))


@trigger
class SpcViolation(Trigger):
    """A newly saved value violates a run rule on its control chart.

    :mod:`engine.services.spc_monitor` computes the chart when a record of the form is created or
    its ``field`` changes: the SPC report named by ``report`` (on the same form, its ``value``
    being ``field``), else an I-MR chart for a field of the record or an X̄-R chart with one
    subgroup per record for a sub-table column, over the last ``last`` subgroups. It fires when
    the record's own point is flagged by one of ``rules`` (default: any). The rule checker does
    not see reports, so whether ``report`` names a fitting SPC report is checked when the rule
    runs: an unfit one leaves a failed run that says why.
    """

    type = "spc_violation"
    label = Msg("SPC 判异时", "When an SPC run rule is violated")
    events = frozenset({"spc.violation"})
    options_schema = {"field": {"type": "string", "minLength": 1, "maxLength": 120},
                      "rules": {"type": "array", "maxItems": 8, "items": {"type": "integer", "minimum": 1, "maximum": 8}},
                      "report": {"$ref": "common.schema.json#/$defs/identifier"},
                      "last": {"type": "integer", "minimum": 5, "maximum": 1000},
                      "by": {"type": "array", "maxItems": 5, "uniqueItems": True,
                             "items": {"$ref": "common.schema.json#/$defs/identifier"}}}
    required_options = ("field",)

    def check(self, trigger, ctx):
        if ctx.form is None:
            return
        from engine.reports.paths import PathError, resolve     # here: engine.reports imports the rule checker
        path = str(trigger.option("field") or "")
        try:
            ref = resolve(path, ctx.form, ctx.forms)
        except PathError as exc:
            yield Problem(f"{ctx.path}.field", exc.message)
            return
        for i, key in enumerate(trigger.option("by") or ()):
            found = next((f for f in ctx.form.fields if f.key == key), None)
            if found is None or found.type == "subtable":
                yield Problem(f"{ctx.path}.by[{i}]", msg("“{k}”不是表单的字段，不能用来区分控制图",
                                                         "'{k}' is not a field of the form to separate the charts by",
                                                         k=key))
        if not ref.numeric or ref.via is not None or ref.field is None:
            yield Problem(f"{ctx.path}.field", msg("SPC 字段“{k}”应为表单的数字字段或其子表的数字列",
                                                   "The SPC field '{k}' must be a number field of the form or a number "
                                                   "column of one of its sub-tables", k=path))

    def matches(self, trigger, event):
        violation = event.get("violation") or {}
        wanted = set(trigger.option("rules") or range(1, 9))
        return (super().matches(trigger, event) and violation.get("field") == trigger.option("field")
                and bool(wanted & set(violation.get("rules") or ())))

    def scope(self, trigger, form, forms=None):
        base = super().scope(trigger, form, forms)
        return Scope(fields=base.fields + (("violated_rules", list_of(NUMBER)),), parent=base.parent, labels=base.labels)

    def inputs(self, trigger, event, form):
        values = super().inputs(trigger, event, form)
        values["violated_rules"] = list((event.get("violation") or {}).get("rules") or ())
        return values


def event_kinds() -> set[str]:
    """Every event kind some trigger listens to."""
    return {kind for t in TRIGGERS.all() for kind in t.events}


def triggers_for(kind: str) -> Iterator[str]:
    """Trigger types listening to an event ``kind``."""
    return (key for key, t in TRIGGERS.items() if kind in t.events)


