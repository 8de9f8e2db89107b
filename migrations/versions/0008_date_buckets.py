"""Date buckets on the record tables: every DATE / DATETIME column (and ``created_at``) gets its
week / month / quarter / year (and, for a date-time, local day) in integer columns of its own,
indexed for month and day, and filled from the stored values in the tenant's time zone.

Record tables are generated, not declared here, so this walks the newest published layout of
every form (form_versions.storage) and adds what each existing table lacks. Unlike the frozen
0001–0007, it uses the engine's bucket code (engine.storage.buckets / record_tables): the bucket
encodings are a data contract — a change to them needs a new migration that refills — and the
same code is what a republish uses, so an old database and a new one end up identical.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-21
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine.storage import buckets
from engine.storage.record_tables import MigrationPlan, TableSpec, apply_migration, bucket_index, plan_buckets

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_versions = sa.table("form_versions", sa.column("tenant_id", sa.BigInteger), sa.column("form_key", sa.String),
                     sa.column("version", sa.Integer), sa.column("storage", sa.JSON))


def _newest_specs(conn) -> list[tuple[int, TableSpec]]:
    """(tenant id, table layout) of the newest version of every published form."""
    newest = (sa.select(_versions.c.tenant_id, _versions.c.form_key, sa.func.max(_versions.c.version).label("v"))
              .group_by(_versions.c.tenant_id, _versions.c.form_key).subquery())
    rows = conn.execute(sa.select(_versions.c.tenant_id, _versions.c.storage).join(newest, sa.and_(
        _versions.c.tenant_id == newest.c.tenant_id, _versions.c.form_key == newest.c.form_key,
        _versions.c.version == newest.c.v)).order_by(_versions.c.tenant_id, _versions.c.form_key)).all()
    return [(tenant_id, TableSpec.from_json(storage["tables"])) for tenant_id, storage in rows]


def upgrade() -> None:
    conn = op.get_bind()
    zones: dict[int, object] = {}
    for tenant_id, spec in _newest_specs(conn):
        plan = MigrationPlan(spec=spec)
        plan_buckets(conn, plan)           # the missing bucket columns of tables that exist
        apply_migration(conn, plan)
        if plan.refill:
            zone = zones.get(tenant_id) or zones.setdefault(tenant_id, buckets.zone_of(conn, tenant_id))
            buckets.refill_buckets(conn, spec, zone, only=set(plan.refill))


def downgrade() -> None:
    conn = op.get_bind()
    for _tenant_id, spec in _newest_specs(conn):
        insp = sa.inspect(conn)
        existing = set(insp.get_table_names())
        for table in spec.walk():
            if table.name not in existing:
                continue
            have = {c["name"] for c in insp.get_columns(table.name)}
            indexes = {i["name"] for i in insp.get_indexes(table.name)}
            for source in buckets.source_columns(table.columns, not table.path):
                for b in buckets.bucket_specs(source):
                    name = bucket_index(table.name, b.name)[0]
                    if name in indexes:
                        op.drop_index(name, table_name=table.name)
                    if b.name in have:
                        op.drop_column(table.name, b.name)
