"""``qms import-app FILE``: show what installing or upgrading the package would change (changes,
conflicts) and ask before applying; ``--yes`` applies without asking (scripts), ``--theirs ID``
takes the template's side of a conflict (by default the tenant's change is kept).

Meant to replace the plain import command in runtime/cli.py's COMMANDS; it reuses that module's
package reading and transaction helpers (imported when run, as runtime/cli imports this module).
"""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from engine.services import accounts, app_upgrade
from engine.services.bootstrap import DEFAULT_TENANT_KEY
from engine.types import Actor

ACTIONS = {"add": "+ added / 新增    ", "update": "~ updated / 更新  ", "keep": "= kept / 保留     "}


def echo_plan(plan: dict) -> None:
    """Print a preview (both languages) for a person deciding whether to apply it."""
    if plan["new_app"]:
        click.echo(f"Install app {plan['app']} {plan['to_version']} / 安装应用")
    else:
        click.echo(f"Upgrade app {plan['app']} {plan['from_version']} → {plan['to_version']} / 升级应用")
    if plan["notice"]:
        click.echo(f"  {plan['notice']['en']} / {plan['notice']['zh-CN']}")
    for change in plan["changes"]:
        click.echo(f"  {ACTIONS[change['action']]}{change['descriptions']['en']} / {change['descriptions']['zh-CN']}")
    if plan["conflicts"]:
        click.echo(f"Conflicts / 冲突 ({len(plan['conflicts'])}); your change is kept unless you pass --theirs ID:")
    for conflict in plan["conflicts"]:
        click.echo(f"  ! {conflict['id']}")
        click.echo(f"      {conflict['descriptions']['en']} / {conflict['descriptions']['zh-CN']}")
        click.echo(f"      yours / 您的: {_value(conflict, 'mine')}    template / 模板: {_value(conflict, 'theirs')}")
    for problem in plan.get("problems") or ():
        click.echo(f"  problem / 问题 {problem['path']}: {problem['messages']['en']} / {problem['messages']['zh-CN']}")


def _value(conflict: dict, side: str) -> str:
    if conflict[f"{side}_absent"]:
        return "(removed / 已删除)"
    text = str(conflict[side])
    return text if len(text) <= 60 else text[:57] + "…"


@click.command("import-app")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--tenant", "tenant_key", default=DEFAULT_TENANT_KEY, show_default=True,
              help="Tenant (company) key / 公司标识")
@click.option("--yes", "-y", is_flag=True, help="Apply without asking / 不询问直接执行")
@click.option("--theirs", "theirs", multiple=True, metavar="ID",
              help="Take the template's side of this conflict (repeatable) / 此冲突采用模板的修改")
@with_appcontext
def import_app_command(file: Path, tenant_key: str, yes: bool, theirs: tuple[str, ...]) -> None:
    """Install or upgrade the app package FILE.json: preview, confirm, apply (all or nothing)."""
    from runtime.cli import _fail, _read_package, _transaction
    package = _read_package(file)
    with _transaction() as session:
        actor = Actor.system(accounts.tenant_id_by_key(session, tenant_key))
        plan = app_upgrade.preview(session, actor, package)
        session.rollback()
    echo_plan(plan)
    if plan["direction"] == "downgrade":
        _fail(_notice(plan))
    if not plan["changes"] and not plan["new_app"]:
        return
    if not yes and not click.confirm("Apply? / 确认执行？", default=False):
        click.echo("Nothing changed / 未做任何更改")
        return
    with _transaction() as session:
        done = app_upgrade.apply(session, actor, package, {key: "theirs" for key in theirs})
    result = done["result"] or {"published": []}
    click.echo(f"{'Installed' if done['new_app'] else 'Upgraded'} {done['app']} {done['to_version']} / "
               f"{'已安装' if done['new_app'] else '已升级'}")
    for item in result["published"]:
        click.echo(f"  published / 已发布  {item['form']} v{item['version']}")


def _notice(plan: dict):
    from engine.i18n import Msg
    return Msg(plan["notice"]["zh-CN"], plan["notice"]["en"])
