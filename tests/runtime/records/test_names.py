"""Users, departments and referenced records appear by name on list and detail pages — and a
reference to a record the reader may not see shows only its id."""
from engine.services import accounts
from engine.services import forms as form_service
from engine.services import records as record_service
from tests.runtime.records.conftest import login

L = lambda zh, en: {"zh-CN": zh, "en": en}  # noqa: E731
HANDOVER = {"format": 1, "key": "handover", "label": L("交接", "Handover"), "fields": [
    {"key": "subject", "type": "text", "label": L("主题", "Subject")},
    {"key": "owner", "type": "user", "label": L("负责人", "Owner")},
    {"key": "dept", "type": "department", "label": L("部门", "Department")},
    {"key": "lot", "type": "reference", "label": L("批次", "Lot"), "form": "lot"},
]}


def test_names_instead_of_ids_and_no_title_the_reader_may_not_see(world, admin_client):
    olgas_lot = world.create(world.owner, lot_no="LOT-OLGA")
    admins_lot = world.create(world.admin, lot_no="LOT-ADMIN")
    with world.session() as s:
        dept = accounts.create_department(s, world.tenant_a, "qa", L("质量部", "Quality <Dept>"))
        form_service.publish_form(s, world.admin, HANDOVER)
        accounts.set_permissions(s, world.tenant_a, "inspector", "form:handover", {"read": "all"})
        mine = record_service.create_record(s, world.admin, "handover", {
            "subject": "S1", "owner": world.owner.user_id, "dept": dept, "lot": olgas_lot}).id
        theirs = record_service.create_record(s, world.admin, "handover", {
            "subject": "S2", "owner": world.other.user_id, "dept": dept, "lot": admins_lot}).id
    html = admin_client.get("/f/handover").get_data(as_text=True)
    assert "Olga Owner" in html and "Otto Other" in html and "Quality &lt;Dept&gt;" in html
    assert "LOT-OLGA" in html and "LOT-ADMIN" in html
    detail = admin_client.get(f"/f/handover/{mine}").get_data(as_text=True)
    assert "Olga Owner" in detail and f'/f/lot/{olgas_lot}">LOT-OLGA</a>' in detail
    olga = login(world.app.test_client(), "alpha", "owner@a.example")
    detail = olga.get(f"/f/handover/{theirs}").get_data(as_text=True)
    assert "LOT-ADMIN" not in detail and f"#{admins_lot}" in detail      # she may not read that lot
    assert "LOT-OLGA" in olga.get(f"/f/handover/{mine}").get_data(as_text=True)
