"""The one error of the delivery side: bad input to a notification, mail, webhook or channel."""
from __future__ import annotations

from typing import Sequence

from engine.errors import FieldProblem, QMSError
from engine.i18n import Msg


class NotifyInputError(QMSError, ValueError):
    """A value cannot be used (a URL, an address, a timeout, a setting); the message names it.

    ``field`` names the input at fault; a form with several bad inputs lists them all in
    ``problems``. Also a ``ValueError``, so callers that only know the standard library catch it.
    """

    code = "invalid_input"

    def __init__(self, message: Msg | str, field: str | None = None, problems: Sequence[FieldProblem] = ()):
        super().__init__(message)
        self.field = field
        self.problems = list(problems) or ([FieldProblem(field, self.message)] if field else [])
