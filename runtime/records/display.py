"""How a stored value is shown in a list cell or on the detail page (plain text; Jinja escapes it)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import url_for
from werkzeug.routing import BuildError

from engine.definitions.model import FieldDef
from engine.services.names import Names
from runtime.i18n import label, t

FILE_TYPES = frozenset({"attachment", "image", "signature"})


def link(endpoint: str, **values) -> str | None:
    """A URL, or None while the page it points to is not installed (another blueprint)."""
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


def choice_label(f: FieldDef, code: Any) -> str:
    for choice in f.option("choices", ()) or ():
        if choice.get("code") == code:
            return label(choice.get("label")) or str(code)
    return str(code)


def shown(f: FieldDef, value: Any, names: Names | None = None) -> str:
    """A value as text for a cell (sub-tables and files are shown by the templates).

    ``names`` (from :func:`engine.services.names.names_for`) turns user, department and
    reference ids into names and titles; an id without a name is shown as ``#id``.
    """
    if value is None or value == "" or value == []:
        return ""
    f = f.shown_as()
    if f.type in ("user", "department", "reference"):
        return ", ".join(named(f, v, names) for v in (value if isinstance(value, list) else [value]))
    if f.type in ("select", "radio") or (f.type == "formula" and f.option("choices")):
        return choice_label(f, value)
    if f.type == "multiselect" and isinstance(value, list):
        return ", ".join(choice_label(f, v) for v in value)
    if f.type == "boolean" or isinstance(value, bool):
        return t("是", "Yes") if value else t("否", "No")
    if f.type == "subtable" and isinstance(value, list):
        return t(f"{len(value)} 行", f"{len(value)} row(s)")
    if f.type in FILE_TYPES and isinstance(value, list):
        return t(f"{len(value)} 个文件", f"{len(value)} file(s)")
    if f.type == "number" and f.option("unit"):
        return f"{value} {f.option('unit')}"
    if f.type == "datetime" or isinstance(value, datetime):
        return when(value)
    if isinstance(value, (list, dict)):
        return ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    return str(value)


def named(f: FieldDef, value: Any, names: Names | None) -> str:
    """The name of one user/department id or the title of one referenced record."""
    names = names or Names()
    if f.type == "user":
        found = names.users.get(value)
    elif f.type == "department":
        found = label(names.departments.get(value)) if value in names.departments else None
    else:
        found = names.titles.get((f.option("form"), value))
    return found or f"#{value}"


APPROVAL_STATES = {
    "running": ("审批中", "In approval"), "approved": ("已通过", "Approved"), "returned": ("已退回", "Sent back"),
    "withdrawn": ("已撤回", "Withdrawn"), "rejected": ("已驳回", "Rejected"), "cancelled": ("已取消", "Cancelled"),
}


def approval(flow_state: str | None) -> str:
    """A record's flow state ("running:qe", "approved" …) as the list shows it."""
    state = (flow_state or "").split(":", 1)[0]
    return t(*APPROVAL_STATES[state]) if state in APPROVAL_STATES else ""


def when(value: Any) -> str:
    """A datetime (ISO text or datetime) as ``YYYY-MM-DD HH:MM`` (UTC, as stored)."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return "" if value is None else str(value)


def files(value: Any) -> list[dict]:
    """File descriptors with an id we can link to (``/files/<id>``)."""
    out = []
    for item in value if isinstance(value, list) else []:
        if isinstance(item, dict) and str(item.get("id", "")).isdigit():
            url = link("entry.download_file", file_id=int(item["id"])) or f"/files/{int(item['id'])}"
            out.append({"id": int(item["id"]), "name": item.get("name") or f"#{item['id']}", "url": url,
                        "image": str(item.get("content_type") or "").startswith("image/")})
    return out
