"""Upgrading an installed app in place: records and the tenant's own changes survive, the
template's changes arrive, conflicts are answered, the incoming template becomes the new base."""
import copy

import pytest
from sqlalchemy import select

from engine.errors import Conflict, DefinitionError, PermissionDenied
from engine.services import app_upgrade, apps, rule_defs
from engine.services import forms as form_service
from engine.services import records as record_service
from engine.storage.db import session_scope
from engine.storage.platform import apps as apps_table
from engine.types import Actor
from tests.engine.services.test_app_merge import NCR, RULE, field, fields, package

NOW_DATA = {"lot_no": "L-001", "qty_nc": 3, "disposition": "scrap", "items": [{"code": "D1", "qty": 3}]}


def run(engine, fn, *args, **kw):
    with session_scope(engine) as s:
        return fn(s, *args, **kw)


def v1() -> dict:
    return package("1.0.0", rules=[RULE])


def v2() -> dict:
    """The template's next version: a new field, a new wording, a new choice, qty_nc dropped."""
    pkg = package("2.0.0", rules=[dict(RULE, condition="qty_nc > 0")])
    fields(pkg).insert(1, {"key": "found_on", "type": "date", "label": {"zh-CN": "发现日期", "en": "Found on"}})
    field(pkg, "disposition")["label"]["en"] = "MRB disposition"
    field(pkg, "disposition")["choices"].append({"code": "return", "label": {"zh-CN": "退货", "en": "Return"}})
    pkg["forms"][0]["fields"] = [f for f in fields(pkg) if f["key"] != "qty_nc"]
    return pkg


def tenant_edits(engine, actor) -> None:
    """In the designer: a field of their own, their own Chinese wording; the rule switched off."""
    form = copy.deepcopy(NCR)
    form["fields"].append({"key": "customer_po", "type": "text", "label": {"zh-CN": "客户订单号", "en": "Customer PO"}})
    next(f for f in form["fields"] if f["key"] == "lot_no")["label"]["zh-CN"] = "生产批号"
    run(engine, form_service.publish_form, actor, form)
    run(engine, rule_defs.set_enabled, actor, "ncr_notify", False)


def install(engine, actor) -> int:
    run(engine, apps.import_app, actor, v1())
    return run(engine, record_service.create_record, actor, "ncr", NOW_DATA).id


def test_upgrade_keeps_records_and_tenant_changes_and_brings_the_template_changes(db_engine, actor):
    record_id = install(db_engine, actor)
    tenant_edits(db_engine, actor)
    preview = run(db_engine, app_upgrade.preview, actor, v2())
    assert (preview["app"], preview["from_version"], preview["to_version"], preview["direction"]) == (
        "ncr", "1.0.0", "2.0.0", "upgrade")
    assert not preview["conflicts"] and not preview["problems"] and not preview["new_app"]
    paths = {c["path"]: c["action"] for c in preview["changes"]}
    assert paths["forms[ncr].fields[found_on]"] == "add" and paths["forms[ncr].fields[qty_nc]"] == "keep"
    assert paths["rules[ncr_notify]"] == "update"

    done = run(db_engine, app_upgrade.apply, actor, v2())
    assert done["applied"] and ("ncr", 3) in [(p["form"], p["version"]) for p in done["result"]["published"]]
    form = run(db_engine, form_service.get_form, actor.tenant_id, "ncr").to_dict()
    assert [f["key"] for f in form["fields"]] == ["lot_no", "found_on", "qty_nc", "disposition", "items",
                                                  "customer_po"]
    assert field({"forms": [form]}, "lot_no")["label"] == {"zh-CN": "生产批号", "en": "Lot number"}
    assert field({"forms": [form]}, "disposition")["label"]["en"] == "MRB disposition"
    record = run(db_engine, record_service.get_record, actor, "ncr", record_id)
    assert record.data["lot_no"] == "L-001" and record.data["qty_nc"] == 3 and record.data["items"][0]["code"] == "D1"
    rule = run(db_engine, rule_defs.get_rule, actor, "ncr_notify")
    assert rule["enabled"] is False and rule["definition"]["condition"] == "qty_nc > 0"
    with session_scope(db_engine) as s:
        row = s.execute(select(apps_table.c.version, apps_table.c.package).where(
            apps_table.c.tenant_id == actor.tenant_id)).one()
    assert row.version == "2.0.0" and row.package == v2()           # the template is the next base


def test_the_same_version_again_says_there_is_nothing_to_do(db_engine, actor):
    install(db_engine, actor)
    tenant_edits(db_engine, actor)
    preview = run(db_engine, app_upgrade.preview, actor, v1())
    assert preview["direction"] == "same" and preview["changes"] == [] and preview["conflicts"] == []
    assert "already" in preview["notice"]["en"] and preview["notice"]["zh-CN"]
    done = run(db_engine, app_upgrade.apply, actor, v1())
    assert not done["applied"] and done["result"] is None


def test_a_downgrade_is_refused(db_engine, actor):
    install(db_engine, actor)
    run(db_engine, app_upgrade.apply, actor, v2())
    preview = run(db_engine, app_upgrade.preview, actor, v1())
    assert preview["direction"] == "downgrade" and "downgraded" in preview["notice"]["en"]
    with pytest.raises(Conflict):
        run(db_engine, app_upgrade.apply, actor, v1())


def test_conflicts_are_answered_by_id(db_engine, actor):
    install(db_engine, actor)
    form = copy.deepcopy(NCR)
    next(f for f in form["fields"] if f["key"] == "disposition")["label"]["en"] = "Decision"
    run(db_engine, form_service.publish_form, actor, form)
    preview = run(db_engine, app_upgrade.preview, actor, v2())
    [conflict] = preview["conflicts"]
    assert (conflict["id"], conflict["mine"], conflict["theirs"], conflict["default"]) == (
        "forms[ncr].fields[disposition].label.en", "Decision", "MRB disposition", "mine")
    with pytest.raises(Conflict):
        run(db_engine, app_upgrade.apply, actor, v2(), {"forms[ncr].fields[lot_no].label.en": "theirs"})
    with pytest.raises(DefinitionError):
        run(db_engine, app_upgrade.apply, actor, v2(), {conflict["id"]: "both"})
    run(db_engine, app_upgrade.apply, actor, v2(), {conflict["id"]: "theirs"})
    form = run(db_engine, form_service.get_form, actor.tenant_id, "ncr").to_dict()
    assert field({"forms": [form]}, "disposition")["label"]["en"] == "MRB disposition"


def test_a_new_app_installs_through_the_same_path(db_engine, actor):
    preview = run(db_engine, app_upgrade.preview, actor, v1())
    assert preview["new_app"] and preview["direction"] == "install" and preview["from_version"] is None
    assert {"forms[ncr]", "rules[ncr_notify]"} <= {c["path"] for c in preview["changes"]}
    assert run(db_engine, app_upgrade.apply, actor, v1())["result"]["created"]


def test_an_invalid_package_and_non_admins_are_refused(db_engine, actor, member):
    broken = v1()
    broken["forms"][0]["fields"][0]["type"] = "no_such_type"
    with pytest.raises(DefinitionError) as err:
        run(db_engine, app_upgrade.preview, actor, broken)
    assert err.value.problems[0].path.startswith("$.forms[0].fields[0]")
    with pytest.raises(PermissionDenied):
        run(db_engine, app_upgrade.preview, member, v1())
    with pytest.raises(PermissionDenied):
        run(db_engine, app_upgrade.apply, Actor(tenant_id=actor.tenant_id, user_id=5), v1())
