"""Bulk edit and bulk delete: per-record rules and once-per-batch rules, scope and permissions,
per-record failures (stale, in approval, validation) beside the records that were written."""
from __future__ import annotations

import copy

import pytest
from sqlalchemy import func, select

from engine.errors import NotFound, PermissionDenied, RecordValidationError
from engine.services import accounts, bulk, flows
from engine.services import forms as form_service
from engine.services import records as record_service
from engine.services.flow_defs import publish_flow
from engine.storage.platform import audit_log
from engine.types import Actor
from tests.engine.rules.support import L, world  # noqa: F401  (fixture)

ON_UPDATE = {"format": 1, "key": "on_update", "label": L("修改时", "On update"), "form": "iqc",
             "trigger": {"type": "record_updated"},
             "actions": [{"type": "create_record", "form": "lot", "values": {"lot_no": "lot_no"}}]}
ONCE = {**ON_UPDATE, "key": "once_per_batch", "batch": "once"}
ON_DELETE = {**ON_UPDATE, "key": "on_delete", "trigger": {"type": "record_deleted"}}
REVIEW = {"format": 1, "key": "iqc_review", "label": L("审核", "Review"), "form": "iqc", "nodes": [
    {"id": "start", "type": "start", "next": "check"},
    {"id": "check", "type": "approval", "assignees": [{"kind": "submitter"}], "next": "end"},
    {"id": "end", "type": "end"}]}


def _lots(world, n: int, who: str = "admin", **data) -> list[int]:
    return [world.create("iqc", who, lot_no=f"L-{i}", qty=10 + i, **data) for i in range(n)]


def _update(world, actor, ids=None, filter=None, data=None, **kw):
    with world.session() as s:
        return bulk.bulk_update(s, actor, "iqc", ids, filter, {"result": "NG"} if data is None else data, **kw)


def test_every_record_written_fires_its_rule(world):
    world.publish(ON_UPDATE)
    ids = _lots(world, 3)
    report = _update(world, world.admin, ids, reason="re-inspected")
    assert (report.done, report.unchanged, report.failed, report.matched) == (3, 0, 0, 3)
    runs = world.runs("on_update")
    assert sorted(r["record_id"] for r in runs) == ids
    assert all(r["event"]["changed"] == ["result"] for r in runs)
    assert [world.get("iqc", i).data["result"] for i in ids] == ["NG"] * 3


def test_a_once_per_batch_rule_counts_only_the_records_written(world, monkeypatch):
    world.publish(ON_UPDATE)
    world.publish(ONCE)
    ids = _lots(world, 4)
    world.create("iqc", "admin", lot_no="other", result="NG")          # outside the batch: its own row
    same = world.create("iqc", "admin", lot_no="L-same", result="NG")  # unchanged: no event, not counted
    real = record_service.update_record

    def fails_after_firing(session, actor, form_key, record_id, *args, **kw):
        record = real(session, actor, form_key, record_id, *args, **kw)
        if record_id == ids[2]:         # its rules fired, then it fails: the savepoint takes them back
            raise record_service.QueryError("boom")
        return record
    monkeypatch.setattr(record_service, "update_record", fails_after_firing)
    report = _update(world, world.admin, ids + [same], versions={ids[3]: 99})      # ids[3]: stale
    assert (report.done, report.unchanged, report.failed) == (2, 1, 2)
    assert [p.record_id for p in report.problems] == [ids[2], ids[3]]
    assert "version 99" in report.problems[1].message.en
    assert sorted(r["record_id"] for r in world.runs("on_update")) == ids[:2]
    (once,) = world.runs("once_per_batch")
    assert once["event"]["batch"]["count"] == 2 and once["event"]["batch"]["records"] == ids[:2]
    assert once["event"]["batch"]["source"] == "bulk_edit" and once["event"]["batch"]["id"] == report.batch_id
    assert world.get("iqc", ids[2]).data["result"] is None and world.get("iqc", ids[2]).version == 1


def test_an_unchanged_record_keeps_its_version_and_gets_no_audit_entry(world):
    (rid,) = _lots(world, 1, result="NG")
    report = _update(world, world.admin, [rid])
    assert (report.done, report.unchanged) == (0, 1)
    assert world.get("iqc", rid).version == 1
    with world.session() as s:
        assert s.execute(select(func.count()).select_from(audit_log).where(
            audit_log.c.tenant_id == world.admin.tenant_id, audit_log.c.record_id == rid)).scalar() == 1


def test_a_filter_chooses_within_the_readers_scope(world):
    mine = _lots(world, 2, who="ivan")
    _lots(world, 2, who="admin")
    report = _update(world, world["ivan"], filter='CONTAINS(lot_no, "L-")')
    assert (report.matched, report.done) == (2, 2)
    assert sorted(r.id for r in world.records("iqc") if r.data["result"] == "NG") == mine


def test_records_outside_the_scope_are_not_found_and_not_named(world):
    (mine,) = _lots(world, 1, who="ivan")
    (theirs,) = _lots(world, 1, who="admin")
    report = _update(world, world["ivan"], [mine, theirs, 999999])
    assert report.done == 1 and [p.record_id for p in report.problems] == [theirs, 999999]
    assert report.problems[0].serial_no is None and "does not exist" in report.problems[0].message.en
    assert world.get("iqc", theirs).data["result"] is None


def test_readable_but_not_updatable_records_fail_with_permission_denied(world):
    with world.session() as s:
        accounts.create_role(s, world.admin.tenant_id, "lead", L("组长", "Lead"))
        accounts.set_permissions(s, world.admin.tenant_id, "lead", "form:iqc",
                                 {"create": True, "read": "all", "update": "own"})
        uid = accounts.create_user(s, world.admin.tenant_id, "lead@x.cn", "Lead", "lead-pass-123", roles=["lead"],
                                   lang="en")
        lead = accounts.actor_for_user(s, uid)
    (theirs,) = _lots(world, 1)
    with world.session() as s:
        mine = record_service.create_record(s, lead, "iqc", {"lot_no": "x"}).id
    report = _update(world, lead, [theirs, mine])
    assert report.done == 1 and [p.record_id for p in report.problems] == [theirs]
    assert "may not update" in report.problems[0].message.en and report.problems[0].serial_no == "IQC-0001"


def test_without_any_update_right_nothing_is_tried(world):
    ids = _lots(world, 1)
    with pytest.raises(PermissionDenied):
        _update(world, world["paula"], ids)
    with world.session() as s, pytest.raises(PermissionDenied):
        bulk.bulk_delete(s, world["ivan"], "iqc", ids, None)


def test_records_in_approval_are_reported_and_the_others_written(world):
    a, b = _lots(world, 2)
    with world.session() as s:
        publish_flow(s, world.admin, copy.deepcopy(REVIEW))
    with world.session() as s:
        flows.start_flow(s, world.admin, "iqc", a, "iqc_review")
    report = _update(world, world.admin, [a, b])
    assert report.done == 1 and report.problems[0].record_id == a
    assert "in approval" in report.problems[0].message.en
    with world.session() as s:
        deleted = bulk.bulk_delete(s, world.admin, "iqc", [a, b], None)
    assert deleted.done == 1 and "in approval" in deleted.problems[0].message.en
    assert world.get("iqc", a).id == a
    with world.session() as s, pytest.raises(NotFound):
        record_service.get_record(s, world.admin, "iqc", b)


def test_data_is_checked_up_front_with_every_field_named(world):
    ids = _lots(world, 2)
    with pytest.raises(RecordValidationError) as err:
        _update(world, world.admin, ids, data={"nope": 1, "defects": [], "qty": "many", "lot_no": "ok"})
    assert [e.field for e in err.value.errors] == ["qty", "defects", "nope"]     # form order
    assert "in bulk" in err.value.errors[1].message.en and "Unknown field" in err.value.errors[2].message.en
    with pytest.raises(RecordValidationError):
        _update(world, world.admin, ids, data={})
    assert all(world.get("iqc", i).version == 1 for i in ids)


def test_read_only_and_hidden_fields_cannot_be_set(world):
    with world.session() as s:
        accounts.set_permissions(s, world.admin.tenant_id, "inspector", "form:iqc",
                                 {"create": True, "read": "own", "update": "own",
                                  "fields": {"qty": "readonly", "inspector": "hidden"}})
    ids = _lots(world, 1, who="ivan")
    with pytest.raises(RecordValidationError) as err:
        _update(world, world["ivan"], ids, data={"qty": 5, "inspector": 1})
    assert [(e.field, e.message.en) for e in err.value.errors] == [
        ("qty", "'Quantity' is read-only for you"), ("inspector", "Unknown field 'inspector'")]
    with world.session() as s:
        from engine import access
        granted = access.form_access(s, world["ivan"], "iqc")
        form = form_service.get_form(s, world.admin.tenant_id, "iqc")
        assert [f.key for f in bulk.editable_fields(form, granted)] == ["lot_no", "result"]


def test_per_record_validation_errors_name_the_field(world):
    form = {"format": 1, "key": "limits", "label": L("限值", "Limits"), "fields": [
        {"key": "limit", "type": "number", "label": L("上限", "Limit")},
        {"key": "qty", "type": "number", "label": L("数量", "Quantity"), "max": {"expr": "limit"}}]}
    with world.session() as s:
        form_service.publish_form(s, world.admin, form)
        low = record_service.create_record(s, world.admin, "limits", {"limit": 5}).id
        high = record_service.create_record(s, world.admin, "limits", {"limit": 50}).id
        report = bulk.bulk_update(s, world.admin, "limits", [low, high], None, {"qty": 10})
    assert report.done == 1 and report.problems[0].record_id == low
    assert report.problems[0].errors[0].field == "qty" and "≤ 5" in report.problems[0].message.en


def test_too_many_records_are_refused_before_anything_is_written(world):
    ids = _lots(world, 3)
    with pytest.raises(bulk.BulkRequestError) as err:
        _update(world, world.admin, ids, max_records=2)
    assert "3 records" in err.value.message.en
    with pytest.raises(bulk.BulkRequestError):
        _update(world, world.admin, filter="qty > 0", max_records=2)
    assert all(world.get("iqc", i).version == 1 for i in ids)


@pytest.mark.parametrize("ids, filter", [(None, None), ([], None), ([1], "TRUE"), (None, "  "), (["1"], None),
                                         ([True], None), ([0], None)])
def test_a_selection_must_be_ids_or_a_filter(world, ids, filter):
    with pytest.raises(bulk.BulkRequestError):
        _update(world, world.admin, ids, filter)


def test_bulk_delete_fires_per_record_and_keeps_the_reason(world):
    world.publish(ON_DELETE)
    ids = _lots(world, 3)
    with world.session() as s:
        report = bulk.bulk_delete(s, world.admin, "iqc", None, "qty >= 11", reason="duplicates")
    assert (report.done, report.failed, report.matched) == (2, 0, 2)
    assert [r.id for r in world.records("iqc")] == ids[:1]
    assert sorted(r["record_id"] for r in world.runs("on_delete")) == ids[1:]
    with world.session() as s:
        reasons = s.execute(select(audit_log.c.reason).where(audit_log.c.tenant_id == world.admin.tenant_id,
                                                           audit_log.c.action == "delete")).scalars().all()
    assert reasons == ["duplicates", "duplicates"]


def test_another_tenants_records_are_never_touched(world, make_tenant):
    ids = _lots(world, 2)
    other = Actor(tenant_id=make_tenant(), user_id=1, lang="en", is_admin=True)
    with world.session() as s:
        form_service.publish_form(s, other, copy.deepcopy(
            {"format": 1, "key": "iqc", "label": L("检验", "IQC"),
             "fields": [{"key": "result", "type": "text", "label": L("结果", "Result")}]}))
    with world.session() as s:
        report = bulk.bulk_delete(s, other, "iqc", ids, None)
    assert report.done == 0 and [p.record_id for p in report.problems] == ids
    assert len(world.records("iqc")) == 2
