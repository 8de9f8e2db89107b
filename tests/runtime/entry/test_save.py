"""Live compute and saving: formulas, conditions, all field errors with paths, 409, role limits, CSRF."""
from __future__ import annotations

from engine.services import records
from tests.runtime.entry.conftest import post_json, valid_inspection


def test_compute_returns_formulas_and_conditions_per_path(world, as_admin):
    data = valid_inspection(world, characteristics=[
        {"name": "Diameter", "nominal": 10, "lsl": 9.9, "usl": 10.1, "readings": [{"value": 10.3}, {"value": 10.1}]},
        {"name": "Length", "nominal": 5, "lsl": 4, "usl": 6, "readings": [{"value": "not a number"}]}])
    res = post_json(as_admin, "/f/iqc_inspection/compute", {"data": data}, as_admin.csrf)
    assert res.status_code == 200
    state = res.get_json()
    values = state["values"]
    assert values["characteristics[0].readings[0].deviation"] == 0.3
    assert values["characteristics[0].readings[0].out_of_spec"] is True
    assert values["characteristics[0].mean"] == 10.2 and values["characteristics[0].result"] == "NG"
    assert values["characteristics[1].mean"] is None            # a value that does not fit yet counts as blank
    assert values["ng_count"] >= 1 and values["lot_result"] == "REJECT"
    assert values["supplier_name"] == "Acme Castings" and values["supplier_grade"] == "A"   # lookups
    assert "inspection_no" not in values        # a serial is given on save; the page keeps the stored one
    assert state["visible"]["remarks"] is True and state["required"]["remarks"] is True
    assert state["required"]["signature"] is True
    assert state["readonly"]["ng_count"] is True and state["readonly"]["lot_no"] is False
    assert state["required"]["characteristics[1].readings[0].value"] is True

    ok = post_json(as_admin, "/f/iqc_inspection/compute", {"data": valid_inspection(world)}, as_admin.csrf).get_json()
    assert ok["values"]["lot_result"] == "ACCEPT"
    assert ok["visible"]["remarks"] is False and ok["required"]["remarks"] is False


def test_compute_leaves_out_fields_hidden_from_the_role(world, as_clerk):
    state = post_json(as_clerk, "/f/note/compute", {"data": {"qty": 4, "secret": "x"}}, as_clerk.csrf).get_json()
    assert state["values"]["double"] == 8
    assert "secret" not in state["visible"] and state["readonly"]["approved"] is True


def test_save_reports_every_field_error_with_its_path(world, as_admin):
    data = valid_inspection(world, lot_no="bad lot", part_no=None, characteristics=[
        {"name": "Diameter", "nominal": 10, "lsl": 9.9, "usl": 10.1, "readings": [{"value": 10.0}]},
        {"name": None, "nominal": 1, "lsl": 2, "usl": 1, "readings": [{"value": 1}, {"value": None}]}])
    res = post_json(as_admin, "/f/iqc_inspection/new", {"data": data}, as_admin.csrf)
    assert res.status_code == 422
    body = res.get_json()
    fields = [e["field"] for e in body["errors"]]
    assert {"lot_no", "part_no", "characteristics[1].name", "characteristics[1].usl",
            "characteristics[1].readings[1].value"} <= set(fields)
    messages = {e["field"]: e["message"] for e in body["errors"]}
    assert messages["part_no"] == "'Part number' is required"                    # the user's language (en)
    with world.session() as s:
        assert records.query_records(s, world.admin, "iqc_inspection").total == 0


def test_errors_come_in_chinese_for_a_chinese_user(world, as_admin):
    as_admin.post("/lang", data={"lang": "zh-CN", "csrf_token": as_admin.csrf, "next": "/"})
    res = post_json(as_admin, "/f/iqc_inspection/new", {"data": valid_inspection(world, part_no="")}, as_admin.csrf)
    body = res.get_json()
    assert res.status_code == 422 and body["errors"][0]["message"] == "「物料编码」为必填项"


def test_save_stores_the_record_and_points_to_its_page(world, as_admin):
    res = post_json(as_admin, "/f/iqc_inspection/new", {"data": valid_inspection(world), "tz_offset": 480},
                    as_admin.csrf)
    assert res.status_code == 201, res.get_json()
    body = res.get_json()
    assert body["redirect"] == f"/f/iqc_inspection/{body['id']}" and body["version"] == 1
    with world.session() as s:
        record = records.get_record(s, world.admin, "iqc_inspection", body["id"])
    assert record.data["lot_no"] == "L-001" and record.data["lot_result"] == "ACCEPT"
    assert record.data["characteristics"][0]["mean"] == 10.0 and len(record.data["characteristics"][0]["readings"]) == 2
    assert record.data["supplier_name"] == "Acme Castings" and record.serial_no.startswith("IQC-")


def test_edit_saves_with_the_version_and_refuses_a_stale_one(world, as_admin):
    record_id = post_json(as_admin, "/f/iqc_inspection/new", {"data": valid_inspection(world)},
                          as_admin.csrf).get_json()["id"]
    with world.session() as s:
        stored = records.get_record(s, world.admin, "iqc_inspection", record_id)
    data = dict(stored.data, lot_no="L-002")
    data = {k: v for k, v in data.items() if k not in ("inspection_no", "supplier_name", "supplier_grade")}
    first = post_json(as_admin, f"/f/iqc_inspection/{record_id}/edit", {"version": 1, "data": data}, as_admin.csrf)
    assert first.status_code == 200 and first.get_json()["version"] == 2
    stale = post_json(as_admin, f"/f/iqc_inspection/{record_id}/edit", {"version": 1, "data": dict(data, lot_no="L-3")},
                      as_admin.csrf)
    assert stale.status_code == 409
    assert "reload" in stale.get_json()["error"]["message"].lower()
    with world.session() as s:
        assert records.get_record(s, world.admin, "iqc_inspection", record_id).data["lot_no"] == "L-002"
    missing = post_json(as_admin, f"/f/iqc_inspection/{record_id}/edit", {"data": data}, as_admin.csrf)
    assert missing.status_code == 422 and missing.get_json()["errors"][0]["field"] == "version"


def test_role_hidden_and_readonly_fields_are_enforced_on_save(world, as_clerk):
    res = post_json(as_clerk, "/f/note/new", {"data": {"subject": "Mine", "approved": True, "secret": "sneaky"}},
                    as_clerk.csrf)
    assert res.status_code == 201, res.get_json()
    record_id = res.get_json()["id"]
    with world.session() as s:
        stored = records.get_record(s, world.admin, "note", record_id)
    assert stored.data["approved"] in (False, None) and stored.data["secret"] is None
    with world.session() as s:
        records.update_record(s, world.admin, "note", record_id, 1, {"secret": "kept", "approved": True})
    res = post_json(as_clerk, f"/f/note/{record_id}/edit",
                    {"version": 2, "data": {"subject": "Changed", "approved": False, "secret": "overwritten"}},
                    as_clerk.csrf)
    assert res.status_code == 200
    with world.session() as s:
        stored = records.get_record(s, world.admin, "note", record_id)
    assert stored.data["subject"] == "Changed" and stored.data["approved"] is True and stored.data["secret"] == "kept"


def test_other_users_cannot_edit_records_outside_their_scope(world, as_clerk, as_other, as_admin_b):
    record_id = post_json(as_clerk, "/f/note/new", {"data": {"subject": "Mine"}}, as_clerk.csrf).get_json()["id"]
    body = {"version": 1, "data": {"subject": "Taken"}}
    assert post_json(as_other, f"/f/note/{record_id}/edit", body, as_other.csrf).status_code == 404
    assert post_json(as_admin_b, f"/f/note/{record_id}/edit", body, as_admin_b.csrf).status_code == 404
    assert post_json(as_other, "/f/iqc_inspection/new", {"data": {}}, as_other.csrf).status_code == 403


def test_save_and_compute_need_the_csrf_token(world, as_admin):
    for url in ("/f/iqc_inspection/new", "/f/iqc_inspection/compute"):
        res = as_admin.post(url, json={"data": valid_inspection(world)})
        assert res.status_code == 400, url
    with world.session() as s:
        assert records.query_records(s, world.admin, "iqc_inspection").total == 0
