"""Builders for the record-service tests (shared with the PostgreSQL re-run)."""
from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from pathlib import Path

from engine.services import forms as form_service
from engine.services import records as record_service
from engine.storage.db import session_scope

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "definitions"
IQC_KEY = "iqc_inspection"
NOW = datetime(2026, 4, 17, 8, 30, tzinfo=timezone.utc)


def definition(name: str) -> dict:
    """A fresh copy of a definition fixture (tests may change it)."""
    return copy.deepcopy(json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8")))


def field_of(defn: dict, key: str) -> dict:
    return next(f for f in defn["fields"] if f["key"] == key)


def publish(engine, actor, defn: dict):
    with session_scope(engine) as s:
        return form_service.publish_form(s, actor, defn)


def publish_iqc(engine, actor):
    """Publish the supplier form and the all-field-types IQC form; return a supplier record."""
    publish(engine, actor, definition("supplier"))
    publish(engine, actor, definition("all_field_types"))
    return create(engine, actor, "supplier", {"code": "S001", "name": "Acme Metals", "grade": "A"})


def create(engine, actor, form_key: str, data: dict, now: datetime = NOW, reason: str | None = None):
    with session_scope(engine) as s:
        return record_service.create_record(s, actor, form_key, data, reason, now=now)


def get(engine, actor, form_key: str, record_id: int):
    with session_scope(engine) as s:
        return record_service.get_record(s, actor, form_key, record_id)


def update(engine, actor, form_key: str, record_id: int, version: int, data: dict, **kw):
    with session_scope(engine) as s:
        return record_service.update_record(s, actor, form_key, record_id, version, data, now=NOW, **kw)


def query(engine, actor, form_key: str, **kw):
    with session_scope(engine) as s:
        return record_service.query_records(s, actor, form_key, now=NOW, **kw)


def lot(supplier_id: int, lot_no: str = "LOT-001", **overrides) -> dict:
    """Valid IQC record data: two characteristics, the first with three readings."""
    data = {
        "lot_no": lot_no, "supplier": supplier_id, "part_no": "P-100", "lot_size": 500, "sample_size": 50,
        "inspection_level": "II", "aql": "1.0", "received_at": "2026-04-16T09:15:00+08:00",
        "inspection_date": "2026-04-17", "inspector": 7, "department": 3, "notified": [7, 8],
        "defect_types": ["dimension"], "first_article": True,
        "coc": [{"id": "f1", "name": "coc.pdf", "content_type": "application/pdf", "size": 1200}],
        "photos": [{"id": "p1", "name": "lot.jpg", "content_type": "image/jpeg"}],
        "characteristics": [
            {"name": "Length", "nominal": 10, "lsl": 9.9, "usl": 10.1,
             "readings": [{"value": 10.01}, {"value": 9.98}, {"value": 10.04}]},
            {"name": "Width", "nominal": 5, "lsl": 4.9, "usl": 5.1, "readings": [{"value": 5.0}]},
        ],
    }
    data.update(overrides)
    return data
