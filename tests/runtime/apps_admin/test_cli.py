"""``qms import-app`` with preview and confirmation (runtime/apps_admin/cli.py, run through Flask's CliRunner)."""
import json

from engine.services import apps
from runtime.apps_admin.cli import import_app_command
from tests.engine.services.test_app_merge import package
from tests.runtime.apps_admin.test_apps_pages import install_v1, rename_disposition, v2


def invoke(site, path, *args, input=None):
    runner = site.app.test_cli_runner()
    return runner.invoke(import_app_command, [str(path), "--tenant", "acme", *args], input=input)


def version(site) -> str:
    with site.session() as s:
        return apps.get_app(s, site.admin.tenant_id, "ncr")["version"]


def test_the_preview_is_printed_and_nothing_changes_without_confirmation(site, tmp_path):
    install_v1(site)
    rename_disposition(site, "Decision")
    path = tmp_path / "ncr.json"
    path.write_text(json.dumps(v2()), encoding="utf-8")
    result = invoke(site, path, input="n\n")
    assert result.exit_code == 0, result.output
    assert "Upgrade app ncr 1.0.0 → 2.0.0" in result.output and "found_on" in result.output
    assert "forms[ncr].fields[disposition].label.en" in result.output and "Nothing changed" in result.output
    assert version(site) == "1.0.0"
    result = invoke(site, path, input="y\n")
    assert result.exit_code == 0 and "Upgraded ncr 2.0.0" in result.output and version(site) == "2.0.0"


def test_yes_applies_and_theirs_takes_the_template_side(site, tmp_path):
    install_v1(site)
    rename_disposition(site, "Decision")
    path = tmp_path / "ncr.json"
    path.write_text(json.dumps(v2()), encoding="utf-8")
    result = invoke(site, path, "--yes", "--theirs", "forms[ncr].fields[disposition].label.en")
    assert result.exit_code == 0, result.output
    with site.session() as s:
        form = apps.export_app(s, site.admin.tenant_id, "ncr")["forms"][0]
    assert next(f for f in form["fields"] if f["key"] == "disposition")["label"]["en"] == "MRB disposition"


def test_a_downgrade_fails_cleanly(site, tmp_path):
    install_v1(site)
    path = tmp_path / "ncr.json"
    path.write_text(json.dumps(v2()), encoding="utf-8")
    assert invoke(site, path, "--yes").exit_code == 0
    path.write_text(json.dumps(package()), encoding="utf-8")
    result = invoke(site, path, "--yes")
    assert result.exit_code == 1 and "downgraded" in result.output and version(site) == "2.0.0"
