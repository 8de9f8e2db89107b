"""Readable descriptions of what a tried rule action would do (see :mod:`engine.services.rule_trial`).

Each action type's notes (effects of a :class:`~engine.services.rule_trial_context.TrialContext`)
become ``{"type", "label", "summary", "details": [{label, text, source?, path?}], "problems":
[{path, message}]}`` in the designer's language. Values are shown as a user reads them (option
labels, people's names, units) next to the expression that computed them. A ``create_record``
is also validated with the target form's record validation — missing required fields, values of
the wrong type — exactly as creating it would, without storing it.
"""
from __future__ import annotations

import json
from typing import Any, Callable, Mapping

from sqlalchemy.orm import Session

from engine.definitions.model import FormDef
from engine.errors import NotFound, RecordValidationError
from engine.i18n import label_text, msg
from engine.rules import ACTIONS, ActionDef, RuleDef
from engine.types import Actor

MAX_LISTED = 20


class _Plan:
    """One action's description being built."""

    def __init__(self, session: Session, actor: Actor, rule: RuleDef, action: ActionDef, ctx, lang: str):
        self.session, self.actor, self.rule, self.action, self.ctx, self.lang = session, actor, rule, action, ctx, lang
        self.path = f"$.actions[{action.index}]"
        self.summary = ""
        self.details: list[dict] = []
        self.problems: list[dict] = []

    def t(self, zh: str, en: str, **kw: Any) -> str:
        return msg(zh, en, **kw).get(self.lang)

    def detail(self, label: str, text: Any, source: str | None = None, path: str | None = None, **extra: Any) -> None:
        self.details.append({"label": label, "text": "" if text is None else str(text), "source": source,
                             "path": path, **extra})

    def problem(self, path: str, message: str) -> None:
        self.problems.append({"path": path, "message": message})

    def effects(self, kind: str) -> list[dict]:
        return [e for e in self.ctx.effects if e["kind"] == kind]

    def form(self, key: str | None) -> FormDef | None:
        from engine.storage import form_store
        try:
            return form_store.load_published(self.session, self.actor.tenant_id, key).form if key else None
        except NotFound:
            return None

    def form_label(self, key: str | None) -> str:
        form = self.form(key)
        return label_text(form.label, self.lang) if form is not None else str(key or "")

    def shown(self, form: FormDef | None, data: Mapping[str, Any]) -> Callable[[str, Any], str]:
        """text(key, value): a target field's value as the user reads it."""
        from engine.printing.values import display
        from engine.services.names import names_for
        if form is None:
            return lambda key, value: _plain_text(value)
        names = names_for(self.session, self.actor, form.fields, [data])
        by_key = {f.key: f for f in form.fields}

        def text(key: str, value: Any) -> str:
            f = by_key.get(key)
            if f is None or isinstance(value, (list, dict)) and f.type == "subtable":
                return _plain_text(value)
            try:
                return display(f, value, names, self.lang)
            except Exception:  # noqa: BLE001 - a value of the wrong type: show it as it is
                return _plain_text(value)
        return text

    def field_label(self, form: FormDef | None, key: str) -> str:
        f = next((f for f in form.fields if f.key == key), None) if form is not None else None
        return label_text(f.label, self.lang) if f is not None else key

    def mapping(self, form: FormDef | None, option: str, data: Mapping[str, Any]) -> None:
        """One detail per ``option`` entry (target field ← expression): label, computed value, source."""
        text = self.shown(form, data)
        for key, source in (self.action.option(option) or {}).items():
            self.detail(self.field_label(form, key), text(key, data.get(key)), source, f"{self.path}.{option}.{key}",
                        field=key, value=_json(data.get(key)))

    def expression_problems(self) -> None:
        """Expressions and templates that failed: at the option that holds them where it can be found."""
        seen = set()
        for error in self.ctx.errors:
            problem = (self._where(error["source"]), error["message"])
            if problem not in seen:
                seen.add(problem)
                self.problem(*problem)

    def _where(self, source: str | None) -> str:
        for name, value in self.action.options.items():
            if value == source:
                return f"{self.path}.{name}"
            if isinstance(value, Mapping):
                for key, inner in value.items():
                    if inner == source:
                        return f"{self.path}.{name}.{key}"
        return self.path

    def result(self) -> dict:
        kind = ACTIONS.get(self.action.type)
        return {"type": self.action.type, "index": self.action.index, "label": kind.label.get(self.lang),
                "summary": self.summary, "details": self.details, "problems": self.problems}


def _json(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def _plain_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def validation_problems(p: _Plan, form: FormDef, data: Mapping[str, Any]) -> None:
    """The target form's record validation on the mapped values (nothing stored)."""
    from engine.expressions import EvalContext
    from engine.forms import validate_record
    from engine.services.facts import SqlFacts
    from engine.services.records import _lookups
    ctx = EvalContext(user_id=p.actor.user_id, now=p.ctx.ctx.now, lang=p.lang, facts=SqlFacts(p.session, p.actor.tenant_id))
    try:
        validate_record(form, dict(data), ctx=ctx, lookups=_lookups(p.session, p.actor.tenant_id, form))
    except RecordValidationError as exc:
        for problem in exc.errors:
            key = problem.field.split("[")[0].split(".")[0]
            option = "rows" if key in (p.action.option("rows") or {}) else "values"
            p.problem(f"{p.path}.{option}.{key}", f"{p.field_label(form, key)}: {problem.message.get(p.lang)}")


# ---- per action type ------------------------------------------------------------------------------

def _create_record(p: _Plan) -> None:
    form = p.form(p.action.option("form"))
    created = p.effects("create")
    data = created[0]["data"] if created else {}
    p.summary = p.t("将在“{f}”新建 1 条记录", "Would create a record in '{f}'", f=p.form_label(p.action.option("form")))
    p.mapping(form, "values", data)
    for key in (p.action.option("rows") or {}):
        rows = data.get(key) or []
        p.detail(p.field_label(form, key), p.t("{n} 行", "{n} row(s)", n=len(rows)), None, f"{p.path}.rows.{key}",
                 field=key, value=_json(rows[:MAX_LISTED]))
    if form is not None and created:
        validation_problems(p, form, data)


def _found(p: _Plan) -> tuple[int, bool]:
    finds = p.effects("find")
    return (finds[0]["count"], finds[0]["more"]) if finds else (0, False)


def _target_details(p: _Plan, target: Mapping[str, Any]) -> None:
    finds = p.effects("find")
    match = finds[0]["match"] if finds else {}
    form = p.form(target.get("form"))
    text = p.shown(form, match)
    for key, source in (target.get("match") or {}).items():
        p.detail(p.t("匹配：{f}", "Match: {f}", f=p.field_label(form, key)), text(key, match.get(key)), source,
                 f"{p.path}.target.match.{key}")
    if target.get("filter"):
        p.detail(p.t("筛选条件", "Filter"), target["filter"], None, f"{p.path}.target.filter")
    count, more = _found(p)
    p.detail(p.t("匹配的记录数", "Matching records"), f"{count}+" if more else count, None, f"{p.path}.target")


def _update_records(p: _Plan) -> None:
    target = p.action.option("target") or {}
    count, more = _found(p)
    label = p.form_label(target.get("form"))
    p.summary = (p.t("将修改“{f}”中匹配的 {n} 条记录", "Would update {n} matching record(s) of '{f}'",
                     f=label, n=f"{count}+" if more else count) if count else
                 p.t("“{f}”中没有匹配的记录：不会修改任何记录", "No record of '{f}' matches: nothing would be updated", f=label))
    _target_details(p, target)
    updates = p.effects("update")
    values = updates[0]["data"] if updates else {k: p.ctx.evaluate(v) for k, v in (p.action.option("values") or {}).items()}
    p.mapping(p.form(target.get("form")), "values", values)


def _set_status(p: _Plan) -> None:
    status = p.action.option("status")
    changes = p.effects("status")
    if p.action.option("target") is None:
        p.summary = p.t("将把触发记录的状态设为“{s}”", "Would set the status of the triggering record to '{s}'", s=status)
        if not changes:
            p.summary = p.t("没有触发记录：不会设置状态", "There is no triggering record: no status would be set")
        return
    p.summary = p.t("将把“{f}”中 {n} 条匹配记录的状态设为“{s}”", "Would set the status of {n} matching record(s) of "
                    "'{f}' to '{s}'", f=p.form_label(p.action.option("target").get("form")), n=len(changes), s=status)
    _target_details(p, p.action.option("target"))


def _notify(p: _Plan) -> None:
    from engine.services.names import user_names
    from engine.services.notify_channels import list_channels
    sent = p.effects("notify")
    if not sent:
        return
    note = sent[0]
    names = user_names(p.session, p.actor.tenant_id, note["users"])
    people = [names.get(i, f"#{i}") for i in note["users"]]
    robots = {c["key"]: c["name"] for c in list_channels(p.session, p.actor)}
    p.summary = (p.t("将通知 {n} 人：{w}", "Would notify {n} people: {w}", n=len(people), w="、".join(people[:10])
                     if p.lang != "en" else ", ".join(people[:10])) if people else
                 p.t("没有找到要通知的人", "Nobody would be notified"))
    p.detail(p.t("接收人", "Recipients"), ", ".join(people) or "-", None, f"{p.path}.to")
    channel_names = {"in_app": p.t("站内", "In-app"), "email": p.t("邮件", "E-mail")}
    p.detail(p.t("渠道", "Channels"), ", ".join(channel_names.get(c, c) for c in note["channels"]), None, f"{p.path}.channels")
    if note["robots"]:
        p.detail(p.t("群机器人", "Robots"), ", ".join(robots.get(k, k) for k in note["robots"]), None, f"{p.path}.robots")
    p.detail(p.t("标题", "Subject"), note["subject"], None, f"{p.path}.subject")
    p.detail(p.t("正文", "Body"), note["body"], None, f"{p.path}.body")
    if not people and not note["robots"]:
        p.problem(f"{p.path}.to", p.t("对这条记录不会通知任何人", "For this record nobody would be notified"))


def _call_webhook(p: _Plan) -> None:
    calls = p.effects("webhook")
    if not calls:
        return
    call = calls[0]
    p.summary = p.t("将向 {u} 发送 POST（未实际发送）", "Would POST to {u} (not sent)", u=call["url"])
    p.detail("URL", call["url"], None, f"{p.path}.url")
    p.detail(p.t("签名", "Signed"), p.t("是（HMAC-SHA256）", "yes (HMAC-SHA256)") if call["signed"] else p.t("否", "no"),
             None, f"{p.path}.secret")
    for name, value in call["headers"].items():
        p.detail(name, value, None, f"{p.path}.headers.{name}")
    p.detail(p.t("内容", "Payload"), json.dumps(call["payload"], ensure_ascii=False, indent=2, default=str), None,
             f"{p.path}.payload")


def _start_flow(p: _Plan) -> None:
    from engine.services import flow_defs
    starts = p.effects("flow")
    if not starts:
        p.summary = p.t("没有可发起流程的记录", "There is no record to start a flow on")
        return
    start = starts[0]
    flow = None
    try:
        flow = (flow_defs.load_flow_version(p.session, p.actor.tenant_id, start["flow"]) if start["flow"]
                else flow_defs.auto_flow_for(p.session, p.actor.tenant_id, start["form"]))
    except NotFound:
        flow = None
    name = label_text(flow.label, p.lang) if flow is not None else (start["flow"] or p.t("表单的流程", "the form's flow"))
    which = (p.t("前面动作新建的记录", "the record an earlier action creates") if start["record_id"] is None
             else p.t("触发记录", "the triggering record"))
    p.summary = p.t("将在{r}上发起流程“{f}”", "Would start the flow '{f}' on {r}", f=name, r=which)
    p.detail(p.t("流程", "Flow"), name, None, f"{p.path}.flow")
    p.detail(p.t("记录", "Record"), which, None, f"{p.path}.record")


def _aggregate_into(p: _Plan) -> None:
    rows = sum(e["rows"] for e in p.effects("aggregate"))
    created, updated = p.effects("create"), p.effects("update")
    label = p.form_label(p.action.option("form"))
    p.summary = p.t("汇总得到 {n} 行：将在“{f}”新建 {c} 条、更新 {u} 条记录", "The dataset gives {n} row(s): would create "
                    "{c} and update {u} record(s) of '{f}'", n=rows, f=label, c=len(created), u=len(updated))
    form = p.form(p.action.option("form"))
    for effect in (created + updated)[:MAX_LISTED]:
        text = p.shown(form, effect["data"])
        what = p.t("新建", "Create") if effect["kind"] == "create" else p.t("更新 #{i}", "Update #{i}", i=effect["record_id"])
        p.detail(what, "; ".join(f"{p.field_label(form, k)} = {text(k, v)}" for k, v in effect["data"].items()))


def _record_sampling_lot(p: _Plan) -> None:
    notes = p.effects("sampling")
    if not notes:
        return
    note = notes[0]
    p.summary = p.t("将记录一个抽样批次并更新供应商×零件的转移状态（正常/加严/放宽）", "Would record an inspected lot and "
                    "move the supplier × part switching state (normal/tightened/reduced)")
    names = {"supplier": p.t("供应商", "Supplier"), "part": p.t("零件", "Part"), "lot_size": p.t("批量", "Lot size"),
             "level": p.t("检验水平", "Level"), "aql": "AQL", "defects": p.t("不良数", "Defects"),
             "defect_class": p.t("缺陷类别", "Defect class")}
    for key, label in names.items():
        p.detail(label, _plain_text(note.get(key)), p.action.option(key) if key != "defect_class" else None,
                 f"{p.path}.{key}")


def _generic(p: _Plan) -> None:
    kinds = [e["kind"] for e in p.ctx.effects]
    p.summary = p.t("将执行“{a}”", "Would run '{a}'", a=ACTIONS.get(p.action.type).label.get(p.lang))
    for kind in dict.fromkeys(kinds):
        p.detail(kind, kinds.count(kind))


DESCRIBERS: dict[str, Callable[[_Plan], None]] = {
    "create_record": _create_record, "update_records": _update_records, "set_status": _set_status,
    "notify": _notify, "call_webhook": _call_webhook, "start_flow": _start_flow,
    "aggregate_into": _aggregate_into, "record_sampling_lot": _record_sampling_lot}


def describe(session: Session, actor: Actor, rule: RuleDef, action: ActionDef, ctx, error: str | None, lang: str) -> dict:
    """What ``action`` would do, from the trial context's notes (``error``: it would fail, and why)."""
    p = _Plan(session, actor, rule, action, ctx, lang)
    DESCRIBERS.get(action.type, _generic)(p)
    p.expression_problems()
    if error is not None:
        p.summary = p.t("此动作会失败：{e}", "This action would fail: {e}", e=error)
        p.problem(p.path, error)
    return p.result()
