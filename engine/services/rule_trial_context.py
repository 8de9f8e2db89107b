"""The designer's rule test run: a :class:`~engine.rules.RunContext` that plans instead of acting.

:class:`TrialContext` is the real run's :class:`~engine.services.rule_context.SqlRunContext` with
every write replaced by a note of what it would do (an *effect*): expressions, templates, record
look-ups, recipients and report datasets are computed exactly as a run computes them (reads
only), so each registered action's own ``run`` method is what gets tried — no action needs a
second "plan" implementation, and add-on actions are tried the same way. A failing expression
or template does not stop the trial: it becomes a problem of the action and a blank value.

Used by :mod:`engine.services.rule_trial`, inside a savepoint that is always rolled back.
"""
from __future__ import annotations

from typing import Any, Mapping

from engine.errors import QMSError
from engine.i18n import Msg
from engine.services.rule_context import SqlRunContext

MAX_NOTED = 20          # records an effect lists by id (the count is always complete)


def error_text(exc: BaseException, lang: str) -> str:
    """An engine error's message in ``lang`` (other errors: their type and text)."""
    message = getattr(exc, "message", None)
    if isinstance(message, Msg):
        return message.get(lang)
    if isinstance(exc, QMSError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"[:300]


class TrialContext(SqlRunContext):
    """A run context whose writes are noted in ``effects``; errors of expressions in ``errors``."""

    def __init__(self, *args: Any, created: list[tuple[str, None]] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.effects: list[dict] = []
        self.errors: list[dict] = []            # {"source", "message"}
        self.created = created if created is not None else []     # planned creations, across actions

    def _failed(self, source: Any, exc: BaseException) -> None:
        self.errors.append({"source": source if isinstance(source, str) else None,
                            "message": error_text(exc, self.actor.lang)})

    # -- expressions and templates: computed, never fatal -------------------------------------------
    def evaluate(self, source: str, row: Mapping[str, Any] | None = None) -> Any:
        try:
            return super().evaluate(source, row)
        except Exception as exc:  # noqa: BLE001 - shown as the action's problem
            self._failed(source, exc)
            return None

    def evaluate_in_row(self, source: str, subtable: str, row: Mapping[str, Any]) -> Any:
        try:
            return super().evaluate_in_row(source, subtable, row)
        except Exception as exc:  # noqa: BLE001
            self._failed(source, exc)
            return None

    def evaluate_with(self, source: str, scope, values: Mapping[str, Any]) -> Any:
        try:
            return super().evaluate_with(source, scope, values)
        except Exception as exc:  # noqa: BLE001
            self._failed(source, exc)
            return None

    def render(self, template: str) -> str:
        try:
            return super().render(template)
        except Exception as exc:  # noqa: BLE001
            self._failed(template, exc)
            return ""

    def render_json(self, template: Any) -> Any:
        try:
            return super().render_json(template)
        except Exception as exc:  # noqa: BLE001
            self._failed(None, exc)
            return None

    # -- writes become effects ---------------------------------------------------------------------
    def create_record(self, form_key: str, data: Mapping[str, Any]) -> dict:
        self.effects.append({"kind": "create", "form": form_key, "data": dict(data)})
        self.created.append((form_key, None))
        return {"id": None, "serial_no": None}

    def last_created(self) -> tuple[str, int] | None:
        return self.created[-1] if self.created else None       # a planned record: its id is not known yet

    def find_records(self, form_key: str, match: Mapping[str, Any], filter: str | None, limit: int) -> list[int]:
        ids = super().find_records(form_key, match, filter, limit + 1)     # a bounded count: one query, no update
        self.effects.append({"kind": "find", "form": form_key, "match": dict(match), "filter": filter,
                             "count": min(len(ids), limit), "more": len(ids) > limit, "ids": ids[:MAX_NOTED]})
        return ids[:limit]

    def update_record(self, form_key: str, record_id: int, data: Mapping[str, Any]) -> bool:
        self.effects.append({"kind": "update", "form": form_key, "record_id": record_id, "data": dict(data)})
        return True

    def set_status(self, form_key: str, record_id: int, status: str) -> bool:
        self.effects.append({"kind": "status", "form": form_key, "record_id": record_id, "status": status})
        return True

    def start_flow(self, form_key: str, record_id: int | None, flow_key: str | None) -> int | None:
        self.effects.append({"kind": "flow", "form": form_key, "record_id": record_id, "flow": flow_key})
        return None

    def aggregate(self, dataset: Mapping[str, Any]) -> list[dict]:
        rows = super().aggregate(dataset)
        self.effects.append({"kind": "aggregate", "form": dataset.get("form"), "rows": len(rows)})
        return rows

    def record_sampling_lot(self, supplier: Any, part: Any, *, lot_size: Any, level: Any, aql: Any,
                            defects: Any, defect_class: str) -> dict:
        self.effects.append({"kind": "sampling", "supplier": supplier, "part": part, "lot_size": lot_size,
                             "level": level, "aql": aql, "defects": defects, "defect_class": defect_class})
        return {}

    def notify(self, to: Mapping[str, Any], subject: str, body: str, channels: list[str], robots: list[str]) -> dict:
        users = self.recipients(to)
        self.effects.append({"kind": "notify", "users": users, "subject": subject, "body": body,
                             "channels": list(channels), "robots": list(robots)})
        return {"users": users}

    def call_webhook(self, url: str, body: Any, secret: str | None, timeout: float, headers: Mapping[str, str]) -> int:
        self.effects.append({"kind": "webhook", "url": url, "payload": body, "signed": bool(secret),
                             "timeout": timeout, "headers": dict(headers)})
        return 0
