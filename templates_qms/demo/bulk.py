"""The bulk path: plain incoming lots (accepted, good suppliers) written straight into the record tables.

What the record service would store, without its per-record overhead (audit entry, flow start,
rule events, one INSERT … RETURNING per row): each inspection is validated by the same
``engine.forms.validate_record`` — once per shape (supplier, part, lot size, defects, switching
state), the lot-by-lot differences (lot number, dates, readings) recomputed with the engine's own
formulas and checks by :class:`~templates_qms.demo.revalidate.Revalidator` — so every formula
(sampling plan, severity from the real switching state, characteristic results, lot decision)
and every lookup is the engine's; numbered from the same serial counter (a block per period by
``engine.storage.serials.reserve_serials``), and inserted with executemany into the form's table and its
sub-tables, with the date buckets of ``engine.storage.buckets`` and the system columns. Each lot
also gets its ``material_lot`` (released, as the review rule would leave it) and its ``delivery``.

Not written for bulk records: audit entries, flow instances (they never went through review), rule
runs, and switching-state updates (the plain lots of good suppliers stay at normal inspection).
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable, Iterable

from sqlalchemy import func, insert, select, text

from engine.expressions import EvalContext
from engine.fields import field_type
from engine.fields.serial import format_serial, period_key
from engine.services.facts import SqlFacts
from engine.storage import buckets, form_store, records
from engine.storage.record_tables import sa_tables
from engine.storage.serials import reserve_serials

from templates_qms.demo import plan as p
from templates_qms.demo.incoming import delivery_data, inspection_data
from templates_qms.demo.revalidate import Revalidator
from templates_qms.demo.writer import Writer, business_hours

FORMS = ("iqc_inspection", "material_lot", "delivery")


def _aql_facts(data: dict, ctx) -> list:
    """The switching state the inspection's severity formulas read (part of the reuse key): the
    batch's facts answer each supplier × part once (cached per transaction)."""
    return [ctx.facts.aql_state(data.get("supplier"), data.get("part"), c) for c in (None, "MA", "MI")]


# per form: the input fields that differ lot by lot (everything else is the reuse key), the
# sub-table columns that differ row by row, and the database facts the formulas read
_VARYING = {
    "iqc_inspection": (("lot_no", "po_no", "received_on", "inspector", "inspected_at"),
                       {"characteristics": ("instrument", "value", "v2", "v3", "v4", "v5")}, _aql_facts),
    "material_lot": (("lot_no", "qty", "received_on", "iqc", "location"), None, None),
    "delivery": (("po_no", "promised_date", "received_date", "ordered_qty", "qty"), None, None),
}


class BulkForm:
    """One published form, ready for executemany: its tables, storage kinds and serial field."""

    def __init__(self, session, tenant_id: int, key: str):
        self.pub = form_store.load_published(session, tenant_id, key)
        self.form, self.spec, self.tables = self.pub.form, self.pub.spec, sa_tables(self.pub.spec)
        self.kinds = records.field_kinds(self.form)
        self.serial = next((f for f in self.form.fields if f.type == "serial"), None)
        self.top = self.tables[()]
        self._columns: dict[tuple, list[tuple[str, Any, bool]]] = {}

    def columns(self, fields, path) -> list[tuple[str, Any, bool]]:
        """(key, storage kind, dated?) of the stored fields at ``path`` (worked out once per level)."""
        if path not in self._columns:
            spec = self.spec
            for key in path:
                spec = spec.child(key)
            self._columns[path] = [(f.key, self.kinds[(path, f.key)], self.kinds[(path, f.key)] in buckets.DATED)
                                   for f in fields if not field_type(f.type).is_subtable
                                   and spec.column(f.key) is not None]
        return self._columns[path]

    def row(self, fields, path, values: dict, zone) -> dict:
        """Column values of one row with the buckets of its dates (as the record repository writes them)."""
        out = {}
        for key, kind, dated in self.columns(fields, path):
            out[key] = value = records.to_db(kind, values.get(key))
            if dated:
                out.update(buckets.bucket_values(key, kind, value, zone))
        return out

    def next_id(self, conn) -> int:
        return conn.execute(select(func.coalesce(func.max(self.top.c.id), 0))).scalar_one() + 1


class BulkWriter:
    """Writes batches of plain lots as ``creator``; records ids and counts like the engine path."""

    def __init__(self, w: Writer, plan: p.Plan):
        self.w, self.plan = w, plan
        with w.session() as s:
            self.forms = {key: BulkForm(s, w.tenant_id, key) for key in FORMS}
            self.zone = buckets.tenant_zone(s, w.tenant_id)
            self.master = _master_values(s, w)
        self.written = 0

    def lookups(self, dotted: str, record_id: Any):
        """Master data values by reference; the inspection a lot refers to is written in the same
        transaction (its lookups are not used), so it only needs to exist."""
        if dotted in self.master:
            return self.master[dotted].get(record_id)
        return {"id": record_id}

    def write(self, lots: Iterable[tuple[int, p.Lot]]) -> int:
        """One transaction: validate every lot, number it, insert inspections, lots and deliveries."""
        batch = list(lots)
        if not batch:
            return 0
        w = self.w
        with w.session() as s:
            ctx = EvalContext(user_id=None, now=datetime.now(timezone.utc), facts=SqlFacts(s, w.tenant_id))
            check = self._validators(ctx)
            made = {key: [] for key in FORMS}
            for k, lot in batch:
                inspector = w.people.id(("insp1", "insp2", "insp3")[k % 3])
                values = check["iqc_inspection"].validate(inspection_data(w, self.plan, lot, k, inspector))
                made["iqc_inspection"].append((k, lot, values, inspector))
                made["delivery"].append((k, lot, check["delivery"].validate(delivery_data(w, self.plan, lot, k)),
                                         w.people.id("buyer")))
            ids = self._insert(s, "iqc_inspection", made["iqc_inspection"])
            lots_made = [(k, lot, check["material_lot"].validate(self._material_lot(lot, k, record_id, values)), uid)
                         for (k, lot, values, uid), record_id in zip(made["iqc_inspection"], ids)]
            self._insert(s, "material_lot", lots_made)
            self._insert(s, "delivery", made["delivery"])
        self.written += len(batch)
        return len(batch)

    def _validators(self, ctx) -> dict[str, Revalidator]:
        """One :class:`Revalidator` per form, kept across batches (the switching state is in its key);
        the context (with this transaction's facts) is the batch's."""
        if not hasattr(self, "_check"):
            self._check = {key: Revalidator(self.forms[key].form, ctx, self.lookups, varying, rows, facts)
                           for key, (varying, rows, facts) in _VARYING.items()}
        for validator in self._check.values():
            validator.ctx = ctx
        return self._check

    def _material_lot(self, lot: p.Lot, k: int, iqc_id: int, values: dict) -> dict:
        return {"lot_no": values["lot_no"], "supplier": values["supplier"], "part": values["part"],
                "qty": lot.lot_size, "received_on": lot.day.isoformat(), "iqc": iqc_id,
                "lot_status": "released", "location": f"原材料仓 RM-{1 + k % 4}"}

    def _insert(self, s, key: str, made: list[tuple[int, p.Lot, dict, int]]) -> list[int]:
        """executemany of the records (explicit ids) and their sub-table rows; the new ids."""
        bf, t = self.forms[key], self.w.tenant_id
        conn = s.connection()
        first = bf.next_id(conn)
        ids = list(range(first, first + len(made)))
        numbers = self._numbers(s, bf, made)
        tops, children = [], {}
        for record_id, (k, lot, values, uid), number in zip(ids, made, numbers):
            created = business_hours(lot.day, k)
            if bf.serial is not None:
                values[bf.serial.key] = number
            row = bf.row(bf.form.fields, (), values, self.zone) | {
                "id": record_id, "tenant_id": t, "serial_no": number, "title": _title(bf, values, number),
                "created_by": uid, "created_at": created, "updated_by": uid, "updated_at": created, "version": 1,
                "status": "active", "def_version": bf.form.version}
            row |= buckets.bucket_values("created_at", records.StorageKind.DATETIME, created, self.zone)
            tops.append(row)
            for sub in (f for f in bf.form.fields if field_type(f.type).is_subtable):
                rows = children.setdefault(sub.key, [])
                for order, child in enumerate(values.get(sub.key) or []):
                    rows.append(bf.row(sub.fields, (sub.key,), child, self.zone) | {
                        "tenant_id": t, "record_id": record_id, "parent_id": record_id, "row_order": order})
        conn.execute(insert(bf.top), tops)
        for sub_key, rows in children.items():
            if rows:
                conn.execute(insert(bf.tables[(sub_key,)]), rows)
        if conn.dialect.name == "postgresql":        # explicit ids: move the sequence past them
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{bf.top.name}', 'id'), {ids[-1]})"))
        return ids

    def _numbers(self, s, bf: BulkForm, made) -> list[str | None]:
        """Serial numbers in order, one reserved block per counter period."""
        if bf.serial is None:
            return [None] * len(made)
        pattern = bf.serial.option("pattern")
        scope = f"field:{bf.form.key}.{bf.serial.key}"
        out: list[str | None] = []
        by_period: dict[str, list[int]] = {}
        for i, (k, lot, _v, _u) in enumerate(made):
            by_period.setdefault(period_key(pattern, business_hours(lot.day, k)), []).append(i)
        out = [None] * len(made)
        for period, members in by_period.items():
            first = reserve_serials(s, self.w.tenant_id, scope, period, len(members))
            for n, i in enumerate(members):
                k, lot = made[i][0], made[i][1]
                out[i] = format_serial(pattern, business_hours(lot.day, k), first + n)
        return out


def _title(bf: BulkForm, values: dict, number: str | None) -> str | None:
    from engine.services.records import _title as title_of
    return title_of(bf.form, records.to_json(bf.form, values), number)


def _master_values(session, w: Writer) -> dict[str, dict[int, dict]]:
    """Supplier and part values by id, for the lookups of the bulk-validated records."""
    from engine.services import records as record_service
    out: dict[str, dict[int, dict]] = {}
    for ref, form in (("supplier", "supplier"), ("part", "part")):
        values, page = {}, 1
        while True:
            got = record_service.query_records(session, w.admin, form, None, "id", page=page, per_page=500)
            values.update({r.id: dict(r.values) for r in got.items})
            if not got.has_next:
                break
            page += 1
        out[ref] = values
    return out


def write_bulk_lots(w: Writer, plan: p.Plan, lots: list[tuple[int, p.Lot]], progress: Callable,
                    batch: int = 5000) -> int:
    """All ``lots`` through :class:`BulkWriter`, ``batch`` per transaction; how many."""
    writer = BulkWriter(w, plan)
    for start in range(0, len(lots), batch):
        writer.write(lots[start:start + batch])
        progress("bulk", writer.written, len(lots))
    return writer.written

