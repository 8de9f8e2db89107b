"""What rule actions do, on the database: :class:`SqlRunContext` implements
:class:`engine.rules.RunContext` with the record, flow, notification and delivery services, in the
transaction of one action (see :mod:`engine.services.rule_runs`).

Expressions of the rule see the trigger's values (the event stored in the outbox); templates
see ``record`` (the trigger record's values as JSON), ``old``, ``changed``, ``payload``,
``batch``, ``rule`` and ``link``. Writes go through the same services as the pages and the API
(validation, numbering, audit with the rule named as the reason, and rules of their own, one
level deeper).
"""
from __future__ import annotations

import os
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, Mapping

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from engine.definitions.model import FormDef
from engine.expressions import EvalContext, compile_expression
from engine.i18n import msg
from engine.rules import TRIGGERS, RuleDef
from engine.rules import templates
from engine.services.facts import SqlFacts
from engine.types import Actor


def _plain(value: Any) -> Any:
    """An expression result → what record input accepts (dates as ISO text, decimals as numbers)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _run_time(event: Mapping[str, Any]) -> datetime:
    """When the run stands for: the time of its event (a record change, a schedule's cron time),
    else now. TODAY() in a run delayed past midnight, retried, or replayed for an earlier month is
    the day of the event, and the records the run writes are dated at the event — so a retry
    computes exactly what the first attempt would have."""
    if isinstance(event.get("at"), str):
        try:
            at = datetime.fromisoformat(event["at"])
            return at if at.tzinfo else at.replace(tzinfo=timezone.utc)
        except ValueError:
            pass
    return datetime.now(timezone.utc)


def record_link(form_key: str | None, record_id: int | None) -> str | None:
    """The record page's address (absolute when ``QMS_BASE_URL`` is set, as mails and robots need)."""
    if not form_key or not record_id:
        return None
    return f"{(os.environ.get('QMS_BASE_URL') or '').rstrip('/')}/f/{form_key}/{record_id}"


class SqlRunContext:
    """One action's view of a rule run: the trigger's values and the services to act with."""

    def __init__(self, session: Session, actor: Actor, row: Mapping[str, Any], rule: RuleDef, form: FormDef | None,
                 outcomes: Mapping[int, Any]):
        self.session, self.actor, self.row, self.rule, self.form = session, actor, row, rule, form
        self.rule_key = rule.key
        self.event: Mapping[str, Any] = row["event"] or {}
        self.outcomes = outcomes
        self.trigger = TRIGGERS.get(rule.trigger.type)
        self.scope = self.trigger.scope(rule.trigger, form)
        self.values = self.trigger.inputs(rule.trigger, self.event, form)
        self.ctx = EvalContext(user_id=actor.user_id, now=_run_time(self.event), lang=actor.lang,
                               facts=SqlFacts(session, actor.tenant_id))
        self.reason = msg("规则“{k}”自动执行（运行 #{i}）", "Rule '{k}' (run #{i})", k=rule.key, i=row["id"]).get(actor.lang)

    # -- expressions and templates ---------------------------------------------------------------
    def evaluate(self, source: str, row: Mapping[str, Any] | None = None) -> Any:
        return _plain(compile_expression(source, self.scope).evaluate(self.values, self.ctx))

    def evaluate_in_row(self, source: str, subtable: str, row: Mapping[str, Any]) -> Any:
        from engine.definitions import row_scope
        compiled = compile_expression(source, row_scope(self.form, subtable))
        return _plain(compiled.evaluate(row, self.ctx, parents=(self.values,)))

    def trigger_rows(self, subtable: str) -> list[Mapping[str, Any]]:
        rows = (self.values or {}).get(subtable)
        return [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []

    def template_context(self) -> dict[str, Any]:
        event = self.event
        return {"record": event.get("values") or {}, "old": event.get("old") or {}, "changed": event.get("changed") or [],
                "payload": event.get("payload"), "batch": event.get("batch"), "flow": event.get("flow"),
                "rule": {"key": self.rule.key, "label": self.rule.label.get(self.actor.lang)},
                "link": record_link(event.get("form"), event.get("record_id")) or "",
                "violation": event.get("violation"),
                "now": self.ctx.now.isoformat()}

    def render(self, template: str) -> str:
        return templates.render(template, self.template_context())

    def render_json(self, template: Any) -> Any:
        if template is None:      # the default payload: what happened, to which record
            event = self.event
            return {"rule": self.rule.key, "event": event.get("kind"), "form": event.get("form"),
                    "record_id": event.get("record_id"), "record": event.get("values"), "changed": event.get("changed"),
                    "run_id": self.row["id"]}
        return templates.render_json(template, self.template_context())

    # -- records -------------------------------------------------------------------------------------
    def create_record(self, form_key: str, data: Mapping[str, Any]) -> dict:
        from engine.services import records
        record = records.create_record(self.session, self.actor, form_key, dict(data), self.reason, now=self.ctx.now)
        return {"id": record.id, "serial_no": record.serial_no}

    def trigger_record(self) -> tuple[str, int] | None:
        form, record_id = self.event.get("form"), self.event.get("record_id")
        return (form, record_id) if form and record_id else None

    def last_created(self) -> tuple[str, int] | None:
        for index in sorted(self.outcomes, reverse=True):
            outcome = self.outcomes[index] or {}
            if outcome.get("record_id") and outcome.get("form") and "serial_no" in outcome:
                return outcome["form"], outcome["record_id"]
        return None

    def find_records(self, form_key: str, match: Mapping[str, Any], filter: str | None, limit: int) -> list[int]:
        from engine.definitions import form_scope
        from engine.services.records import _choice_codes
        from engine.storage import filters, form_store, records
        pub = form_store.load_published(self.session, self.actor.tenant_id, form_key)
        table = records.top_table(pub.spec)
        kinds = records.field_kinds(pub.form)
        clauses = []
        for key, value in match.items():
            kind = kinds.get(((), key))
            clauses.append(table.c[key].is_(None) if value is None else table.c[key] == records.to_db(kind, value)
                           if kind is not None else table.c[key] == value)
        if filter:
            clauses.append(filters.compile_filter(filter, table, form_scope(pub.form), self.session.get_bind().dialect.name,
                                                  self.ctx.now, None, _choice_codes(pub.form)))
        where = and_(*clauses) if clauses else None
        stmt = select(table.c.id).where(table.c.tenant_id == self.actor.tenant_id)
        if where is not None:
            stmt = stmt.where(where)
        return list(self.session.execute(stmt.order_by(table.c.id).limit(limit)).scalars())

    def update_record(self, form_key: str, record_id: int, data: Mapping[str, Any]) -> bool:
        from engine.services import records
        current = records.get_record(self.session, self.actor, form_key, record_id)
        changed = {k: v for k, v in data.items() if current.data.get(k) != v}
        if not changed:
            return False
        records.update_record(self.session, self.actor, form_key, record_id, current.version, changed, self.reason,
                              now=self.ctx.now)
        return True

    def set_status(self, form_key: str, record_id: int, status: str) -> bool:
        from engine.services import records
        return records.set_status(self.session, self.actor, form_key, record_id, status, self.reason, now=self.ctx.now)

    def start_flow(self, form_key: str, record_id: int, flow_key: str | None) -> int | None:
        from engine.services import flows
        return flows.start_flow(self.session, self.actor, form_key, record_id, flow_key, check_access=False,
                                now=self.ctx.now)

    # -- summaries and sampling state ---------------------------------------------------------------
    def aggregate(self, dataset: Mapping[str, Any]) -> list[dict]:
        """The dataset's rows (raw values by column key), read with every record in view."""
        from engine.services.reports import aggregate_rows
        return aggregate_rows(self.session, Actor.system(self.actor.tenant_id), dataset, self.ctx.now)

    def row_scope(self, dataset: Mapping[str, Any]):
        from engine.rules.data_actions import row_scope
        from engine.services.reports import forms_around
        return row_scope(dataset, forms_around(self.session, self.actor.tenant_id, [dataset.get("form")]))

    def evaluate_with(self, source: str, scope, values: Mapping[str, Any]) -> Any:
        return _plain(compile_expression(source, scope).evaluate(dict(values), self.ctx))

    def record_sampling_lot(self, supplier: Any, part: Any, *, lot_size: Any, level: Any, aql: Any,
                            defects: Any, defect_class: str) -> dict:
        from engine.services import switching
        outcome = switching.record_lot(self.session, self.actor, supplier, part, lot_size=lot_size, level=level,
                                       aql=aql, defects=int(defects), defect_class=defect_class)
        return outcome.to_json(self.actor.lang)

    # -- people and the outside world ----------------------------------------------------------------
    def recipients(self, to: Mapping[str, Any]) -> list[int]:
        from engine.services.flow_directory import SqlDirectory
        directory = SqlDirectory(self.session, self.actor.tenant_id)
        ids: list[int] = [i for i in to.get("users") or () if isinstance(i, int)]
        for role in to.get("roles") or ():
            ids += directory.users_with_role(role)
        values = self.values or {}
        for key in to.get("fields") or ():
            value = values.get(key)
            ids += [v for v in (value if isinstance(value, list) else [value]) if isinstance(v, int)]
        if to.get("submitter") and isinstance(values.get("created_by"), int):
            ids.append(values["created_by"])
        return directory.active_users(list(dict.fromkeys(ids)))

    def notify(self, to: Mapping[str, Any], subject: str, body: str, channels: list[str], robots: list[str]) -> dict:
        from engine.services import deliveries, mail, notifications
        users = self.recipients(to)
        link = record_link(self.event.get("form"), self.event.get("record_id"))
        source = f"rule:{self.rule.key}#{self.row['id']}"
        outcome: dict[str, Any] = {"users": users[:200]}
        if "in_app" in channels and users:
            outcome["in_app"] = len(notifications.notify_users(self.session, self.actor.tenant_id, users, subject, body,
                                                               link=link, source=source))
        if "email" in channels and users:
            emails = self._emails(users)
            text = f"{body}\n\n{link}" if link else body
            outcome["email"] = len(mail.queue_mail(self.session, self.actor.tenant_id, emails, subject, text,
                                                   source=source)) if emails else 0
        outcome["robots"] = [deliveries.queue_channel(self.session, self.actor.tenant_id, key, subject, body, link=link,
                                                      source=source) for key in robots]
        return outcome

    def _emails(self, user_ids: list[int]) -> list[str]:
        from engine.storage.platform import users
        rows = self.session.execute(select(users.c.email).where(and_(
            users.c.tenant_id == self.actor.tenant_id, users.c.id.in_(user_ids), users.c.is_active.is_(True)))).scalars()
        return [e for e in rows if e]

    def call_webhook(self, url: str, body: Any, secret: str | None, timeout: float, headers: Mapping[str, str]) -> int:
        from engine.services import deliveries
        return deliveries.queue_webhook(self.session, self.actor.tenant_id, url, body, secret=secret, timeout=timeout,
                                        headers=headers, source=f"rule:{self.rule.key}#{self.row['id']}")

