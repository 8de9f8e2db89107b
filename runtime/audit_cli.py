"""``qms verify-audit``: verify the tenants' audit chains from the console.

Exit status 0 when every chain verified is intact, 1 when one is broken (each broken tenant is
printed with its first broken link: seq, entry id, form, record, kind and the message in both
languages), 2 for a usage error (an unknown tenant, a malformed anchor). Each tenant's head
``SEQ:HASH`` is printed so an operator can keep it outside the database and pass it back later
as ``--anchor``. Every run is recorded in ``audit_checks`` (shown on the admin page).
"""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from engine.services import audit_verify
from engine.storage.db import session_scope
from engine.storage.platform import tenants

TENANT_HELP = "Tenant (company) key; all tenants when omitted / 公司标识（省略则检查所有公司）"
ANCHOR_HELP = "Expected chain entry SEQ:HASH noted from an earlier run (needs --tenant) / 之前记下的锚点 SEQ:HASH"


def _usage(zh: str, en: str) -> None:
    click.echo(f"错误：{zh}", err=True)
    click.echo(f"Error: {en}", err=True)
    raise click.exceptions.Exit(2)


def _describe(key: str, result: audit_verify.Verification) -> list[str]:
    head = f"{result.head_seq}:{result.head_hash}" if result.head_seq is not None else "-"
    if result.ok:
        return [f"{key}: intact / 完整 — {result.checked} entries / 条, head / 链尾 {head}"]
    b = result.broken
    return [f"{key}: BROKEN / 已损坏 — {b.kind} at seq / 序号 {b.seq}, entry / 记录 {b.entry_id or '-'}, "
            f"form / 表单 {b.form_key or '-'}, record / 数据 {b.record_id or '-'}",
            f"  {b.message.zh}", f"  {b.message.en}",
            f"  {result.checked} entries verified before it / 之前已校验 {result.checked} 条; head / 链尾 {head}"]


@click.command("verify-audit")
@click.option("--tenant", "tenant_key", default=None, help=TENANT_HELP)
@click.option("--anchor", default=None, help=ANCHOR_HELP)
@with_appcontext
def verify_audit_command(tenant_key: str | None, anchor: str | None) -> None:
    """Verify the audit trail's hash chain and name the first broken link. / 校验审计链。"""
    expected = None
    if anchor is not None:
        if tenant_key is None:
            _usage("--anchor 需要同时指定 --tenant", "--anchor needs --tenant (an anchor belongs to one tenant)")
        try:
            expected = audit_verify.parse_anchor(anchor)
        except ValueError:
            _usage(f"锚点“{anchor[:80]}”无效：应为 序号:64位十六进制哈希",
                   f"Anchor '{anchor[:80]}' is not valid: expected SEQ:HASH (a 64-hex-digit hash)")
    engine = current_app.extensions["qms_db"]
    with session_scope(engine) as session:
        stmt = select(tenants.c.id, tenants.c.key).order_by(tenants.c.id)
        chosen = session.execute(stmt if tenant_key is None else stmt.where(tenants.c.key == tenant_key)).all()
    if not chosen and tenant_key is not None:
        _usage(f"公司“{tenant_key}”不存在", f"Tenant '{tenant_key}' does not exist")
    broken = 0
    for tenant_id, key in chosen:
        with session_scope(engine) as session:
            result = audit_verify.verify_tenant(session, tenant_id, expected)
            audit_verify.record_check(session, result, actor_id=None)
        broken += not result.ok
        for line in _describe(key, result):
            click.echo(line)
    if broken:
        raise click.exceptions.Exit(1)
