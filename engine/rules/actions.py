"""What a rule does: one registered class per action type.

An action declares the JSON Schema of its options, checks them against the forms (expressions
type-checked in the trigger's scope, target fields that exist and accept the value), and runs
through a :class:`RunContext` — the services layer's implementation of "create a record",
"notify", … in the run's transaction — so this module stays free of storage and I/O. Adding an
action type = one class here registered with ``@action``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Iterable, Iterator, Mapping, Protocol

from engine.definitions.model import FormDef
from engine.errors import Problem
from engine.expressions.types import Scope
from engine.i18n import Msg, msg
from engine.registry import Registry
from engine.rules.model import ActionDef
from engine.rules.triggers import CheckContext

MAX_UPDATES = 1000          # records one update/set-status action may change
NOT_WRITABLE = frozenset({"formula", "serial", "lookup"})
STATUS_PATTERN = r"^[a-z][a-z0-9_]{0,29}$"
_EXPR_MAP = {"type": "object", "maxProperties": 200,
             "propertyNames": {"$ref": "common.schema.json#/$defs/identifier"},
             "additionalProperties": {"type": "string", "minLength": 1, "maxLength": 4000}}
_TARGET = {"type": "object", "additionalProperties": False, "required": ["form"],
           "properties": {"form": {"$ref": "common.schema.json#/$defs/identifier"}, "match": _EXPR_MAP,
                          "filter": {"type": "string", "maxLength": 4000}}}


class RunContext(Protocol):
    """What actions may do while a rule runs (implemented by ``engine.services.rule_runs``)."""

    rule_key: str
    form: FormDef | None

    def evaluate(self, source: str, row: Mapping[str, Any] | None = None) -> Any: ...
    def evaluate_in_row(self, source: str, subtable: str, row: Mapping[str, Any]) -> Any: ...
    def trigger_rows(self, subtable: str) -> list[Mapping[str, Any]]: ...
    def render(self, template: str) -> str: ...
    def render_json(self, template: Any) -> Any: ...
    def create_record(self, form_key: str, data: Mapping[str, Any]) -> dict: ...
    def find_records(self, form_key: str, match: Mapping[str, Any], filter: str | None, limit: int) -> list[int]: ...
    def trigger_record(self) -> tuple[str, int] | None: ...
    def last_created(self) -> tuple[str, int] | None: ...
    def update_record(self, form_key: str, record_id: int, data: Mapping[str, Any]) -> bool: ...
    def set_status(self, form_key: str, record_id: int, status: str) -> bool: ...
    def notify(self, to: Mapping[str, Any], subject: str, body: str, channels: list[str], robots: list[str]) -> dict: ...
    def call_webhook(self, url: str, body: Any, secret: str | None, timeout: float,
                     headers: Mapping[str, str]) -> int: ...
    def start_flow(self, form_key: str, record_id: int, flow_key: str | None) -> int | None: ...
    def aggregate(self, dataset: Mapping[str, Any]) -> list[dict]: ...
    def row_scope(self, dataset: Mapping[str, Any]) -> Scope: ...
    def evaluate_with(self, source: str, scope: Scope, values: Mapping[str, Any]) -> Any: ...
    def record_sampling_lot(self, supplier: Any, part: Any, *, lot_size: Any, level: Any, aql: Any,
                            defects: Any, defect_class: str) -> dict: ...


@dataclass(frozen=True)
class ActionCheck(CheckContext):
    """CheckContext plus the names the rule's expressions see."""

    scope: Scope | None = None


class Action:
    """Base class: override ``run`` and, as needed, ``check``."""

    type: ClassVar[str] = ""
    label: ClassVar[Msg] = Msg("", "")
    options_schema: ClassVar[dict] = {}
    required_options: ClassVar[tuple[str, ...]] = ()

    def check(self, action: ActionDef, ctx: ActionCheck) -> Iterable[Problem]:
        return ()

    def run(self, action: ActionDef, run: RunContext) -> dict:
        raise NotImplementedError


ACTIONS: Registry[Action] = Registry("action type")


def action(cls: type[Action]) -> type[Action]:
    ACTIONS.register(cls.type, cls())
    return cls


# ---- shared checks ---------------------------------------------------------------------------------

def expression_problems(source: Any, scope: Scope | None, path: str, expected=None, what: Msg | None = None
                        ) -> list[Problem]:
    """Problems of an expression (position in the message), and of its type against ``expected``."""
    from engine.expressions import check
    from engine.expressions.typerules import fits, type_name
    if scope is None:
        return []
    if not isinstance(source, str) or not source.strip():
        return [Problem(path, msg("表达式不能为空", "The expression is empty"))]
    result = check(source, scope)
    what = what or Msg("表达式", "Expression")
    problems = [Problem(path, Msg(f"{what.zh}第 {e.line} 行第 {e.column} 列：{e.message.zh}",
                                  f"{what.en}, line {e.line}, column {e.column}: {e.message.en}")) for e in result.errors]
    if not problems and expected is not None and result.type is not None and not fits(result.type, expected):
        got, want = type_name(result.type), type_name(expected)
        problems.append(Problem(path, msg("表达式结果是{g}，此处需要{w}", "The expression gives {ge}, but {we} is needed here",
                                          g=got.zh, w=want.zh, ge=got.en, we=want.en)))
    return problems


def _target_form(ctx: CheckContext, key: Any, path: str) -> tuple[FormDef | None, list[Problem]]:
    form = ctx.forms.get(key) if isinstance(key, str) else None
    if form is None:
        return None, [Problem(path, msg("表单“{k}”不存在或未发布", "Form '{k}' does not exist or is not published", k=key))]
    return form, []


def mapping_problems(target: FormDef, mapping: Mapping[str, Any], scope: Scope | None, path: str,
                     fields=None, types_at: tuple[str, ...] = ()) -> Iterator[Problem]:
    """Each ``target field ← expression`` of a mapping: the field exists, takes input, and the types fit."""
    from engine.definitions import form_types
    fields = target.fields if fields is None else fields
    by_key = {f.key: f for f in fields}
    types = form_types(target).types
    for key, source in (mapping or {}).items():
        f = by_key.get(key)
        where = f"{path}.{key}"
        if f is None:
            yield Problem(where, msg("表单“{f}”没有字段“{k}”", "Form '{f}' has no field '{k}'", f=target.key, k=key))
        elif f.type in NOT_WRITABLE or f.type == "subtable":
            yield Problem(where, msg("字段“{k}”由系统计算或是子表，不能直接赋值", "Field '{k}' is computed or a sub-table "
                                     "and cannot be assigned", k=key))
        else:
            yield from expression_problems(source, scope, where, types.get(types_at + (key,)))


MATCH_COLUMNS = ("id", "serial_no", "status", "created_by")


def match_problems(target: FormDef, match: Mapping[str, Any], scope: Scope | None, path: str) -> Iterator[Problem]:
    """Each ``target field = expression`` a target is found by: any top-level field (computed ones
    too: a serial number finds its record) or a system column; the types fit."""
    from engine.definitions import form_scope
    names = form_scope(target)
    by_key = {f.key: f for f in target.fields}
    for key, source in (match or {}).items():
        f = by_key.get(key)
        if (f is None and key not in MATCH_COLUMNS) or (f is not None and f.type == "subtable"):
            yield Problem(f"{path}.{key}", msg("表单“{f}”没有可用于匹配的字段“{k}”", "Form '{f}' has no field '{k}' to "
                                               "match on", f=target.key, k=key))
            continue
        expected = names.lookup(key)
        yield from expression_problems(source, scope, f"{path}.{key}", expected if not isinstance(expected, Scope) else None)


def _target_problems(ctx: ActionCheck, target: Any, path: str) -> tuple[FormDef | None, list[Problem]]:
    """A {form, match, filter} target: the form exists; match keys are its fields; the filter checks."""
    if not isinstance(target, Mapping):
        return None, []
    form, problems = _target_form(ctx, target.get("form"), f"{path}.form")
    if form is None:
        return None, problems
    problems += list(match_problems(form, target.get("match") or {}, ctx.scope, f"{path}.match"))
    if target.get("filter"):
        from engine.definitions import form_scope
        problems += expression_problems(target["filter"], form_scope(form), f"{path}.filter",
                                        what=Msg("筛选条件", "Filter"))
    return form, problems


def _find_targets(run: RunContext, target: Mapping[str, Any]) -> tuple[str, list[int]]:
    match = {k: run.evaluate(v) for k, v in (target.get("match") or {}).items()}
    return target["form"], run.find_records(target["form"], match, target.get("filter"), MAX_UPDATES)


def _names_users(f, ctx: CheckContext) -> bool:
    """A user field, or a lookup showing a user field of the referenced record (the supplier's contact)."""
    if f.type == "user":
        return True
    if f.type != "lookup" or ctx.form is None:
        return False
    via = next((r for r in ctx.form.fields if r.key == f.option("reference") and r.type == "reference"), None)
    target = ctx.forms.get(via.option("form")) if via is not None else None
    shown = next((t for t in target.fields if t.key == f.option("field")), None) if target is not None else None
    return shown is not None and shown.type == "user"


# ---- the actions -------------------------------------------------------------------------------------

@action
class CreateRecord(Action):
    """Create a record in a form; fields ← expressions over the trigger; sub-table rows from a source sub-table."""

    type = "create_record"
    label = Msg("新建记录", "Create a record")
    options_schema = {
        "form": {"$ref": "common.schema.json#/$defs/identifier"},
        "values": _EXPR_MAP,
        "rows": {"type": "object", "maxProperties": 20, "additionalProperties": {
            "type": "object", "additionalProperties": False, "required": ["values"],
            "properties": {"from": {"$ref": "common.schema.json#/$defs/identifier"},
                           "where": {"type": "string", "maxLength": 4000}, "values": _EXPR_MAP}}},
    }
    required_options = ("form",)

    def check(self, action, ctx):
        path = ctx.path
        target, problems = _target_form(ctx, action.option("form"), f"{path}.form")
        yield from problems
        if target is None:
            return
        yield from mapping_problems(target, action.option("values") or {}, ctx.scope, f"{path}.values")
        for key, spec in (action.option("rows") or {}).items():
            yield from self._rows_problems(target, key, spec, ctx, f"{path}.rows.{key}")

    def _rows_problems(self, target: FormDef, key: str, spec: Mapping, ctx: ActionCheck, path: str) -> Iterator[Problem]:
        from engine.definitions import row_scope
        sub = next((f for f in target.fields if f.key == key and f.type == "subtable"), None)
        if sub is None:
            yield Problem(path, msg("表单“{f}”没有子表“{k}”", "Form '{f}' has no sub-table '{k}'", f=target.key, k=key))
            return
        scope = ctx.scope
        source = spec.get("from")
        if source is not None:
            if ctx.form is None or not any(f.key == source and f.type == "subtable" for f in ctx.form.fields):
                yield Problem(f"{path}.from", msg("触发表单没有子表“{k}”", "The trigger's form has no sub-table '{k}'", k=source))
                return
            scope = row_scope(ctx.form, source)
        if spec.get("where"):
            yield from expression_problems(spec["where"], scope, f"{path}.where", what=Msg("行条件", "Row condition"))
        yield from mapping_problems(target, spec.get("values") or {}, scope, f"{path}.values", sub.fields, (key,))

    def run(self, action, run):
        data = {k: run.evaluate(v) for k, v in (action.option("values") or {}).items()}
        for key, spec in (action.option("rows") or {}).items():
            data[key] = self._rows(run, spec)
        created = run.create_record(action.option("form"), data)
        return {"form": action.option("form"), "record_id": created["id"], "serial_no": created.get("serial_no")}

    @staticmethod
    def _rows(run: RunContext, spec: Mapping[str, Any]) -> list[dict]:
        source, where, values = spec.get("from"), spec.get("where"), spec.get("values") or {}
        if source is None:
            return [{k: run.evaluate(v) for k, v in values.items()}]
        rows = []
        for row in run.trigger_rows(source):
            if where and not run.evaluate_in_row(where, source, row):
                continue
            rows.append({k: run.evaluate_in_row(v, source, row) for k, v in values.items()})
        return rows


@action
class UpdateRecords(Action):
    """Change the records matching ``match`` (field = expression, all of them) and ``filter``."""

    type = "update_records"
    label = Msg("修改匹配的记录", "Update matching records")
    options_schema = {"target": _TARGET, "values": _EXPR_MAP}
    required_options = ("target", "values")

    def check(self, action, ctx):
        form, problems = _target_problems(ctx, action.option("target"), f"{ctx.path}.target")
        yield from problems
        if form is not None:
            yield from mapping_problems(form, action.option("values") or {}, ctx.scope, f"{ctx.path}.values")

    def run(self, action, run):
        form_key, ids = _find_targets(run, action.option("target"))
        data = {k: run.evaluate(v) for k, v in (action.option("values") or {}).items()}
        changed = [i for i in ids if run.update_record(form_key, i, data)]
        return {"form": form_key, "matched": len(ids), "updated": changed[:100], "count": len(changed)}


@action
class SetStatus(Action):
    """Set the status of the triggering record (default) or of matching records, e.g. *frozen*."""

    type = "set_status"
    label = Msg("设置记录状态", "Set record status")
    options_schema = {"status": {"type": "string", "pattern": STATUS_PATTERN}, "target": _TARGET}
    required_options = ("status",)

    def check(self, action, ctx):
        if action.option("target") is None and ctx.form is None:
            yield Problem(f"{ctx.path}.target", msg("此触发方式没有记录，请指定目标表单", "This trigger has no record: "
                                                    "name a target form"))
        _form, problems = _target_problems(ctx, action.option("target"), f"{ctx.path}.target")
        yield from problems

    def run(self, action, run):
        if action.option("target") is None:
            found = run.trigger_record()
            form_key, ids = (found[0], [found[1]]) if found else ("", [])
        else:
            form_key, ids = _find_targets(run, action.option("target"))
        changed = [i for i in ids if run.set_status(form_key, i, action.option("status"))]
        return {"form": form_key, "status": action.option("status"), "records": changed[:100], "count": len(changed)}


@action
class Notify(Action):
    """Tell people: in-app and e-mail to users, roles, user fields or the submitter; group robots."""

    type = "notify"
    label = Msg("发送通知", "Notify")
    options_schema = {
        "to": {"type": "object", "additionalProperties": False, "properties": {
            "users": {"type": "array", "maxItems": 200, "items": {"type": "integer", "minimum": 1}},
            "roles": {"type": "array", "maxItems": 50, "items": {"$ref": "common.schema.json#/$defs/identifier"}},
            "fields": {"type": "array", "maxItems": 50, "items": {"$ref": "common.schema.json#/$defs/identifier"}},
            "submitter": {"type": "boolean"}}},
        "channels": {"type": "array", "uniqueItems": True, "items": {"enum": ["in_app", "email"]}},
        "robots": {"type": "array", "maxItems": 20, "items": {"$ref": "common.schema.json#/$defs/identifier"}},
        "subject": {"type": "string", "minLength": 1, "maxLength": 2000},
        "body": {"type": "string", "maxLength": 20000},
    }
    required_options = ("subject",)

    def check(self, action, ctx):
        from engine.rules.templates import syntax_problem
        to, robots = action.option("to") or {}, action.option("robots") or []
        if not any(to.get(k) for k in ("users", "roles", "fields", "submitter")) and not robots:
            yield Problem(f"{ctx.path}.to", msg("请指定通知对象（用户、角色、人员字段、提交人或群机器人）",
                                                "Say whom to notify (users, roles, user fields, the submitter or robots)"))
        for i, key in enumerate(to.get("fields") or ()):
            f = next((f for f in ctx.form.fields if f.key == key), None) if ctx.form is not None else None
            if f is None or not _names_users(f, ctx):
                yield Problem(f"{ctx.path}.to.fields[{i}]", msg("“{k}”不是表单中的人员字段（或引用人员的查找字段）",
                                                                 "'{k}' is not a user field of the form (or a lookup of "
                                                                 "one)", k=key))
        if to.get("submitter") and ctx.form is None:
            yield Problem(f"{ctx.path}.to.submitter", msg("此触发方式没有提交人", "This trigger has no submitter"))
        for name in ("subject", "body"):
            problem = syntax_problem(action.option(name)) if action.option(name) is not None else None
            if problem is not None:
                yield Problem(f"{ctx.path}.{name}", problem)

    def run(self, action, run):
        channels = list(action.option("channels") or ["in_app", "email"])
        return run.notify(action.option("to") or {}, run.render(action.option("subject")),
                          run.render(action.option("body") or ""), channels, list(action.option("robots") or ()))


@action
class CallWebhook(Action):
    """POST a JSON payload (a template) to a URL, signed with HMAC-SHA256, retried, logged."""

    type = "call_webhook"
    label = Msg("调用 Webhook", "Call a webhook")
    options_schema = {
        "url": {"type": "string", "pattern": "^https?://", "maxLength": 2000},
        "payload": {},
        "secret": {"type": "string", "minLength": 8, "maxLength": 128},
        "timeout": {"type": "number", "minimum": 1, "maximum": 30},
        "headers": {"type": "object", "maxProperties": 20,
                    "propertyNames": {"pattern": "^[A-Za-z0-9-]{1,60}$"},
                    "additionalProperties": {"type": "string", "maxLength": 2000}},
    }
    required_options = ("url",)

    def check(self, action, ctx):
        from engine.rules.templates import json_problems, syntax_problem
        for path, problem in json_problems(action.option("payload"), f"{ctx.path}.payload"):
            yield Problem(path, problem)
        problem = syntax_problem(action.option("url"))
        if problem is not None:
            yield Problem(f"{ctx.path}.url", problem)
        for name in (action.option("headers") or {}):
            if name.lower() in ("host", "content-length", "content-type") or name.lower().startswith("x-qms-"):
                yield Problem(f"{ctx.path}.headers.{name}", msg("不能设置请求头“{h}”", "Header '{h}' cannot be set", h=name))

    def run(self, action, run):
        payload = action.option("payload")
        body = run.render_json(payload) if payload is not None else run.render_json(None)
        headers = {k: run.render(v) for k, v in (action.option("headers") or {}).items()}
        delivery = run.call_webhook(run.render(action.option("url")), body, action.option("secret"),
                                    float(action.option("timeout") or 10), headers)
        return {"delivery_id": delivery}


@action
class StartFlow(Action):
    """Start an approval flow on the triggering record or on the record an earlier action created."""

    type = "start_flow"
    label = Msg("发起流程", "Start a flow")
    options_schema = {"flow": {"$ref": "common.schema.json#/$defs/identifier"},
                      "record": {"enum": ["trigger", "created"]}}

    def check(self, action, ctx):
        if action.option("flow") is not None and action.option("flow") not in ctx.flows:
            yield Problem(f"{ctx.path}.flow", msg("流程“{k}”不存在或未发布", "Flow '{k}' does not exist or is not published",
                                                  k=action.option("flow")))
        if (action.option("record") or "trigger") == "trigger" and ctx.form is None:
            yield Problem(f"{ctx.path}.record", msg("此触发方式没有记录，请用 created（前面动作新建的记录）",
                                                    "This trigger has no record; use 'created' (the record an earlier "
                                                    "action created)"))

    def run(self, action, run):
        target = run.last_created() if action.option("record") == "created" else run.trigger_record()
        if target is None:
            return {"skipped": "no record"}
        instance = run.start_flow(target[0], target[1], action.option("flow"))
        return {"form": target[0], "record_id": target[1], "instance_id": instance}
