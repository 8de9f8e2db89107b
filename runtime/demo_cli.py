"""``qms demo``: fill a tenant that has the QMS apps with a year of demo plant life (templates_qms.demo).

The main engineer registers :data:`demo_command` on the ``qms`` CLI. A refusal (apps missing, the
tenant already has data) prints a bilingual message and exits with status 1.
"""
from __future__ import annotations

import json

import click
from flask import current_app
from flask.cli import with_appcontext

from engine.errors import QMSError
from engine.services import accounts
from engine.services.bootstrap import DEFAULT_TENANT_KEY
from engine.storage.db import session_scope


def _size(value: str) -> str | int:
    if value in ("small", "default", "large"):
        return value
    try:
        number = int(value)
    except ValueError:
        raise click.BadParameter("small | default | large | <number of inspections>") from None
    if number < 1:
        raise click.BadParameter("the number of inspections must be positive / 检验单数量必须为正数")
    return number


@click.command("demo")
@click.option("--tenant", "tenant_key", default=DEFAULT_TENANT_KEY, show_default=True,
              help="Tenant (company) key / 公司标识")
@click.option("--size", default="default", show_default=True,
              help="small | default | large | <number of inspections> / 数据量")
@click.option("--seed", default=7, show_default=True, type=int, help="Random seed / 随机种子")
@with_appcontext
def demo_command(tenant_key: str, size: str, seed: int) -> None:
    """Generate a realistic year of demo data (suppliers, parts, inspections, NCRs, 8Ds…) in a tenant."""
    from templates_qms.demo import generate
    engine = current_app.extensions["qms_db"]
    try:
        with session_scope(engine) as session:
            tenant_id = accounts.tenant_id_by_key(session, tenant_key)
        summary = generate(engine, tenant_id, _size(size), seed=seed, progress=_progress,
                           uploads_dir=current_app.config["QMS_SETTINGS"].uploads_dir)
    except QMSError as exc:
        click.echo(f"错误：{exc.message.zh}", err=True)
        click.echo(f"Error: {exc.message.en}", err=True)
        raise click.exceptions.Exit(1)
    click.echo(f"Demo data generated in {summary['seconds']} s / 演示数据已生成")
    click.echo(json.dumps({"counts": summary["counts"], "paths": summary["paths"]}, ensure_ascii=False, indent=1))
    click.echo(f"Demo users' password (shown once) / 演示用户密码（仅显示一次）: {summary['users']['password']}")


def _progress(stage: str, done: int, total: int) -> None:
    if done == 0:
        click.echo(f"  … {stage}", err=True)
