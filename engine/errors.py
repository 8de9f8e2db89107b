"""One exception hierarchy for the engine. No HTTP codes here: the web layer maps them.

Every error carries bilingual messages (:class:`engine.i18n.Msg`) so the UI and API can
answer in the user's language.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from engine.i18n import Msg, msg


@dataclass(frozen=True)
class Problem:
    """One problem in a definition: where (a JSON path such as ``$.fields[2].key``) and what."""

    path: str
    message: Msg

    def to_dict(self, lang: str | None = None) -> dict:
        return {"path": self.path, "message": self.message.get(lang), "messages": self.message.to_dict()}


@dataclass(frozen=True)
class FieldProblem:
    """One problem with a submitted value: which field (``lot_size``, ``items[2].qty``) and what."""

    field: str
    message: Msg

    def to_dict(self, lang: str | None = None) -> dict:
        return {"field": self.field, "message": self.message.get(lang), "messages": self.message.to_dict()}


class QMSError(Exception):
    """Base of every error the engine raises on purpose."""

    code = "error"

    def __init__(self, message: Msg | str = ""):
        if isinstance(message, str):
            message = Msg(message, message)
        self.message = message
        super().__init__(message.en)


class DefinitionError(QMSError):
    """A definition is invalid; ``problems`` lists *all* of them with paths."""

    code = "invalid_definition"

    def __init__(self, problems: Sequence[Problem], message: Msg | None = None):
        self.problems = list(problems)
        super().__init__(message or Msg(f"定义有 {len(self.problems)} 处错误", f"The definition has {len(self.problems)} problem(s)"))


class ExpressionError(QMSError):
    """An expression does not parse, type-check or evaluate. ``line``/``column`` are 1-based."""

    code = "invalid_expression"

    def __init__(self, message: Msg | str, line: int = 1, column: int = 1, source: str | None = None):
        self.line = line
        self.column = column
        self.source = source
        super().__init__(message)

    def to_dict(self, lang: str | None = None) -> dict:
        return {"line": self.line, "column": self.column, "message": self.message.get(lang),
                "messages": self.message.to_dict()}


class ExpressionLimitError(ExpressionError):
    """An expression exceeded a bound (length, nesting depth, work, result size)."""

    code = "expression_limit"


class EvaluationError(ExpressionError):
    """An expression failed at run time (e.g. a function got a value it cannot use)."""

    code = "evaluation_error"


class RecordValidationError(QMSError):
    """Submitted record data is invalid; ``errors`` lists every field problem at once."""

    code = "invalid_record"

    def __init__(self, errors: Sequence[FieldProblem]):
        self.errors = list(errors)
        super().__init__(Msg(f"记录有 {len(self.errors)} 处错误", f"The record has {len(self.errors)} error(s)"))


class NotFound(QMSError):
    code = "not_found"


class PermissionDenied(QMSError):
    code = "permission_denied"


class Conflict(QMSError):
    """E.g. a stale optimistic-lock version, or a duplicate key."""

    code = "conflict"


class TooManyAttempts(PermissionDenied):
    """Sign-in is locked for a while after repeated failures; ``retry_after`` is in seconds."""

    code = "too_many_attempts"

    def __init__(self, retry_after: int):
        self.retry_after = max(1, int(retry_after))
        minutes = (self.retry_after + 59) // 60
        super().__init__(msg("登录失败次数过多，请 {m} 分钟（{s} 秒）后再试",
                             "Too many failed sign-ins; try again in {m} minute(s) ({s} s)",
                             m=minutes, s=self.retry_after))
