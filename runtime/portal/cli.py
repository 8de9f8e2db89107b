"""``qms portal-user``: create a supplier's portal login from the console (one transaction)."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from engine.auth.passwords import generate_password
from engine.services import accounts
from engine.services import portal as portal_service
from engine.services.bootstrap import DEFAULT_TENANT_KEY
from engine.types import Actor
from runtime.cli import TENANT_HELP, _transaction


@click.command("portal-user")
@click.option("--supplier-code", required=True, help="The supplier record's code / 供应商代码")
@click.option("--email", required=True, help="Login email / 登录邮箱")
@click.option("--name", default="", help="Display name / 姓名")
@click.option("--password", default=None, help="Password (generated and printed when omitted) / 密码")
@click.option("--tenant", "tenant_key", default=DEFAULT_TENANT_KEY, show_default=True, help=TENANT_HELP)
@with_appcontext
def portal_user_command(supplier_code: str, email: str, name: str, password: str | None, tenant_key: str) -> None:
    """Create a supplier portal user for the supplier with this code; prints a generated password."""
    generated = None if password else generate_password()
    with _transaction() as session:
        tenant_id = accounts.tenant_id_by_key(session, tenant_key)
        admin = Actor.system(tenant_id)
        supplier_id = portal_service.supplier_id_by_code(session, admin, supplier_code)
        user_id = portal_service.create_supplier_user(session, admin, supplier_id, email, name, password or generated)
    click.echo(f"Created portal user {user_id} ({accounts.normalize_email(email)}) for supplier {supplier_code}"
               f" / 已创建供应商门户账号")
    if generated:
        click.echo(f"Password / 密码: {generated}")
