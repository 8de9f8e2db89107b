"""The supplier portal: a supplier's own logins, and what one of them sees.

Admin side: :func:`create_supplier_user` makes a login for a supplier record (role
``supplier_portal``, attribute ``supplier_id`` = the record's id, Chinese UI, external user) and
fills the supplier's ``portal_user`` field when it is empty — the 8D flow assigns the supplier's
disciplines to that field. :func:`list_supplier_users` and :func:`deactivate_supplier_user`
manage them.

Portal side: :func:`overview` gathers the supplier's name, open 8D tasks, 8D reports, NCRs,
monthly scorecards and certificates. Every record is read through :mod:`engine.services.records`
with the portal user's own Actor, so the read scopes of the ``supplier_portal`` role decide what
is seen, in SQL; a form that is not installed (or that the user may not read) is an empty section.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Iterable

from sqlalchemy import and_, select, update
from sqlalchemy.orm import Session

from engine import access
from engine.errors import NotFound, PermissionDenied
from engine.i18n import msg
from engine.services import accounts, flow_queries
from engine.services import records as record_service
from engine.storage.platform import files, users
from engine.types import Actor

ROLE = "supplier_portal"
ATTRIBUTE = "supplier_id"
SUPPLIER_FORM = "supplier"
DUE_SOON_DAYS = 30
LIST_LIMIT = 100
EVIDENCE_FIELD = "flow_comment"     # files row field_key of evidence posted with a task comment


# ---------------------------------------------------------------------------- admin side

def _require_admin(actor: Actor) -> None:
    if not actor.unrestricted:
        raise PermissionDenied(msg("只有管理员可以管理供应商门户账号",
                                   "Only an administrator may manage supplier portal users"))


def create_supplier_user(session: Session, admin_actor: Actor, supplier_record_id: int, email: str, name: str,
                         password: str | None = None) -> int:
    """A portal login for the supplier record; returns the new user's id.

    The user gets the role ``supplier_portal``, the attribute ``supplier_id`` and the Chinese UI;
    ``password`` None leaves the login without a password until an admin sets one. The
    supplier's ``portal_user`` field is set to the new user when it is still empty.
    """
    _require_admin(admin_actor)
    supplier = record_service.get_record(session, admin_actor, SUPPLIER_FORM, supplier_record_id)
    user_id = accounts.create_user(session, admin_actor.tenant_id, email, name or email, password, roles=[ROLE],
                                   attributes={ATTRIBUTE: supplier.id}, is_external=True, lang="zh-CN")
    if not supplier.values.get("portal_user"):
        record_service.update_record(session, admin_actor, SUPPLIER_FORM, supplier.id, supplier.version,
                                     {"portal_user": user_id}, "supplier portal user created / 创建供应商门户账号")
    return user_id


def supplier_id_by_code(session: Session, admin_actor: Actor, code: str) -> int:
    """The id of the supplier record with this code; NotFound names the code."""
    _require_admin(admin_actor)
    page = record_service.query_records(session, admin_actor, SUPPLIER_FORM, filter=f"code = {_quoted(code)}",
                                        per_page=2)
    if not page.items:
        raise NotFound(msg("供应商代码“{c}”不存在", "No supplier with the code '{c}'", c=str(code)[:40]))
    return page.items[0].id


def _quoted(text: str) -> str:
    """A string literal of the expression language (codes are checked by the form's pattern)."""
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def list_supplier_users(session: Session, admin_actor: Actor, supplier_record_id: int) -> list[dict]:
    """The supplier's portal logins (id, name, email, is_active, last_login_at if kept), by name."""
    _require_admin(admin_actor)
    record_service.get_record(session, admin_actor, SUPPLIER_FORM, supplier_record_id)   # NotFound if absent
    rows = session.execute(select(users.c.id, users.c.name, users.c.email, users.c.is_active, users.c.attributes)
                           .where(and_(users.c.tenant_id == admin_actor.tenant_id, users.c.is_external.is_(True)))
                           .order_by(users.c.name, users.c.id)).mappings()
    # attributes are JSON; comparing in Python keeps this portable (a tenant has few external users)
    return [{k: r[k] for k in ("id", "name", "email", "is_active")} for r in rows
            if _same_id((r["attributes"] or {}).get(ATTRIBUTE), supplier_record_id)]


def _same_id(value: Any, record_id: int) -> bool:
    try:
        return int(value) == int(record_id)
    except (TypeError, ValueError):
        return False


def deactivate_supplier_user(session: Session, admin_actor: Actor, supplier_record_id: int, user_id: int) -> None:
    """Switch off one of the supplier's portal logins (it can no longer sign in; open sessions end).

    When it was the supplier's ``portal_user``, that field is cleared so new 8D disciplines go
    to the 8D leader instead of a login nobody can use.
    """
    if user_id not in {u["id"] for u in list_supplier_users(session, admin_actor, supplier_record_id)}:
        raise NotFound(msg("该供应商没有门户账号 {i}", "The supplier has no portal user {i}", i=user_id))
    session.execute(update(users).where(and_(users.c.id == user_id, users.c.tenant_id == admin_actor.tenant_id))
                    .values(is_active=False))
    access.forget(session)
    supplier = record_service.get_record(session, admin_actor, SUPPLIER_FORM, supplier_record_id)
    if supplier.values.get("portal_user") == user_id:
        record_service.update_record(session, admin_actor, SUPPLIER_FORM, supplier.id, supplier.version,
                                     {"portal_user": None}, "supplier portal user deactivated / 停用供应商门户账号")


# ---------------------------------------------------------------------------- portal side

def is_portal_user(actor: Actor | None) -> bool:
    """True for a supplier's login: the portal role and a supplier id (admins never are)."""
    return bool(actor and not actor.unrestricted and ROLE in actor.roles and actor.attribute(ATTRIBUTE) is not None)


def _query(session: Session, actor: Actor, form_key: str, sort: str) -> list:
    """The actor's records of a form (scope in SQL); [] when the form is not installed."""
    try:
        return record_service.query_records(session, actor, form_key, sort=sort, per_page=LIST_LIMIT).items
    except (NotFound, PermissionDenied, record_service.QueryError):
        return []


def overview(session: Session, actor: Actor, today: date | None = None) -> dict:
    """Everything the portal's page shows, read with the portal user's own access.

    ``{"supplier": {id, code, name} | None, "tasks": [...], "eight_ds": [...], "ncrs": [...],
    "scorecards": [...], "certificates": [...]}`` — the supplier is None when the user's
    attribute points at no record they may read.
    """
    today = today or date.today()
    return {"supplier": _supplier(session, actor), "tasks": open_8d_tasks(session, actor),
            "eight_ds": [_eight_d(r) for r in _query(session, actor, "eight_d", "-id")],
            "ncrs": [_ncr(r) for r in _query(session, actor, "ncr", "-id")],
            "scorecards": scorecards(session, actor),
            "certificates": certificates(session, actor, today)}


def _supplier_record(session: Session, actor: Actor):
    supplier_id = actor.attribute(ATTRIBUTE)
    if supplier_id is None:
        return None
    try:
        return record_service.get_record(session, actor, SUPPLIER_FORM, int(supplier_id))
    except (NotFound, PermissionDenied, TypeError, ValueError):
        return None


def _supplier(session: Session, actor: Actor) -> dict | None:
    record = _supplier_record(session, actor)
    if record is None:
        return None
    return {"id": record.id, "code": record.values.get("code"), "name": record.values.get("name")}


def open_8d_tasks(session: Session, actor: Actor) -> list[dict]:
    """The user's open tasks (8D disciplines first), with the step's name and due time."""
    found = flow_queries.inbox(session, actor, "todo", 1, LIST_LIMIT)
    items = [{"task_id": i["id"], "form_key": i["form_key"], "record_id": i["record_id"],
              "title": i["record_title"], "step": i["node_label"], "flow": i["flow_label"],
              "due_at": i.get("due_at"), "overdue": i["overdue"]} for i in found["items"]]
    return sorted(items, key=lambda i: i["form_key"] != "eight_d")


def _eight_d(record) -> dict:
    v = record.values
    return {"id": record.id, "no": record.serial_no or v.get("report_no") or f"#{record.id}",
            "title": v.get("problem_title") or record.title, "due_date": v.get("due_date"),
            "closed_on": v.get("closed_on"), "flow_state": record.flow_state}


def _ncr(record) -> dict:
    v = record.values
    return {"id": record.id, "no": record.serial_no or v.get("ncr_no") or f"#{record.id}",
            "part": v.get("part"), "lot_no": v.get("lot_no"), "qty_nc": v.get("qty_nc"),
            "description": v.get("description"), "disposition": v.get("disposition"),
            "closed_on": v.get("closed_on"), "created_at": record.created_at}


def scorecards(session: Session, actor: Actor) -> list[dict]:
    """Monthly scorecards, newest first, each with its trend against the month before
    ("up" / "down" / "same"; None for the first month or a missing score)."""
    rows = [r.values for r in _query(session, actor, "supplier_scorecard", "period")]
    out, previous = [], None
    for v in rows:
        score = _number(v.get("total_score"))
        trend = None
        if score is not None and previous is not None:
            trend = "up" if score > previous else "down" if score < previous else "same"
        out.append({"period": v.get("period"), "total_score": score, "grade": v.get("grade"), "trend": trend,
                    "lar": _number(v.get("lar")), "ppm": _number(v.get("ppm")), "otd": _number(v.get("otd"))})
        previous = score if score is not None else previous
    return list(reversed(out))


def _number(value: Any) -> float | None:
    try:
        return None if value is None or value == "" else float(value)
    except (TypeError, ValueError):
        return None


def certificates(session: Session, actor: Actor, today: date) -> list[dict]:
    """The supplier's certificates, soonest expiry first, with days left and a state:
    "expired" (past), "due" (within 30 days) or "valid"."""
    record = _supplier_record(session, actor)
    if record is None:
        return []
    out = []
    for row in record.values.get("certificates") or []:
        expires = _as_date(row.get("expires_on"))
        days = (expires - today).days if expires else None
        state = None if days is None else "expired" if days < 0 else "due" if days <= DUE_SOON_DAYS else "valid"
        out.append({"cert_type": row.get("cert_type"), "cert_no": row.get("cert_no"),
                    "issued_on": _as_date(row.get("issued_on")), "expires_on": expires, "days_left": days,
                    "state": state, "file": row.get("file")})
    return sorted(out, key=lambda c: (c["expires_on"] is None, c["expires_on"] or date.max))


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value:
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def attach_evidence(session: Session, actor: Actor, form_key: str, record_id: int, file_ids: Iterable[int]) -> int:
    """Bind the actor's own fresh uploads, posted as evidence with a task comment, to the record.

    Called right after the actor commented on their task of that record (same transaction).
    Unbound, a file can be opened only by its uploader; bound, by everyone who may read the
    record — the QE who verifies the 8D. Returns how many files were bound.
    """
    wanted = [i for i in file_ids if isinstance(i, int) and not isinstance(i, bool)]
    if not wanted or actor.user_id is None:
        return 0
    result = session.execute(update(files).where(and_(
        files.c.tenant_id == actor.tenant_id, files.c.id.in_(wanted), files.c.record_id.is_(None),
        files.c.created_by == actor.user_id)).values(form_key=form_key, record_id=record_id,
                                                     field_key=EVIDENCE_FIELD))
    return result.rowcount or 0
