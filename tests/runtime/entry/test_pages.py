"""The generated new/edit pages: every field type drawn, labels escaped, language, role limits."""
from __future__ import annotations

import json
import re

from tests.runtime.entry.conftest import definition


def _keys(fields):
    for f in fields:
        yield f["key"], f["type"]
        yield from _keys(f.get("fields", ()))


def _config(html: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" id="form-config">(.*?)</script>', html, re.S).group(1))


def test_new_page_draws_every_field_type(world, as_admin):
    res = as_admin.get("/f/iqc_inspection/new")
    assert res.status_code == 200
    html = res.get_data(as_text=True)
    for key, ftype in _keys(definition("all_field_types")["fields"]):
        assert re.search(rf'data-key="{key}" data-type="{ftype}"', html), (key, ftype)
    assert 'type="datetime-local"' in html and 'type="date"' in html
    assert 'step="0.001"' in html and '<span class="unit">pcs</span>' in html        # precision 3, unit
    assert 'capture="environment"' in html                                         # photos on phones
    assert 'class="scan"' in html and "<video" in html                               # barcode scanner
    assert 'class="sig-canvas"' in html                                              # signature pad
    assert re.search(r'<option value="\d+">Acme Castings \(#\d+\)</option>', html)   # reference by display field
    assert ">Clerk</option>" in html and ">Incoming QC</option>" in html             # users and departments
    assert "General level II" in html and "Dimension" in html                       # bilingual choices (en)
    assert 'class="row-template"' in html and 'data-min-rows="1"' in html
    assert "As printed on the supplier&#39;s delivery note" in html                  # help text
    config = _config(html)
    assert config["values"]["inspection_level"] == "II" and config["values"]["aql"] == "1.0"   # defaults
    assert re.match(r"\d{4}-\d{2}-\d{2}$", config["values"]["inspection_date"])                   # TODAY()


def test_required_markers_follow_the_definition(world, as_admin):
    html = as_admin.get("/f/iqc_inspection/new").get_data(as_text=True)
    lot = re.search(r'data-key="lot_no".*?</label>', html, re.S).group(0)
    sample = re.search(r'data-key="sample_size".*?</label>', html, re.S).group(0)
    assert '<span class="req">*</span>' in lot
    assert '<span class="req" hidden>*</span>' in sample


def test_chinese_labels_when_the_user_switches_language(world, as_admin):
    as_admin.post("/lang", data={"lang": "zh-CN", "csrf_token": as_admin.csrf, "next": "/"})
    html = as_admin.get("/f/iqc_inspection/new").get_data(as_text=True)
    assert "批号" in html and "一般检验水平 II" in html and "保存" in html and "添加一行" in html
    assert "Lot number" not in html


def test_labels_are_escaped(world, as_admin):
    html = as_admin.get("/f/note/new").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "<script>x()</script>" not in html
    assert "Note &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Title &lt;script&gt;x()&lt;/script&gt;" in html


def test_role_hidden_field_is_not_drawn_and_readonly_is_locked(world, as_clerk):
    html = as_clerk.get("/f/note/new").get_data(as_text=True)
    assert 'data-key="secret"' not in html and "Secret" not in html
    approved = re.search(r'<div class="field f-boolean[^>]*data-key="approved"[^>]*>.*?</div>\s*</div>', html, re.S)
    assert approved and 'data-locked="1"' in approved.group(0) and "disabled" in approved.group(0)


def test_edit_page_uses_the_records_values_and_hides_role_hidden_values(world, as_clerk):
    created = as_clerk.post("/f/note/new", json={"data": {"subject": "Hello", "qty": 2}},
                            headers={"X-CSRFToken": as_clerk.csrf})
    record_id = created.get_json()["id"]
    with world.session() as s:      # an admin fills the field the clerk may not see
        from engine.services import records
        records.update_record(s, world.admin, "note", record_id, 1, {"secret": "top secret"})
    html = as_clerk.get(f"/f/note/{record_id}/edit").get_data(as_text=True)
    config = _config(html)
    assert config["values"]["subject"] == "Hello" and config["version"] == 2
    assert "secret" not in config["values"] and "top secret" not in html


def test_pages_need_permission_and_stay_inside_the_tenant(world, as_other, as_clerk, as_admin_b):
    assert as_clerk.get("/f/iqc_inspection/new").status_code == 403          # no create right on that form
    record_id = as_clerk.post("/f/note/new", json={"data": {"subject": "Mine"}},
                              headers={"X-CSRFToken": as_clerk.csrf}).get_json()["id"]
    assert as_other.get(f"/f/note/{record_id}/edit").status_code == 404       # reads own records only
    assert as_admin_b.get(f"/f/note/{record_id}/edit").status_code == 404     # another tenant
    assert as_admin_b.get("/f/iqc_inspection/new").status_code == 404         # form not in tenant B


def test_signed_out_users_are_sent_to_login(world):
    res = world.app.test_client().get("/f/note/new")
    assert res.status_code == 302 and "/login" in res.headers["Location"]


def test_reference_options_search_the_target_form_inside_the_readers_scope(world, as_admin, as_clerk):
    with world.session() as s:
        from engine.services import records as record_service
        record_service.create_record(s, world.admin, "supplier", {"code": "BOLT1", "name": "Bolt Works"})
    found = as_admin.get("/f/supplier/options?q=bolt&display=name").get_json()["items"]
    assert [i["label"] for i in found] == [f"Bolt Works (#{found[0]['id']})"]
    everything = as_admin.get("/f/supplier/options").get_json()["items"]
    assert len(everything) == 2
    assert as_clerk.get("/f/supplier/options?q=bolt").get_json()["items"] == []   # no read right on suppliers
