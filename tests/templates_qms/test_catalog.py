"""The shipped catalog as a whole: every app installs in order into a fresh tenant (print
templates embedded), a second install changes nothing, and a newer template version upgrades a
tenant that changed the app without losing records or the tenant's changes. Re-run on
PostgreSQL by tests/integration/test_qms_apps_pg.py."""
from __future__ import annotations

import copy

from engine.services import app_upgrade
from engine.services import apps as app_service
from engine.services import forms as form_service
from engine.services import records as record_service
from engine.storage import form_store
from engine.storage.db import session_scope
from templates_qms import catalog

L = lambda zh, en: {"zh-CN": zh, "en": en}  # noqa: E731


def _install(db_engine, actor) -> list:
    with session_scope(db_engine) as s:
        return catalog.install_all(s, actor)


def test_every_app_installs_in_catalog_order_and_a_second_install_changes_nothing(db_engine, actor):
    results = _install(db_engine, actor)
    assert [r.app_key for r in results] == catalog.keys()
    assert all(r.created for r in results)
    with session_scope(db_engine) as s:
        installed = {a["key"]: a for a in app_service.list_apps(s, actor.tenant_id)}
        iqc = form_store.load_published(s, actor.tenant_id, "iqc_inspection").form
    assert set(installed) == set(catalog.keys())
    assert [p.key for p in iqc.prints] == ["report"]              # the print template travels with the form
    again = _install(db_engine, actor)
    assert [r.published for r in again] == [()] * len(again)


def test_the_catalog_lists_each_app_with_its_requirements_before_it():
    seen: set[str] = set()
    for item in catalog.catalog():
        assert set(item["requires"]) <= seen, item["key"]
        assert item["label"]["zh-CN"] and item["label"]["en"]
        seen.add(item["key"])


def test_a_newer_template_upgrades_in_place_keeping_records_and_the_tenants_changes(db_engine, actor):
    with session_scope(db_engine) as s:
        catalog.install_all(s, actor, only=["qms_base"])
    with session_scope(db_engine) as s:
        supplier = record_service.create_record(s, actor, "supplier", {"code": "S001", "name": "Acme"}).id
    # the tenant adds a field and renames a label in the designer
    with session_scope(db_engine) as s:
        mine = form_store.load_published(s, actor.tenant_id, "supplier").form.to_dict()
        mine["fields"].append({"key": "wechat", "type": "text", "label": L("微信", "WeChat")})
        next(f for f in mine["fields"] if f["key"] == "name")["label"]["en"] = "Company name"
        form_service.publish_form(s, actor, mine, "qms_base")
    # the next template version adds a field to part and changes the supplier form's own label
    theirs = catalog.load_package("qms_base")
    theirs["version"] = "1.1.0"
    part = next(f for f in theirs["forms"] if f["key"] == "part")
    part["fields"].append({"key": "shelf_life_days", "type": "number", "label": L("保质期（天）", "Shelf life (days)"),
                           "precision": 0})
    next(f for f in theirs["forms"] if f["key"] == "supplier")["label"]["en"] = "Supplier (approved list)"
    with session_scope(db_engine) as s:
        plan = app_upgrade.preview(s, actor, copy.deepcopy(theirs))
    assert plan["direction"] == "upgrade" and not plan["conflicts"]
    paths = " ".join(c["path"] for c in plan["changes"])
    assert "shelf_life_days" in paths
    with session_scope(db_engine) as s:
        app_upgrade.apply(s, actor, copy.deepcopy(theirs))
    with session_scope(db_engine) as s:
        form = form_store.load_published(s, actor.tenant_id, "supplier").form
        record = record_service.get_record(s, actor, "supplier", supplier)
        part_form = form_store.load_published(s, actor.tenant_id, "part").form
        app = app_service.get_app(s, actor.tenant_id, "qms_base")
    assert record.data["code"] == "S001" and record.data["name"] == "Acme"
    assert form.field("wechat") is not None and form.field("name").label.en == "Company name"
    assert form.label.en == "Supplier (approved list)"
    assert part_form.field("shelf_life_days") is not None and app["version"] == "1.1.0"
