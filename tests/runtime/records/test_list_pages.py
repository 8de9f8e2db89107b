"""The record list: labels escaped, filters, search (injection-proof), sort, paging, read scope."""
from __future__ import annotations

import re

import pytest
from hypothesis import given, settings, strategies as st

from engine.expressions import parse
from runtime.records.listing import quote
from tests.runtime.records.conftest import login


def lots(html: str) -> list[str]:
    """Lot numbers in the list's rows, in order."""
    return re.findall(r'<td data-col="lot_no"[^>]*>([^<]*)</td>', html)


@pytest.fixture
def seeded(world):
    rows = [("L-001", "ACME", "OK", 10, "2024-01-05"), ("L-002", "Bolt & Co", "NG", 25, "2024-02-10"),
            ("L-003", "acme east", "OK", 40, "2024-03-15"), ("L-004", 'Say ") OR TRUE OR ("', "NG", None, None)]
    for lot, sup, res, qty, day in rows:
        world.create(world.admin, lot_no=lot, supplier_name=sup, result=res, qty=qty, inspected_on=day)
    return world


def test_labels_are_escaped_and_default_sort_is_newest_first(seeded, admin_client):
    html = admin_client.get("/f/lot").get_data(as_text=True)
    assert "Incoming &lt;b&gt;lot&lt;/b&gt;" in html and "<b>lot</b>" not in html
    assert "Lot &lt;i&gt;no&lt;/i&gt;" in html and "<i>no</i>" not in html
    assert lots(html) == ["L-004", "L-003", "L-002", "L-001"]
    assert "<strong>4</strong>" in html


def test_text_select_and_range_filters(seeded, admin_client):
    get = lambda qs: lots(admin_client.get("/f/lot?" + qs).get_data(as_text=True))  # noqa: E731
    assert get("f_supplier_name=acme") == ["L-003", "L-001"]                # contains, any case
    assert get("f_result=NG") == ["L-004", "L-002"]
    assert get("f_result=BOGUS") == []                                      # not a choice: nothing
    assert get("f_qty_from=20") == ["L-003", "L-002"]
    assert get("f_qty_from=20&f_qty_to=30") == ["L-002"]
    assert get("f_qty_to=30") == ["L-002", "L-001"]                         # a blank qty is not "≤ 30"
    assert get("f_inspected_on_from=2024-02-01&f_inspected_on_to=2024-03-15") == ["L-003", "L-002"]
    assert get("f_inspected_on_to=2024-01-31") == ["L-001"]
    assert get("f_qty_from=abc") == ["L-004", "L-003", "L-002", "L-001"]    # not a number: ignored
    assert get("f_unknown=1&f_tenant_id=2") == ["L-004", "L-003", "L-002", "L-001"]


def test_created_date_range(seeded, admin_client):
    get = lambda qs: lots(admin_client.get("/f/lot?" + qs).get_data(as_text=True))  # noqa: E731
    assert get("created_at_to=2000-01-01") == []
    assert len(get("created_at_from=2000-01-01")) == 4


def test_search_covers_text_fields_and_is_literal(seeded, admin_client):
    get = lambda q: lots(admin_client.get("/f/lot", query_string={"q": q}).get_data(as_text=True))  # noqa: E731
    assert get("acme") == ["L-003", "L-001"]
    assert get("L-002") == ["L-002"]
    # an injection attempt is searched for as text: only the record containing it matches
    assert get('") OR TRUE OR ("') == ["L-004"]
    assert get('\\") OR TRUE OR (\\"') == []
    assert get('x" & "') == []
    res = admin_client.get("/f/lot", query_string={"f_supplier_name": '") OR TRUE OR ("'})
    assert lots(res.get_data(as_text=True)) == ["L-004"]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_quote_round_trips_any_text(text):
    assert parse(quote(text)).value == text


def test_sort_by_column_both_ways(seeded, admin_client):
    html = admin_client.get("/f/lot?sort=qty").get_data(as_text=True)
    assert lots(html) == ["L-001", "L-002", "L-003", "L-004"]               # blanks last
    assert 'href="/f/lot?sort=-qty' in html                                 # header flips direction
    assert lots(admin_client.get("/f/lot?sort=-qty").get_data(as_text=True))[:3] == ["L-003", "L-002", "L-001"]
    assert lots(admin_client.get("/f/lot?sort=lot_no").get_data(as_text=True)) == ["L-001", "L-002", "L-003", "L-004"]
    # unknown sort keys fall back to the default
    assert lots(admin_client.get("/f/lot?sort=tenant_id").get_data(as_text=True))[0] == "L-004"


def test_paging_and_totals(world, admin_client):
    for i in range(45):
        world.create(world.admin, lot_no=f"P-{i:03d}", result="OK" if i % 3 else "NG")
    html = admin_client.get("/f/lot?per_page=20&page=3").get_data(as_text=True)
    assert lots(html) == [f"P-{i:03d}" for i in range(4, -1, -1)]
    assert "<strong>45</strong>" in html and "3 / 3" in html
    html = admin_client.get("/f/lot?per_page=20&page=2&f_result=NG").get_data(as_text=True)
    assert "<strong>15</strong>" in html and lots(html) == []               # page beyond the filtered total
    html = admin_client.get("/f/lot?per_page=20&f_result=NG").get_data(as_text=True)
    assert len(lots(html)) == 15 and "1 / 1" in html


def test_own_read_scope_in_rows_and_total(world):
    for i in range(3):
        world.create(world.owner, lot_no=f"MINE-{i}")
    world.create(world.other, lot_no="THEIRS")
    world.create(world.admin, lot_no="ADMINS")
    client = login(world.app.test_client(), "alpha", "owner@a.example")
    html = client.get("/f/lot").get_data(as_text=True)
    assert lots(html) == ["MINE-2", "MINE-1", "MINE-0"] and "<strong>3</strong>" in html
    html = client.get("/f/lot", query_string={"q": "THEIRS"}).get_data(as_text=True)
    assert lots(html) == [] and "<strong>0</strong>" in html
    # no export right: no export buttons, and the export URL answers 403
    assert "export.xlsx" not in html
    assert client.get("/f/lot/export.csv").status_code == 403


def test_empty_and_unreadable_states(world, admin_client):
    html = admin_client.get("/f/lot").get_data(as_text=True)
    assert "No records yet." in html
    html = admin_client.get("/f/lot?f_result=OK").get_data(as_text=True)
    assert "No records match these filters." in html
    assert admin_client.get("/f/nope").status_code == 404
    with world.session() as s:
        from engine.services import accounts
        accounts.create_user(s, world.tenant_a, "nobody@a.example", "Nobody", "correct-horse-9")
    nobody = login(world.app.test_client(), "alpha", "nobody@a.example")
    res = nobody.get("/f/lot")
    assert res.status_code == 404 and "(404)" in res.get_data(as_text=True)


def test_requires_login(world):
    res = world.app.test_client().get("/f/lot")
    assert res.status_code == 302 and "/login" in res.headers["Location"]


def test_tenant_isolation(world, admin_client):
    rid_b = world.create(world.admin_b, lot_no="B-SECRET")
    rid_a = world.create(world.admin, lot_no="A-1")
    assert "B-SECRET" not in admin_client.get("/f/lot").get_data(as_text=True)
    client_b = login(world.app.test_client(), "beta", "admin@b.example")
    if rid_a != rid_b:
        assert client_b.get(f"/f/lot/{rid_a}").status_code == 404
    assert admin_client.get(f"/f/lot/{rid_b}").status_code in (404, 200)
    if rid_a != rid_b:
        assert admin_client.get(f"/f/lot/{rid_b}").status_code == 404
    assert "A-1" not in client_b.get("/f/lot").get_data(as_text=True)
    assert "A-1" not in client_b.get("/f/lot/export.csv").get_data(as_text=True)


def test_a_list_whose_count_runs_out_of_budget_says_more_than_and_offers_an_exact_count(world, admin_client,
                                                                                        monkeypatch):
    from engine.storage import records
    for i in range(25):
        world.create(world.admin, lot_no=f"M-{i:03d}")
    monkeypatch.setattr(records, "_within", lambda *_a: None)       # as if counting took too long
    html = admin_client.get("/f/lot?per_page=20").get_data(as_text=True)
    assert len(lots(html)) == 20 and "<strong>20</strong>" in html and "count=exact" in html
    assert "page=2" in html                                             # Next is there without a total
    html = admin_client.get("/f/lot?per_page=20&count=exact").get_data(as_text=True)
    assert "<strong>25</strong>" in html and "1 / 2" in html
