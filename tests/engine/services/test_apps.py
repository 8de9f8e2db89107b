"""App packages: import (validated as a whole, all or nothing), re-import, export, ownership of form keys.
Re-run on PostgreSQL by tests/integration."""
import copy

import pytest
from sqlalchemy import inspect, select

from engine.errors import DefinitionError, NotFound, PermissionDenied
from engine.services import apps as app_service
from engine.services import forms as form_service
from engine.storage import form_store, naming
from engine.storage.db import session_scope
from engine.storage.platform import apps as apps_table
from engine.storage.platform import form_definitions
from engine.types import Actor
from tests.engine.services.support import IQC_KEY, create, definition, field_of, lot, publish

LABEL = {"zh-CN": "来料检验", "en": "Incoming inspection"}


def package(version: str = "1.0.0", key: str = "iqc", forms=None) -> dict:
    """The IQC app: the IQC form first (it references the supplier form listed after it)."""
    forms = forms if forms is not None else [definition("all_field_types"), definition("supplier")]
    return {"format": 1, "key": key, "version": version, "label": dict(LABEL), "forms": forms}


def admin_of(actor: Actor) -> Actor:
    return Actor(tenant_id=actor.tenant_id, user_id=actor.user_id, lang="en", name="Admin", is_admin=True)


@pytest.fixture
def admin(actor):
    return admin_of(actor)


def run(engine, fn, *args):
    with session_scope(engine) as s:
        return fn(s, *args)


def versions(engine, tenant_id: int) -> dict:
    with session_scope(engine) as s:
        return {r["key"]: (r["app_key"], r["current_version"]) for r in form_store.list_published(s, tenant_id)}


def test_import_publishes_referenced_forms_first_and_stores_the_app(db_engine, admin):
    result = run(db_engine, app_service.import_app, admin, package())
    assert result.created and result.app_key == "iqc" and result.version == "1.0.0"
    assert result.published == (("supplier", 1), (IQC_KEY, 1))          # supplier first: IQC references it
    assert versions(db_engine, admin.tenant_id) == {"supplier": ("iqc", 1), IQC_KEY: ("iqc", 1)}
    apps = run(db_engine, app_service.list_apps, admin.tenant_id)
    assert [(a["key"], a["version"], a["label"], a["forms"]) for a in apps] == [
        ("iqc", "1.0.0", LABEL, [IQC_KEY, "supplier"])]
    supplier = create(db_engine, admin, "supplier", {"code": "S001", "name": "Acme", "grade": "A"})
    record = create(db_engine, admin, IQC_KEY, lot(supplier.id))
    assert record.data["supplier_name"] == "Acme"                    # lookups work across the imported forms


def test_reimporting_the_same_package_creates_no_new_versions(db_engine, admin):
    run(db_engine, app_service.import_app, admin, package())
    again = run(db_engine, app_service.import_app, admin, package())
    assert not again.created and again.published == () and set(again.unchanged) == {"supplier", IQC_KEY}
    with session_scope(db_engine) as s:
        assert form_store.count_versions(s, admin.tenant_id, IQC_KEY) == 1
        assert s.execute(select(apps_table.c.version).where(apps_table.c.tenant_id == admin.tenant_id)).all() == [
            ("1.0.0",)]


def test_a_new_version_republishes_only_changed_forms_and_detaches_dropped_ones(db_engine, admin):
    extra = {"format": 1, "key": "carrier", "label": {"zh-CN": "承运商", "en": "Carrier"},
             "fields": [{"key": "name", "type": "text", "label": {"zh-CN": "名称", "en": "Name"}}]}
    run(db_engine, app_service.import_app, admin, package(forms=[definition("all_field_types"),
                                                                 definition("supplier"), extra]))
    supplier = definition("supplier")
    supplier["fields"].append({"key": "city", "type": "text", "label": {"zh-CN": "城市", "en": "City"}})
    result = run(db_engine, app_service.import_app, admin,
                 package("1.1.0", forms=[definition("all_field_types"), supplier]))
    # the IQC form did not change, but its referenced supplier form did: it is republished too,
    # so its stored copy of the supplier definition (for lookups) stays current
    assert result.published == (("supplier", 2), (IQC_KEY, 2)) and result.detached == ("carrier",)
    assert versions(db_engine, admin.tenant_id)["carrier"] == (None, 1)      # kept, with its records
    assert run(db_engine, app_service.get_app, admin.tenant_id, "iqc")["version"] == "1.1.0"


def test_an_invalid_package_lists_every_problem_and_stores_nothing(db_engine, admin):
    bad = package()
    field_of(bad["forms"][0], "lot_size")["type"] = "no_such_type"
    bad["forms"][1]["key"] = "Bad Key"
    with pytest.raises(DefinitionError) as err:
        run(db_engine, app_service.import_app, admin, bad)
    paths = [p.path for p in err.value.problems]
    assert any(p.startswith("$.forms[0].fields[") for p in paths) and any(p.startswith("$.forms[1].key") for p in paths)
    assert all(p.message.zh and p.message.en for p in err.value.problems)
    assert versions(db_engine, admin.tenant_id) == {}
    assert run(db_engine, app_service.list_apps, admin.tenant_id) == []
    with pytest.raises(DefinitionError) as err:
        run(db_engine, app_service.import_app, admin, ["not", "a", "package"])
    assert [p.path for p in err.value.problems] == ["$"]


def test_a_refused_change_part_way_rolls_back_the_whole_import(db_engine, admin):
    run(db_engine, app_service.import_app, admin, package(forms=[definition("supplier")]))
    carrier = {"format": 1, "key": "carrier", "label": {"zh-CN": "承运商", "en": "Carrier"},
               "fields": [{"key": "name", "type": "text", "label": {"zh-CN": "名称", "en": "Name"}}]}
    supplier = definition("supplier")
    field_of(supplier, "code").update(type="number", precision=0)     # text → number: storage refuses it
    for key in ("max_length", "pattern"):
        field_of(supplier, "code").pop(key)
    with pytest.raises(DefinitionError) as err:
        run(db_engine, app_service.import_app, admin, package("2.0.0", forms=[carrier, supplier]))
    assert [p.path for p in err.value.problems] == ["$.forms[1].fields[0]"]
    assert "carrier" not in versions(db_engine, admin.tenant_id)
    assert naming.record_table_name(admin.tenant_id, "carrier") not in inspect(db_engine).get_table_names()
    assert run(db_engine, app_service.get_app, admin.tenant_id, "iqc")["version"] == "1.0.0"


def test_forms_that_reference_each_other_import_in_one_go(db_engine, admin):
    def linked(key: str, other: str) -> dict:
        return {"format": 1, "key": key, "label": {"zh-CN": key, "en": key},
                "fields": [{"key": "name", "type": "text", "label": {"zh-CN": "名称", "en": "Name"}},
                           {"key": "link", "type": "reference", "form": other, "label": {"zh-CN": "关联", "en": "Link"}},
                           {"key": "link_name", "type": "lookup", "reference": "link", "field": "name",
                            "label": {"zh-CN": "关联名称", "en": "Link name"}}]}
    result = run(db_engine, app_service.import_app, admin, package(key="pair", forms=[linked("ncr", "capa"),
                                                                                     linked("capa", "ncr")]))
    assert sorted(result.published) == [("capa", 1), ("ncr", 1)]
    first = create(db_engine, admin, "ncr", {"name": "N-1"})
    second = create(db_engine, admin, "capa", {"name": "C-1", "link": first.id})
    assert second.data["link_name"] == "N-1"


def test_a_form_key_of_another_app_is_a_problem(db_engine, admin):
    run(db_engine, app_service.import_app, admin, package(forms=[definition("supplier")]))
    with pytest.raises(DefinitionError) as err:
        run(db_engine, app_service.import_app, admin, package(key="srm", forms=[definition("supplier")]))
    (problem,) = err.value.problems
    assert problem.path == "$.forms[0].key" and "iqc" in problem.message.en and "iqc" in problem.message.zh
    assert [a["key"] for a in run(db_engine, app_service.list_apps, admin.tenant_id)] == ["iqc"]


def test_a_stand_alone_form_is_adopted_by_the_app(db_engine, admin):
    publish(db_engine, admin, definition("supplier"))
    result = run(db_engine, app_service.import_app, admin, package(forms=[definition("supplier")]))
    assert result.unchanged == ("supplier",) and versions(db_engine, admin.tenant_id) == {"supplier": ("iqc", 1)}


def test_only_admins_and_the_system_import(db_engine, admin):
    member = Actor(tenant_id=admin.tenant_id, user_id=admin.user_id, lang="en", roles=("designer",))
    with pytest.raises(PermissionDenied) as err:
        run(db_engine, app_service.import_app, member, package())
    assert err.value.message.zh and err.value.message.en
    assert versions(db_engine, admin.tenant_id) == {}
    assert run(db_engine, app_service.import_app, Actor.system(admin.tenant_id), package()).created


def test_export_has_the_current_definitions_and_reimports_cleanly(db_engine, admin):
    run(db_engine, app_service.import_app, admin, package())
    changed = definition("supplier")
    changed["fields"].append({"key": "city", "type": "text", "label": {"zh-CN": "城市", "en": "City"}})
    publish(db_engine, admin, changed)                                # a designer change after the import
    extra = {"format": 1, "key": "carrier", "label": {"zh-CN": "承运商", "en": "Carrier"},
             "fields": [{"key": "name", "type": "text", "label": {"zh-CN": "名称", "en": "Name"}}]}
    with session_scope(db_engine) as s:
        form_service.publish_form(s, admin, extra, app_key="iqc")    # a form added to the app in the designer
    exported = run(db_engine, app_service.export_app, admin.tenant_id, "iqc")
    assert (exported["key"], exported["version"], exported["label"]) == ("iqc", "1.0.0", LABEL)
    assert [f["key"] for f in exported["forms"]] == [IQC_KEY, "supplier", "carrier"]
    assert exported["forms"][1]["fields"][-1]["key"] == "city"
    assert run(db_engine, app_service.import_app, admin, copy.deepcopy(exported)).published == ((IQC_KEY, 2),)


def test_apps_are_per_tenant(db_engine, admin, make_tenant):
    run(db_engine, app_service.import_app, admin, package())
    other = Actor(tenant_id=make_tenant(), user_id=1, is_admin=True)
    assert run(db_engine, app_service.list_apps, other.tenant_id) == []
    with pytest.raises(NotFound):
        run(db_engine, app_service.export_app, other.tenant_id, "iqc")
    with pytest.raises(NotFound):
        run(db_engine, app_service.get_app, other.tenant_id, "iqc")
    result = run(db_engine, app_service.import_app, other, package())    # same keys in another tenant: fine
    assert result.created and result.published == (("supplier", 1), (IQC_KEY, 1))
    with session_scope(db_engine) as s:
        rows = s.execute(select(form_definitions.c.tenant_id).where(form_definitions.c.key == "supplier")).all()
    assert {r[0] for r in rows} >= {admin.tenant_id, other.tenant_id}
