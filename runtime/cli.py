"""Admin commands of the ``qms`` console command: tenants, users, passwords, API tokens, app packages.

Each command runs as one transaction through the engine services (nothing is written when it
fails). A user mistake — an unknown tenant, a taken email, an invalid package — prints a clear
message in both languages to stderr and exits with status 1, never a traceback. Generated
passwords and new API tokens are printed once; only their hashes are stored.
"""
from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from engine.auth.passwords import generate_password
from engine.errors import DefinitionError, QMSError
from engine.i18n import Msg
from engine.services import accounts
from engine.services import apps as app_service
from engine.services.bootstrap import DEFAULT_TENANT_KEY
from engine.storage.db import session_scope
from engine.types import Actor

TENANT_HELP = "Tenant (company) key / 公司标识"


def _fail(message: Msg, details: list[str] | None = None) -> None:
    """Print a bilingual error (and detail lines) to stderr and exit with status 1."""
    click.echo(f"错误：{message.zh}", err=True)
    click.echo(f"Error: {message.en}", err=True)
    for line in details or ():
        click.echo(f"  {line}", err=True)
    raise click.exceptions.Exit(1)


@contextmanager
def _transaction() -> Iterator[Session]:
    """One unit of work on the app's database; engine errors become a clean exit 1."""
    try:
        with session_scope(current_app.extensions["qms_db"]) as session:
            yield session
    except DefinitionError as exc:
        _fail(exc.message, [f"{p.path}: {p.message.en} / {p.message.zh}" for p in exc.problems])
    except QMSError as exc:
        _fail(exc.message)


def _tenant_option(function):
    return click.option("--tenant", "tenant_key", default=DEFAULT_TENANT_KEY, show_default=True,
                        help=TENANT_HELP)(function)


@click.command("create-tenant")
@click.argument("key")
@click.argument("name")
@with_appcontext
def create_tenant_command(key: str, name: str) -> None:
    """Create a tenant (company) KEY with the display NAME."""
    with _transaction() as session:
        tenant_id = accounts.create_tenant(session, key, name)
    click.echo(f"Created tenant {key} (id {tenant_id}) / 已创建公司 {key}")


@click.command("create-user")
@_tenant_option
@click.option("--email", required=True, help="Login email / 登录邮箱")
@click.option("--name", default="", help="Display name / 姓名")
@click.option("--password", default=None, help="Password (generated and printed when omitted) / 密码")
@click.option("--admin", is_flag=True, help="Tenant administrator / 管理员")
@click.option("--role", "roles", multiple=True, help="Role key, repeatable / 角色标识（可多次）")
@click.option("--department", default=None, help="Department key / 部门标识")
@with_appcontext
def create_user_command(tenant_key: str, email: str, name: str, password: str | None, admin: bool,
                        roles: tuple[str, ...], department: str | None) -> None:
    """Create a user of a tenant; prints the password when it was generated."""
    generated = None if password else generate_password()
    with _transaction() as session:
        tenant_id = accounts.tenant_id_by_key(session, tenant_key)
        user_id = accounts.create_user(session, tenant_id, email, name, password or generated, roles=roles,
                                       department=department, is_admin=admin)
    click.echo(f"Created user {accounts.normalize_email(email)} (id {user_id}) in tenant {tenant_key}"
               f" / 已创建用户")
    if generated:
        click.echo(f"Password / 密码: {generated}  (shown once / 仅显示一次)")


@click.command("reset-password")
@_tenant_option
@click.option("--email", required=True, help="Login email / 登录邮箱")
@click.option("--password", default=None, help="New password (generated and printed when omitted) / 新密码")
@with_appcontext
def reset_password_command(tenant_key: str, email: str, password: str | None) -> None:
    """Set a new password for a user; prints it when it was generated."""
    generated = None if password else generate_password()
    with _transaction() as session:
        tenant_id = accounts.tenant_id_by_key(session, tenant_key)
        user_id = accounts.user_id_by_email(session, tenant_id, email)
        accounts.reset_password(session, tenant_id, user_id, password or generated)
    click.echo(f"Changed the password of {accounts.normalize_email(email)} / 密码已修改")
    if generated:
        click.echo(f"Password / 密码: {generated}  (shown once / 仅显示一次)")


@click.command("create-token")
@_tenant_option
@click.option("--email", required=True, help="The user the token acts as / 令牌所属用户的邮箱")
@click.option("--name", required=True, help="What the token is for, e.g. 'ERP sync' / 用途")
@with_appcontext
def create_token_command(tenant_key: str, email: str, name: str) -> None:
    """Create an API token for a user and print it (only once: just its hash is stored)."""
    with _transaction() as session:
        tenant_id = accounts.tenant_id_by_key(session, tenant_key)
        user_id = accounts.user_id_by_email(session, tenant_id, email)
        token = accounts.create_api_token(session, tenant_id, user_id, name)
    click.echo("API token (shown once; send it as 'Authorization: Bearer <token>') / "
               "API 令牌（仅显示一次）:", err=True)
    click.echo(token)


def _read_package(path: Path) -> dict:
    """The JSON app package in ``path``; a clean exit 1 when it cannot be read or parsed."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        _fail(Msg(f"无法读取文件 {path}：{exc.strerror}", f"Cannot read {path}: {exc.strerror}"))
    except UnicodeDecodeError:
        _fail(Msg(f"文件 {path} 不是 UTF-8 文本", f"{path} is not UTF-8 text"))
    except json.JSONDecodeError as exc:
        _fail(Msg(f"{path} 不是有效的 JSON：第 {exc.lineno} 行第 {exc.colno} 列，{exc.msg}",
                  f"{path} is not valid JSON: line {exc.lineno} column {exc.colno}: {exc.msg}"))
    if not isinstance(data, dict):
        _fail(Msg(f"{path} 应是一个 JSON 对象（应用包）", f"{path} must hold a JSON object (an app package)"))
    return data


@click.command("export-app")
@click.argument("app_key")
@_tenant_option
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file instead of standard output / 输出文件")
@with_appcontext
def export_app_command(app_key: str, tenant_key: str, output: Path | None) -> None:
    """Export the app APP_KEY as a package (the current published forms) in JSON."""
    with _transaction() as session:
        tenant_id = accounts.tenant_id_by_key(session, tenant_key)
        package = app_service.export_app(session, tenant_id, app_key)
    text = json.dumps(package, ensure_ascii=False, indent=2, default=str) + "\n"
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        _fail(Msg(f"无法写入文件 {output}：{exc.strerror}", f"Cannot write {output}: {exc.strerror}"))
    click.echo(f"Exported {app_key} ({len(package.get('forms') or [])} forms) to {output} / 已导出", err=True)


@click.command("run-timers")
@click.option("--every", type=click.IntRange(min=0), default=0,
              help="Repeat every N seconds until stopped (0: run once). / 每 N 秒重复（0：只运行一次）")
@with_appcontext
def run_timers_command(every: int) -> None:
    """Send due reminders and act on overdue approval tasks (cron, or --every for a long-running process)."""
    import time
    from engine.services import flow_timers
    engine = current_app.extensions["qms_db"]
    while True:
        try:
            acted = flow_timers.run_due(engine)
            click.echo(f"timers / 定时任务: {acted} task(s) acted on / 已处理")
        except SQLAlchemyError as exc:       # e.g. the database restarting: try again next round
            if not every:
                raise
            click.echo(f"timers / 定时任务: database error, retrying in {every} s / 数据库错误，稍后重试: "
                       f"{type(exc).__name__}", err=True)
        if not every:
            return
        time.sleep(every)


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty (rq only). / 队列清空后退出（仅 rq）")
@click.option("--name", default=None, help="Worker name shown by rq. / rq 中显示的名称")
@with_appcontext
def worker_command(burst: bool, name: str | None) -> None:
    """Run background jobs: rule actions, mails, webhooks, deadlines, schedules.

    With REDIS_URL an rq worker on queue 'qms' (start several for more throughput); without it
    the same jobs run in this process. / 运行后台任务：有 REDIS_URL 时为 rq worker，否则在本进程运行。
    """
    from engine.jobs import worker
    url, redis_url = current_app.config["DATABASE_URL"], current_app.config.get("REDIS_URL")
    if redis_url:
        click.echo(f"qms worker: rq on {redis_url.split('@')[-1]}, queue 'qms' / 已连接 Redis", err=True)
        worker.run_rq_worker(url, redis_url, burst=burst, name=name)
    else:
        click.echo("qms worker: no REDIS_URL, running jobs in this process / 未配置 Redis，在本进程运行任务", err=True)
        worker.run_in_process(url, rounds=1 if burst else None)


def _commands() -> tuple:
    from runtime.apps_admin.cli import import_app_command      # it borrows this module's helpers
    from runtime.backup_cli import backup_command, restore_command
    from runtime.audit_cli import verify_audit_command
    from runtime.demo_cli import demo_command
    from runtime.portal.cli import portal_user_command
    return (create_tenant_command, create_user_command, reset_password_command, create_token_command,
            import_app_command, export_app_command, run_timers_command, worker_command, demo_command,
            portal_user_command, backup_command, restore_command, verify_audit_command)


def register_commands(group: click.Group) -> None:
    """Add the admin commands to the ``qms`` command group."""
    for command in _commands():
        group.add_command(command)
