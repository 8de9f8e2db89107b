"""Storage (layer 4): SQLAlchemy Core on SQLite (embedded default) or PostgreSQL (psycopg 3).

* ``db``            – engines (``make_engine``), ``session_scope``, ``upgrade_database`` (Alembic)
* ``platform``      – the platform's own tables (managed by ``migrations/``)
* ``naming``        – safe, ≤ 63-character names of generated tables, indexes and constraints
* ``columns``       – field storage kinds ⇄ SQL types, reflection, safe widening
* ``record_tables`` – the per-form record tables: spec, migration planning, DDL
* ``form_store``    – form definitions and published versions
* ``records``       – record rows ⇄ record values (``Record``)
* ``buckets``       – date buckets (day/week/month/quarter/year) stored with each record for reports
* ``report_tables`` – report and dashboard definitions, AQL switching states
* ``filters``       – expression filters → SQL WHERE, sort keys
* ``serials``       – gap-free serial counters
* ``audit``         – the hash-chained audit trail

Repositories never commit: the caller (a service inside ``session_scope``) owns the transaction.
"""
