"""Bulk edit and bulk delete from the record list: selection, field choice by permission, CSRF,
the result summary (escaped), scope."""
from __future__ import annotations

import re

import pytest

from engine.services import accounts
from engine.services import records as record_service
from tests.runtime.records.conftest import csrf_of, login

EDIT, DELETE = "/f/lot/bulk/edit", "/f/lot/bulk/delete"


@pytest.fixture
def lots(world):
    return [world.create(world.admin, lot_no=f"L-{i}", qty=i) for i in range(1, 4)]


@pytest.fixture
def owner_client(world):
    return login(world.app.test_client(), "alpha", "owner@a.example")


def _sel(world, ids) -> list[str]:
    """The ``id:version`` values the list page puts on its checkboxes."""
    with world.session() as s:
        return [f"{i}:{record_service.get_record(s, world.admin, 'lot', i).version}" for i in ids]


def _get(world, rid):
    with world.session() as s:
        return record_service.get_record(s, world.admin, "lot", rid)


def _field_options(html: str) -> list[str]:
    select = re.search(r'<select id="bulk-field".*?</select>', html, re.S).group(0)
    return [v for v in re.findall(r'<option value="([^"]*)"', select) if v]


def test_the_list_offers_a_checkbox_per_row_and_both_buttons(world, lots, admin_client):
    html = admin_client.get("/f/lot").get_data(as_text=True)
    boxes = re.findall(r'name="ids" value="(\d+):(\d+)" form="bulk-form"', html)
    assert sorted(int(i) for i, _v in boxes) == lots and all(v == "1" for _i, v in boxes)
    assert "Edit selected" in html and "Delete selected" in html and "data-select-all" in html
    assert 'formaction="/f/lot/bulk/edit"' in html and 'formaction="/f/lot/bulk/delete"' in html


def test_a_reader_without_write_rights_gets_no_selection(world, lots):
    with world.session() as s:
        accounts.create_role(s, world.tenant_a, "viewer", {"zh-CN": "查看", "en": "Viewer"})
        accounts.set_permissions(s, world.tenant_a, "viewer", "form:lot", {"read": "all"})
        accounts.create_user(s, world.tenant_a, "viewer@a.example", "Vera", "correct-horse-9", roles=["viewer"])
    client = login(world.app.test_client(), "alpha", "viewer@a.example")
    html = client.get("/f/lot").get_data(as_text=True)
    assert "L-1" in html and 'name="ids"' not in html and "bulk-form" not in html
    assert client.get(EDIT, query_string={"ids": str(lots[0])}).status_code == 403
    assert client.get(DELETE, query_string={"ids": str(lots[0])}).status_code == 403


def test_the_edit_page_offers_only_fields_the_user_may_edit(world, lots, admin_client, owner_client):
    html = admin_client.get(EDIT, query_string={"ids": _sel(world, lots)}).get_data(as_text=True)
    assert _field_options(html) == ["lot_no", "supplier_name", "result", "qty", "inspected_on", "note"]
    assert "<strong data-count>3</strong>" in html
    with world.session() as s:
        accounts.set_permissions(s, world.tenant_a, "inspector", "form:lot",
                                 {"create": True, "read": "own", "update": "own",
                                  "fields": {"qty": "readonly", "note": "hidden"}})
    mine = world.create(world.owner, lot_no="O-1")
    html = owner_client.get(EDIT, query_string={"ids": [str(mine)]}).get_data(as_text=True)
    assert _field_options(html) == ["lot_no", "supplier_name", "result", "inspected_on"]
    res = owner_client.post(EDIT, data={"ids": [str(mine)], "field": "qty", "value": "9",
                                        "csrf_token": csrf_of(html)})
    assert res.status_code == 200 and "Apply to" not in res.get_data(as_text=True)   # qty not offered: choose again
    assert _get(world, mine).data.get("qty") is None


def test_choosing_a_field_shows_the_matching_input(world, lots, admin_client):
    def get(field: str) -> str:
        return admin_client.get(EDIT, query_string={"ids": _sel(world, lots), "field": field}).get_data(as_text=True)
    assert 'type="number" name="value"' in get("qty")
    assert 'type="date" name="value"' in get("inspected_on")
    result = get("result")
    assert '<option value="OK" >Pass</option>' in result and '<option value="NG" >Fail</option>' in result
    assert "<textarea" in get("note")
    assert 'name="value"' not in get("items") and 'name="value"' not in get("docs")     # never offered


def test_post_without_csrf_is_refused_and_changes_nothing(world, lots, admin_client):
    res = admin_client.post(EDIT, data={"ids": _sel(world, lots), "field": "result", "value": "NG"})
    assert res.status_code == 400
    res = admin_client.post(DELETE, data={"ids": _sel(world, lots)})
    assert res.status_code == 400
    assert [_get(world, i).version for i in lots] == [1, 1, 1]


def test_bulk_edit_writes_and_summarises(world, lots, admin_client):
    page = admin_client.get(EDIT, query_string={"ids": _sel(world, lots), "field": "result"}).get_data(as_text=True)
    stale = _sel(world, lots[:1])[0].replace(":1", ":7")          # a version the user never saw: stale
    res = admin_client.post(EDIT, data={"ids": [stale] + _sel(world, lots[1:]), "field": "result", "value": "NG",
                                        "reason": "re-check", "back": "/f/lot?sort=qty", "csrf_token": csrf_of(page)})
    html = res.get_data(as_text=True)
    assert res.status_code == 200
    assert "<strong data-done>2</strong>" in html and "<strong data-failed>1</strong>" in html
    assert f'data-problem="{lots[0]}"' in html and "reload" in html
    assert 'href="/f/lot?sort=qty"' in html
    assert [_get(world, i).data["result"] for i in lots] == [None, "NG", "NG"]


def test_the_summary_escapes_user_text(world, admin_client):
    rid = world.create(world.admin, lot_no="<b>L</b>")
    page = admin_client.get(EDIT, query_string={"ids": [str(rid)], "field": "lot_no"}).get_data(as_text=True)
    res = admin_client.post(EDIT, data={"ids": [str(rid)], "field": "lot_no", "value": "",
                                        "csrf_token": csrf_of(page)})
    html = res.get_data(as_text=True)
    assert "<strong data-failed>1</strong>" in html
    row = re.search(r'<tr data-problem.*?</tr>', html, re.S).group(0)
    assert "&#39;Lot &lt;i&gt;no&lt;/i&gt;&#39; is required" in row and "<i>no</i>" not in html
    res = admin_client.post(EDIT, data={"ids": [str(rid)], "field": "qty", "value": "<script>x</script>",
                                        "csrf_token": csrf_of(page)})
    html = res.get_data(as_text=True)
    assert res.status_code == 422 and "&lt;script&gt;" in html and "<script>x" not in html
    assert _get(world, rid).version == 1


def test_a_plain_user_never_reaches_other_peoples_records(world, lots, owner_client):
    mine = world.create(world.owner, lot_no="O-1")
    page = owner_client.get(EDIT, query_string={"ids": [str(mine)], "field": "note"}).get_data(as_text=True)
    res = owner_client.post(EDIT, data={"ids": [str(mine), str(lots[0])], "field": "note", "value": "checked",
                                        "csrf_token": csrf_of(page)})
    html = res.get_data(as_text=True)
    assert "<strong data-done>1</strong>" in html and "L-1" not in html and "LOT-0001" not in html
    assert f"#{lots[0]}" in html
    assert _get(world, lots[0]).data.get("note") is None and _get(world, mine).data["note"] == "checked"


def test_bulk_delete_confirms_with_the_count_then_deletes(world, lots, admin_client):
    page = admin_client.get(DELETE, query_string={"ids": _sel(world, lots[:2])}).get_data(as_text=True)
    assert "<strong data-count>2</strong>" in page and 'name="reason"' in page
    res = admin_client.post(DELETE, data={"ids": _sel(world, lots[:2]), "reason": "duplicates",
                                          "csrf_token": csrf_of(page)})
    html = res.get_data(as_text=True)
    assert res.status_code == 200 and "<strong data-done>2</strong>" in html
    with world.session() as s:
        assert [r.id for r in record_service.query_records(s, world.admin, "lot").items] == lots[2:]


def test_an_empty_selection_goes_back_to_the_list(world, lots, admin_client):
    res = admin_client.get(EDIT, query_string={"back": "https://evil.example/"})
    assert res.status_code == 302 and res.headers["Location"].endswith("/f/lot")
    res = admin_client.get(DELETE, query_string={"ids": "abc", "back": "/f/lot?q=x"})
    assert res.status_code == 302 and res.headers["Location"].endswith("/f/lot?q=x")
    assert "Select the records" in admin_client.get("/f/lot").get_data(as_text=True)


def test_another_tenants_form_or_records_are_not_found(world, lots):
    client = login(world.app.test_client(), "beta", "admin@b.example")
    assert client.get("/f/nope/bulk/edit", query_string={"ids": "1"}).status_code == 404
    page = client.get("/f/lot").get_data(as_text=True)
    res = client.post(DELETE, data={"ids": [str(i) for i in lots], "csrf_token": csrf_of(page)})
    assert "<strong data-done>0</strong>" in res.get_data(as_text=True)
    assert _get(world, lots[0]).id == lots[0]
