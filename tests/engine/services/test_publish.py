"""Publishing versions: records keep the definition they were written under; republish migrates."""
import pytest
from sqlalchemy import inspect

from engine.errors import DefinitionError, NotFound
from engine.services import forms as form_service
from engine.storage import naming
from engine.storage.db import session_scope
from tests.engine.services.support import (IQC_KEY, create, definition, field_of, get, lot, publish, publish_iqc,
                                           query, update)


def iqc_v2() -> dict:
    """Adds a field and a sub-table, widens two, removes one; relabels another (no rename)."""
    d = definition("all_field_types")
    field_of(d, "lot_no")["max_length"] = 80                       # text(40) → text(80)
    field_of(d, "sample_size")["precision"] = 2                    # integer → decimal
    field_of(d, "part_no")["label"] = {"zh-CN": "料号", "en": "Item code"}
    d["fields"] = [f for f in d["fields"] if f["key"] != "department"]   # removed
    d["fields"].append({"key": "carrier", "type": "text", "label": {"zh-CN": "承运商", "en": "Carrier"}})
    d["fields"].append({"key": "defects", "type": "subtable", "label": {"zh-CN": "缺陷", "en": "Defects"},
                        "fields": [{"key": "code", "type": "text", "label": {"zh-CN": "代码", "en": "Code"}},
                                   {"key": "qty", "type": "number", "label": {"zh-CN": "数量", "en": "Qty"}}]})
    return d


def test_republish_migrates_and_old_records_stay_readable_with_their_version(db_engine, actor):
    supplier = publish_iqc(db_engine, actor)
    old = create(db_engine, actor, IQC_KEY, lot(supplier.id))
    v2 = publish(db_engine, actor, iqc_v2())
    assert v2.version == 2
    data = lot(supplier.id, lot_no="L-" + "9" * 60, sample_size=12.5, carrier="DHL", defects=[{"code": "D1", "qty": 2}])
    del data["department"]                                         # no longer a field of version 2
    new = create(db_engine, actor, IQC_KEY, data)
    assert (new.def_version, new.data["sample_size"], new.data["carrier"]) == (2, 12.5, "DHL")
    assert new.data["lot_no"] == "L-" + "9" * 60 and new.data["defects"][0]["code"] == "D1"
    assert "department" not in new.data
    again = get(db_engine, actor, IQC_KEY, old.id)                 # shown with version 1, values intact
    assert again.def_version == 1 and again.data == old.data
    assert again.data["department"] == 3 and isinstance(again.data["sample_size"], int)
    top = naming.record_table_name(actor.tenant_id, IQC_KEY)
    columns = {c["name"] for c in inspect(db_engine).get_columns(top)}
    assert {"department", "carrier", "part_no"} <= columns and "item_code" not in columns
    page = query(db_engine, actor, IQC_KEY, sort="id")
    assert [(r.id, r.def_version) for r in page.items] == [(old.id, 1), (new.id, 2)]


def test_updating_an_old_record_keeps_its_version_unless_upgraded(db_engine, actor):
    supplier = publish_iqc(db_engine, actor)
    old = create(db_engine, actor, IQC_KEY, lot(supplier.id))
    publish(db_engine, actor, iqc_v2())
    kept = update(db_engine, actor, IQC_KEY, old.id, 1, {"department": 4})
    assert (kept.def_version, kept.data["department"]) == (1, 4)
    moved = update(db_engine, actor, IQC_KEY, old.id, 2, {"carrier": "UPS"}, upgrade=True)
    assert (moved.def_version, moved.data["carrier"], moved.version) == (2, "UPS", 3)
    assert "department" not in moved.data and moved.serial_no == old.serial_no


def test_unsafe_republish_is_refused_and_nothing_changes(db_engine, actor):
    publish_iqc(db_engine, actor)
    top = naming.record_table_name(actor.tenant_id, IQC_KEY)
    before = sorted(c["name"] for c in inspect(db_engine).get_columns(top))
    bad = iqc_v2()
    field_of(bad, "lot_no").update(type="number", precision=0)
    for key in ("min_length", "max_length", "pattern"):
        field_of(bad, "lot_no").pop(key)
    with pytest.raises(DefinitionError) as err:
        publish(db_engine, actor, bad)
    (problem,) = err.value.problems
    assert problem.path == "$.fields[0]" and "lot_no" in problem.message.en and "text(40)" in problem.message.en
    assert "lot_no" in problem.message.zh
    assert sorted(c["name"] for c in inspect(db_engine).get_columns(top)) == before   # not even "carrier"
    assert f"{top}__defects" not in inspect(db_engine).get_table_names()
    with session_scope(db_engine) as s:
        assert form_service.get_form(s, actor.tenant_id, IQC_KEY).version == 1


def test_invalid_definitions_list_all_problems_and_unknown_forms_are_not_found(db_engine, actor):
    broken = definition("supplier")
    broken["fields"][1]["key"] = "code"                            # duplicate key
    broken["fields"][2]["type"] = "colour"                         # unknown type
    with pytest.raises(DefinitionError) as err:
        publish(db_engine, actor, broken)
    assert len(err.value.problems) >= 2
    assert naming.record_table_name(actor.tenant_id, "supplier") not in inspect(db_engine).get_table_names()
    with session_scope(db_engine) as s:
        with pytest.raises(NotFound):
            form_service.get_form(s, actor.tenant_id, "nothing")
        assert form_service.list_forms(s, actor.tenant_id) == []


def test_versions_are_kept_and_listed(db_engine, actor):
    publish_iqc(db_engine, actor)
    publish(db_engine, actor, iqc_v2())
    with session_scope(db_engine) as s:
        assert form_service.get_form(s, actor.tenant_id, IQC_KEY, version=1).field("department") is not None
        assert form_service.get_form(s, actor.tenant_id, IQC_KEY).field("department") is None
        listed = {f["key"]: f["current_version"] for f in form_service.list_forms(s, actor.tenant_id)}
    assert listed == {"supplier": 1, IQC_KEY: 2}


def test_reloaded_version_keeps_lookup_types_from_publish_time(db_engine, actor):
    """A stored version is self-contained: its lookups are typed by the referenced form as published."""
    from engine.definitions import form_scope
    from engine.expressions.types import TEXT
    from engine.services import forms as form_service
    from engine.storage import form_store
    from engine.storage.db import session_scope
    from tests.engine.services.support import publish_iqc

    publish_iqc(db_engine, actor)
    form_store._parse.cache_clear()          # as in a fresh process
    with session_scope(db_engine) as s:
        iqc = form_service.get_form(s, actor.tenant_id, "iqc_inspection")
    assert iqc.field("supplier_name").option("target") is not None
    assert form_scope(iqc).lookup("supplier_name") == TEXT
