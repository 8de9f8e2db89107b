"""What a form page's pickers offer: the tenant's users and departments, and for each reference
field the newest records of its target form the actor may read (the form page and the designer's
preview draw the same pickers)."""
from __future__ import annotations

from sqlalchemy.orm import Session

from engine.errors import QMSError
from engine.forms.fieldviews import Pickers
from engine.services import accounts as account_service
from engine.services import records as record_service
from engine.types import Actor

REFERENCE_OPTIONS = 200      # records offered in a reference picker; beyond that the picker searches


def record_label(record, display: str | None) -> str:
    """A record as a picker lists it: its ``display`` field, else its title or number, with its id."""
    shown = record.data.get(display) if display else None
    text = shown if isinstance(shown, (str, int, float)) and shown != "" else record.title or record.serial_no
    return f"{text} (#{record.id})" if text else f"#{record.id}"


def form_pickers(session: Session, actor: Actor) -> Pickers:
    """Pickers for one page; reference options are read once per target form, in the actor's read scope."""
    cache: dict[str, list[dict]] = {}

    def references(target: str, display: str | None) -> list[dict]:
        if target not in cache:
            try:
                page = record_service.query_records(session, actor, target, sort="-id", per_page=REFERENCE_OPTIONS)
            except QMSError:
                cache[target] = []
            else:
                cache[target] = [{"id": r.id, "label": record_label(r, display)} for r in page.items]
        return cache[target]

    return Pickers(users=account_service.list_users(session, actor.tenant_id),
                   departments=account_service.list_departments(session, actor.tenant_id),
                   references=references, reference_limit=REFERENCE_OPTIONS)
