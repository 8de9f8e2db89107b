"""Baseline for ``bench_api.py``: the thinnest Flask + SQLAlchemy Core endpoints that store the same rows.

No metadata layer, no auth, no validation, no formulas, no audit: one INSERT (workload a) or
one parent INSERT plus one executemany of the child rows (workload b) per request, in one
transaction. The benchmark serves it with the same gunicorn command as the QMS app, so the
ratio measures what the platform's work costs. Database from ``BASELINE_DATABASE_URL``;
SQLite gets the same connection settings the engine uses (WAL, busy timeout) so concurrent
writers wait instead of failing.
"""
from __future__ import annotations

import os
from datetime import date, datetime

from flask import Flask, jsonify, request
from sqlalchemy import (Boolean, Column, Date, DateTime, Float, ForeignKey, Integer, MetaData, String, Table, Text,
                        create_engine, event, insert)

metadata = MetaData()

inspection = Table(
    "bl_inspection", metadata,
    Column("id", Integer, primary_key=True),
    Column("lot_no", String(40)), Column("supplier", String(200)), Column("part_no", String(200)),
    Column("inspector", String(200)), Column("inspected_at", DateTime(timezone=True)),
    Column("sample_size", Integer), Column("defect_qty", Integer), Column("defect_code", String(40)),
    Column("result", String(40)), Column("measured", Float),
)

TEXT_B = ("report_no", "lot_no", "supplier", "part_no", "part_name", "drawing_rev", "inspector",
          "defect_code", "severity", "aql", "inspection_level", "gauge_id", "result")
NUMBER_B = ("lot_size", "sample_size", "defect_qty", "temperature", "humidity", "measured_mean",
            "items_ng", "defect_rate", "max_deviation")
BOOL_B = ("first_article", "packaging_ok", "label_ok", "coc_received")
DATE_B = ("received_on", "gauge_due")

report = Table(
    "bl_report", metadata,
    Column("id", Integer, primary_key=True),
    *(Column(k, String(200)) for k in TEXT_B),
    *(Column(k, Float) for k in NUMBER_B),
    *(Column(k, Boolean) for k in BOOL_B),
    *(Column(k, Date) for k in DATE_B),
    Column("inspected_at", DateTime(timezone=True)), Column("remarks", Text),
)

ITEM_TEXT = ("characteristic",)
ITEM_NUMBER = ("seq", "nominal", "lsl", "usl", "measured", "deviation", "abs_dev", "ng")

report_item = Table(
    "bl_report_item", metadata,
    Column("id", Integer, primary_key=True),
    Column("parent_id", Integer, ForeignKey("bl_report.id"), index=True),
    Column("row_order", Integer),
    *(Column(k, String(200)) for k in ITEM_TEXT),
    *(Column(k, Float) for k in ITEM_NUMBER),
)


def make_db(url: str):
    """The engine, with WAL and a busy timeout on SQLite (as the QMS engine configures it)."""
    engine = create_engine(url)
    if engine.url.get_backend_name() == "sqlite":
        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn, _record) -> None:
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
    return engine


def _typed(row: dict) -> dict:
    """ISO strings to date/datetime (the drivers need Python objects)."""
    out = dict(row)
    for key in DATE_B:
        if isinstance(out.get(key), str):
            out[key] = date.fromisoformat(out[key])
    if isinstance(out.get("inspected_at"), str):
        out["inspected_at"] = datetime.fromisoformat(out["inspected_at"])
    return out


def create_app() -> Flask:
    """The baseline app (gunicorn: ``"tests.benchmarks.baseline_app:create_app()"``)."""
    app = Flask(__name__)
    db = make_db(os.environ["BASELINE_DATABASE_URL"])
    columns_a = [c.name for c in inspection.columns if c.name != "id"]
    columns_b = [c.name for c in report.columns if c.name != "id"]
    columns_item = [c.name for c in report_item.columns if c.name not in ("id", "parent_id", "row_order")]

    @app.post("/a")
    def create_a():
        data = request.get_json()["data"]
        with db.begin() as conn:
            new_id = conn.execute(insert(inspection).values(_typed({k: data.get(k) for k in columns_a}))) \
                .inserted_primary_key[0]
        return jsonify({"id": new_id, "version": 1, "data": data}), 201

    @app.post("/b")
    def create_b():
        data = request.get_json()["data"]
        with db.begin() as conn:
            new_id = conn.execute(insert(report).values(_typed({k: data.get(k) for k in columns_b}))) \
                .inserted_primary_key[0]
            rows = [{"parent_id": new_id, "row_order": i, **{k: row.get(k) for k in columns_item}}
                    for i, row in enumerate(data.get("items") or [])]
            if rows:
                conn.execute(insert(report_item), rows)
        return jsonify({"id": new_id, "version": 1, "data": data}), 201

    return app
