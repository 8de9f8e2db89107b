"""engine.services.portal: creating a supplier's portal login, and the portal overview read with
that user's own access (two suppliers, A and B; see tests/runtime/portal/support.py)."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from engine.errors import Conflict, NotFound, PermissionDenied
from engine.services import accounts, logins
from engine.services import portal
from engine.services import records as record_service
from engine.storage.db import session_scope
from tests.runtime.portal.support import PASSWORD, build


@pytest.fixture
def world(db_engine, actor):
    return build(db_engine, actor)


def test_created_user_is_a_portal_user_of_that_supplier(world):
    a = world.actor("A")
    assert a.roles == ("supplier_portal",) and a.attribute("supplier_id") == world.suppliers["A"]
    assert portal.is_portal_user(a) and not portal.is_portal_user(world.qe) and not portal.is_portal_user(world.admin)
    with session_scope(world.engine) as s:
        assert accounts.actor_for_user(s, world.users["A"]).lang == "zh-CN"
        supplier = record_service.get_record(s, world.admin, "supplier", world.suppliers["A"])
    assert supplier.values["portal_user"] == world.users["A"]          # the 8D flow's supplier contact


def test_a_second_login_keeps_the_suppliers_8d_contact(world):
    with session_scope(world.engine) as s:
        second = portal.create_supplier_user(s, world.admin, world.suppliers["A"], "two@suppliera.cn", "Two", None)
        supplier = record_service.get_record(s, world.admin, "supplier", world.suppliers["A"])
        listed = portal.list_supplier_users(s, world.admin, world.suppliers["A"])
    assert supplier.values["portal_user"] == world.users["A"]
    assert [u["name"] for u in listed] == ["A Quality", "Two"]            # B's login is not listed
    assert {u["id"] for u in listed} == {world.users["A"], second}


def test_only_admins_create_portal_users_and_emails_stay_unique(world):
    with session_scope(world.engine) as s, pytest.raises(PermissionDenied):
        portal.create_supplier_user(s, world.qe, world.suppliers["A"], "x@supplier.cn", "X")
    with session_scope(world.engine) as s, pytest.raises(Conflict):
        portal.create_supplier_user(s, world.admin, world.suppliers["A"], world.emails["B"], "Dup")
    with session_scope(world.engine) as s, pytest.raises(NotFound):
        portal.create_supplier_user(s, world.admin, 99999, "y@supplier.cn", "Y")


def test_supplier_is_found_by_code(world):
    with session_scope(world.engine) as s:
        code = record_service.get_record(s, world.admin, "supplier", world.suppliers["B"]).values["code"]
        assert portal.supplier_id_by_code(s, world.admin, code) == world.suppliers["B"]
        with pytest.raises(NotFound):
            portal.supplier_id_by_code(s, world.admin, 'NO"SUCH')


def test_overview_holds_only_the_users_own_supplier(world):
    with session_scope(world.engine) as s:
        view = portal.overview(s, world.actor("A"))
    assert view["supplier"]["id"] == world.suppliers["A"] and view["supplier"]["name"] == "Supplier A Castings"
    assert [n["id"] for n in view["ncrs"]] == [world.ncrs["A"]]
    assert [d["id"] for d in view["eight_ds"]] == [world.eight_ds["A"]]
    assert [(t["record_id"], t["step"]["en"]) for t in view["tasks"]] == [
        (world.eight_ds["A"], "D1–D2 Team and problem description")]
    assert len(view["scorecards"]) == 2


def test_scorecards_newest_first_with_trend(world):
    with session_scope(world.engine) as s:
        cards = portal.scorecards(s, world.actor("B"))
    assert cards[0]["period"] > cards[1]["period"]
    assert cards[0]["trend"] == "down" and cards[1]["trend"] is None
    assert cards[0]["grade"] in ("A", "B", "C", "D")


def test_certificates_say_expired_due_and_valid(world):
    today, a, b = date.today(), world.actor("A"), world.actor("B")
    with session_scope(world.engine) as s:
        certs = portal.certificates(s, a, today)
        none = portal.certificates(s, b, today)
    assert [(c["cert_no"], c["state"], c["days_left"]) for c in certs] == [
        ("Q-1", "expired", -5), ("T-2", "due", 10), ("E-3", "valid", 365)]
    assert none == []
    with session_scope(world.engine) as s:             # on the 30th day it is still "due"
        assert portal.certificates(s, a, today - timedelta(days=20))[1]["state"] == "due"


def test_a_user_without_a_supplier_sees_nothing(world):
    with session_scope(world.engine) as s:
        accounts.set_user_attributes(s, world.admin.tenant_id, world.users["A"], {})
    with session_scope(world.engine) as s:
        view = portal.overview(s, world.actor("A"))
    assert view["supplier"] is None and view["ncrs"] == [] and view["certificates"] == []
    assert not portal.is_portal_user(world.actor("A"))


def test_deactivation_ends_the_login_and_frees_the_8d_contact(world):
    with session_scope(world.engine) as s:
        portal.deactivate_supplier_user(s, world.admin, world.suppliers["A"], world.users["A"])
    with session_scope(world.engine) as s:
        supplier = record_service.get_record(s, world.admin, "supplier", world.suppliers["A"])
        assert supplier.values.get("portal_user") is None
        assert logins.authenticate(s, world.admin.tenant_id, world.emails["A"], PASSWORD, "127.0.0.1") is None
        with pytest.raises(NotFound):                    # B's login is not A's to switch off
            portal.deactivate_supplier_user(s, world.admin, world.suppliers["A"], world.users["B"])


def test_the_supplier_changes_its_8d_only_through_its_flow_tasks(world):
    """No update right on eight_d: outside a task (before the flow starts, or after it closed with
    a "reason") the supplier cannot rewrite its 8D — e.g. the QE's verification result."""
    with session_scope(world.engine) as s:
        spare = record_service.create_record(s, world.qe, "eight_d", {
            "problem_title": "Not started", "source": "internal", "supplier": world.suppliers["A"],
            "leader": world.qe.user_id, "opened_on": date.today(), "due_date": date.today()})
    a = world.actor("A")
    with session_scope(world.engine) as s:
        assert record_service.get_record(s, a, "eight_d", spare.id).id == spare.id
        with pytest.raises(PermissionDenied):
            record_service.update_record(s, a, "eight_d", spare.id, spare.version, {"verify_result": "effective"},
                                         "supplier says so")
