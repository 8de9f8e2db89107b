"""The SQL of a trace walk: batched reads of record rows, sub-table references and referrers.

A storage-layer module kept next to the graph it feeds (the rest of ``engine.trace`` is pure),
so the whole feature reads in one place. Every function runs one statement per batch of ids
(IN lists, :data:`CHUNK` ids at most), never one per record, and every read of a form's own
rows carries the reader's read scope in its WHERE: a record outside it is simply not there —
not as a row, not in a count.
"""
from __future__ import annotations

import re
from typing import Any, Iterable, Iterator, Mapping, Sequence

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from engine.access import BoundScope
from engine.definitions.model import FormDef
from engine.fields import field_type
from engine.fields.base import StorageKind
from engine.storage import records
from engine.storage.form_store import PublishedForm
from engine.storage.record_tables import sa_tables
from engine.trace.links import Link

CHUNK = 900                     # ids per IN list: under SQLite's old 999-variable limit
SYSTEM = ("id", "serial_no", "title", "status", "created_at")
DISPLAY_TYPES = frozenset({"text", "number", "select", "radio", "date", "datetime", "barcode", "serial",
                           "boolean", "lookup", "formula"})
DISPLAY_COUNT = 3
_PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")


def chunks(ids: Iterable[int]) -> Iterator[list[int]]:
    """Sorted distinct ids in batches of at most :data:`CHUNK`."""
    ordered = sorted(set(ids))
    for i in range(0, len(ordered), CHUNK):
        yield ordered[i:i + CHUNK]


def display_fields(form: FormDef, hidden: frozenset[str]) -> list:
    """A few fields that identify a record on a card: simple values the reader may see, not
    already in the title (a lot number shown twice says nothing)."""
    in_title = set(_PLACEHOLDER.findall(form.title_template or ""))
    picked = [f for f in form.fields if f.type in DISPLAY_TYPES and f.key not in hidden and f.key not in in_title]
    return picked[:DISPLAY_COUNT]


def read_rows(session: Session, tenant_id: int, pub: PublishedForm, scope: BoundScope, ids: Iterable[int],
              columns: Sequence[str]) -> dict[int, Mapping]:
    """{id: row} of the records among ``ids`` inside ``scope`` (system columns plus ``columns``)."""
    if not scope.allows_any:
        return {}
    top = sa_tables(pub.spec)[()]
    wanted = [top.c[c] for c in dict.fromkeys(SYSTEM + tuple(columns)) if c in top.c]
    out: dict[int, Mapping] = {}
    for batch in chunks(ids):
        stmt = select(*wanted).where(and_(top.c.tenant_id == tenant_id, top.c.id.in_(batch)))
        if not scope.is_all:
            stmt = stmt.where(scope.clause(top))
        out.update({row["id"]: row for row in session.execute(stmt).mappings()})
    return out


def sub_table_refs(session: Session, tenant_id: int, pub: PublishedForm, path: tuple[str, ...],
                   links: Sequence[Link], record_ids: Iterable[int]) -> list[tuple[int, Link, int]]:
    """(record id, link, referenced id) for every non-empty reference cell of sub-table ``path``
    in the given (already readable) records: one statement per batch for all its reference columns."""
    table = sa_tables(pub.spec)[path]
    out: list[tuple[int, Link, int]] = []
    for batch in chunks(record_ids):
        stmt = select(table.c.record_id, *(table.c[link.column] for link in links)).where(
            and_(table.c.tenant_id == tenant_id, table.c.record_id.in_(batch)))
        for row in session.execute(stmt).mappings():
            out += [(row["record_id"], link, int(row[link.column])) for link in links
                    if row[link.column] is not None]
    return out


def referrers(session: Session, tenant_id: int, pub: PublishedForm, scope: BoundScope, link: Link,
              target_ids: Iterable[int], per_target: int) -> list[tuple[int, int, int]]:
    """(referring record id, referenced id, how many readable records refer to that id) through ``link``.

    At most ``per_target`` referring records per referenced id are returned, but the count is
    the full one: a hub (a supplier with thousands of lots) costs one index range and a count,
    not thousands of rows. Distinct per record: a batch using one lot on two rows counts once.
    """
    if not scope.allows_any:
        return []
    tables = sa_tables(pub.spec)
    top, table = tables[()], tables[link.path]
    source = table.c.record_id if link.path else table.c.id
    column = table.c[link.column]
    out: list[tuple[int, int, int]] = []
    for batch in chunks(target_ids):
        inner = select(source.label("src"), column.label("dst")).where(
            and_(table.c.tenant_id == tenant_id, column.in_(batch)))
        if link.path and not scope.is_all:
            inner = inner.select_from(table.join(top, top.c.id == table.c.record_id))
        if not scope.is_all:
            inner = inner.where(scope.clause(top))
        pairs = inner.distinct().subquery()
        ranked = select(pairs.c.src, pairs.c.dst, func.count().over(partition_by=pairs.c.dst).label("n"),
                        func.row_number().over(partition_by=pairs.c.dst, order_by=pairs.c.src).label("rn")).subquery()
        stmt = select(ranked.c.src, ranked.c.dst, ranked.c.n).where(ranked.c.rn <= per_target)
        out += [(int(r.src), int(r.dst), int(r.n)) for r in session.execute(stmt)]
    return out


def node_info(form: FormDef, hidden: frozenset[str], row: Mapping) -> dict:
    """The JSON-ready card of a record: form label, system values and a few display values."""
    kinds = records.field_kinds(form)
    values = []
    for f in display_fields(form, hidden):
        if f.key not in row:
            continue
        value = records.from_db(kinds.get(((), f.key)), row[f.key])
        value = None if value is None else field_type(f.type).to_json(f, value)
        values.append({"key": f.key, "label": f.label.to_dict(), "value": value, "choice": _choice(f, value)})
    created = records.from_db(StorageKind.DATETIME, row["created_at"])
    return {"form_label": form.label.to_dict(), "serial_no": row["serial_no"], "title": row["title"],
            "status": row["status"], "created_at": created.isoformat() if created else None, "values": values}


def _choice(f, code: Any) -> dict | None:
    """The bilingual label of a select/radio code (None for other fields or unknown codes)."""
    if f.type not in ("select", "radio") or code is None:
        return None
    for choice in f.option("choices", ()) or ():
        if choice.get("code") == code:
            label = choice.get("label")
            return dict(label) if isinstance(label, Mapping) else {"zh-CN": str(label), "en": str(label)}
    return None
