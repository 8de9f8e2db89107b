"""``qms portal-user --supplier-code … --email …`` (the command the main engineer registers)."""
from __future__ import annotations

from engine.services import accounts
from engine.services import records as record_service
from engine.storage.db import session_scope
from runtime.portal.cli import portal_user_command


def _code(site, who: str) -> str:
    with session_scope(site.app.extensions["qms_db"]) as s:
        return record_service.get_record(s, site.world.admin, "supplier", site.world.suppliers[who]).values["code"]


def test_creates_a_portal_user_for_the_supplier_code_and_prints_the_password(site):
    runner = site.app.test_cli_runner()
    result = runner.invoke(portal_user_command, ["--supplier-code", _code(site, "B"), "--email", "cli@supplierb.cn",
                                                 "--name", "CLI B"])
    assert result.exit_code == 0, result.output
    assert "cli@supplierb.cn" in result.output and "Password / 密码: " in result.output
    with session_scope(site.app.extensions["qms_db"]) as s:
        user_id = accounts.user_id_by_email(s, site.world.admin.tenant_id, "cli@supplierb.cn")
        actor = accounts.actor_for_user(s, user_id)
    assert actor.roles == ("supplier_portal",) and actor.attribute("supplier_id") == site.world.suppliers["B"]


def test_an_unknown_code_is_a_clean_error(site):
    result = site.app.test_cli_runner().invoke(portal_user_command, ["--supplier-code", "NOPE", "--email",
                                                                     "x@y.cn", "--password", "long-enough-1"])
    assert result.exit_code == 1
    assert "No supplier with the code 'NOPE'" in result.output and "Traceback" not in result.output
