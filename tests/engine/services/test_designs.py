"""Designer services: design permission, apps, drafts with compare-and-swap revisions, check without
writing, publish of every kind through its own service, versions and restore."""
from __future__ import annotations

import types

import pytest
from sqlalchemy import inspect, select

from engine.errors import Conflict, DefinitionError, NotFound, PermissionDenied
from engine.services import accounts, design_versions, designs
from engine.services import apps as app_service
from engine.services.designs import DraftConflict, pointer
from engine.storage.db import session_scope
from engine.storage.design_tables import designer_drafts
from engine.storage.naming import record_table_name
from engine.types import Actor

L = {"zh-CN": "批次", "en": "Lot"}


def field(key: str, type_: str = "text", **extra) -> dict:
    return {"key": key, "type": type_, "label": {"zh-CN": key, "en": key}, **extra}


def form_def(key: str = "lot", *fields: dict) -> dict:
    return {"format": 1, "key": key, "label": L, "fields": list(fields) or [field("lot_no")]}


@pytest.fixture
def app_qa(db_engine, actor):
    """App "qa" with a form "lot" published from a designer draft (version 1)."""
    with session_scope(db_engine) as s:
        designs.create_app(s, actor, "qa", L)
        designs.new_definition(s, actor, "qa", "form", "lot", L)
        designs.save_draft(s, actor, "form", "lot", form_def(), 1)
        assert designs.publish_draft(s, actor, "form", "lot", 2) == 1
    return "qa"


def person(db_engine, actor, *roles: str) -> Actor:
    with session_scope(db_engine) as s:
        user_id = accounts.create_user(s, actor.tenant_id, f"{'_'.join(roles) or 'plain'}@x.example", "P", None,
                                       roles=roles)
        return accounts.actor_for_user(s, user_id)


def grant(db_engine, actor, role: str, target: str, rules: dict) -> None:
    with session_scope(db_engine) as s:
        accounts.create_role(s, actor.tenant_id, role, L)
        accounts.set_permissions(s, actor.tenant_id, role, target, rules)


# ---------------------------------------------------------------------------- permission

def test_design_permission_on_the_app_or_every_form(db_engine, actor, app_qa):
    grant(db_engine, actor, "app_designer", "app:qa", {"design": True})
    grant(db_engine, actor, "form_designer", "form:lot", {"design": True})
    grant(db_engine, actor, "reader", "app:qa", {"read": "all"})
    people = {who: person(db_engine, actor, *([who] if who else [])) for who in
              ("app_designer", "form_designer", "reader", "")}
    with session_scope(db_engine) as s:
        designs.require_app_design(s, actor, "qa")
        for who in ("app_designer", "form_designer"):
            designs.require_app_design(s, people[who], "qa")
        with pytest.raises(PermissionDenied):
            designs.require_app_design(s, people["reader"], "qa")
        with pytest.raises(PermissionDenied):
            designs.require_app_design(s, people[""], "qa")
        with pytest.raises(NotFound):
            designs.require_app_design(s, actor, "nope")
        designs.new_definition(s, actor, "qa", "form", "lot_two", L)      # a second form: "every form" no longer holds
    with session_scope(db_engine) as s:
        with pytest.raises(PermissionDenied):
            designs.require_app_design(s, people["form_designer"], "qa")


def test_other_tenants_see_nothing(db_engine, actor, app_qa, make_tenant):
    stranger = Actor(tenant_id=make_tenant(), user_id=999, is_admin=True)
    with session_scope(db_engine) as s:
        assert designs.list_designable_apps(s, stranger) == []
        for call in (lambda: designs.get_draft(s, stranger, "form", "lot"),
                     lambda: designs.app_overview(s, stranger, "qa"),
                     lambda: design_versions.list_versions(s, stranger, "form", "lot")):
            with pytest.raises(NotFound):
                call()


# ---------------------------------------------------------------------------- apps and new definitions

def test_create_app_and_overview(db_engine, actor, app_qa, member):
    with session_scope(db_engine) as s:
        with pytest.raises(Conflict):
            designs.create_app(s, actor, "qa", L)
        with pytest.raises(DefinitionError):
            designs.create_app(s, actor, "9bad", L)
        with pytest.raises(PermissionDenied):
            designs.create_app(s, member, "mine", L)
        designs.new_definition(s, actor, "qa", "flows", "lot_flow", L, form="lot")
        overview = designs.app_overview(s, actor, "qa")
        assert [(i["key"], i["published_version"], i["has_draft"]) for i in overview["forms"]] == [("lot", 1, False)]
        assert [(i["key"], i["form"], i["has_draft"]) for i in overview["flows"]] == [("lot_flow", "lot", True)]
        assert designs.list_designable_apps(s, actor)[0]["counts"] == {
            "forms": 1, "flows": 1, "rules": 0, "reports": 0, "dashboards": 0}
        package = app_service.export_app(s, actor.tenant_id, "qa")
    assert [f["key"] for f in package["forms"]] == ["lot"]


def test_new_definition_keys_are_unique_and_checked(db_engine, actor, app_qa):
    with session_scope(db_engine) as s:
        with pytest.raises(Conflict):
            designs.new_definition(s, actor, "qa", "form", "lot", L)
        with pytest.raises(DefinitionError) as bad:
            designs.new_definition(s, actor, "qa", "rule", "Bad-Key", {"en": "x"}, form="missing")
        assert [p.path for p in bad.value.problems] == ["/key", "/label", "/form"]
        with pytest.raises(NotFound):
            designs.new_definition(s, actor, "qa", "gadget", "g", L)


# ---------------------------------------------------------------------------- drafts

def test_save_is_compare_and_swap_across_processes(db_engine, actor, app_qa):
    """Two sessions (two processes) save revision 0 → only one draft; then a stale save loses."""
    one, two = designs.get_draft, designs.save_draft
    with session_scope(db_engine) as s:
        assert one(s, actor, "form", "lot")["revision"] == 0
    with session_scope(db_engine) as s:
        assert two(s, actor, "form", "lot", form_def("lot", field("a")), 0)["revision"] == 1
    with session_scope(db_engine) as s, pytest.raises(DraftConflict) as lost:
        two(s, actor, "form", "lot", form_def("lot", field("b")), 0)
    assert lost.value.current["revision"] == 1
    with session_scope(db_engine) as s:
        assert two(s, actor, "form", "lot", form_def("lot", field("c")), 1)["revision"] == 2
    with session_scope(db_engine) as s, pytest.raises(DraftConflict):
        two(s, actor, "form", "lot", form_def("lot", field("d")), 1)
    with session_scope(db_engine) as s:
        draft = one(s, actor, "form", "lot")
    assert draft["revision"] == 2 and draft["definition"]["fields"][0]["key"] == "c"
    assert draft["published_keys"] == ["lot_no"]


def test_check_writes_no_table(db_engine, actor):
    with session_scope(db_engine) as s:
        designs.create_app(s, actor, "qa", L)
        designs.new_definition(s, actor, "qa", "form", "fresh", L)
        problems = designs.check_draft(s, actor, "form", "fresh", form_def(
            "fresh", field("n", "number"), field("r", "formula", formula="n +")))
        assert [p.path for p in problems] == ["/fields/1/formula"]
        assert designs.check_draft(s, actor, "form", "fresh", form_def("fresh")) == []
    assert record_table_name(actor.tenant_id, "fresh", ()) not in inspect(db_engine).get_table_names()


def test_unsafe_storage_change_is_a_problem(db_engine, actor, app_qa):
    with session_scope(db_engine) as s:
        problems = designs.check_draft(s, actor, "form", "lot", form_def("lot", field("lot_no", "number")))
    assert problems and problems[0].path.startswith("/fields/0")


def test_publish_every_kind_through_its_service(db_engine, actor, app_qa):
    flow = {"format": 1, "key": "lot_flow", "label": L, "form": "lot", "nodes": [
        {"id": "start", "type": "start", "next": "ok"},
        {"id": "ok", "type": "approval", "assignees": [{"kind": "user", "user": actor.user_id}], "next": "end"},
        {"id": "end", "type": "end"}]}
    rule = {"format": 1, "key": "lot_rule", "label": L, "form": "lot", "trigger": {"type": "record_created"},
            "actions": [{"type": "notify", "to": {"users": [actor.user_id]}, "subject": "New lot {{ record.lot_no }}"}]}
    with session_scope(db_engine) as s:
        for kind, key in (("flow", "lot_flow"), ("rule", "lot_rule"), ("report", "lot_count"), ("dashboard", "board")):
            designs.new_definition(s, actor, "qa", kind, key, L, form="lot")
        designs.save_draft(s, actor, "flow", "lot_flow", flow, 1)
        designs.save_draft(s, actor, "rule", "lot_rule", rule, 1)
        assert designs.check_draft(s, actor, "rule", "lot_rule") == [], designs.check_draft(s, actor, "rule", "lot_rule")
        assert designs.publish_draft(s, actor, "flow", "lot_flow", 2) == 1
        assert designs.publish_draft(s, actor, "rule", "lot_rule", 2) == 1
        assert designs.publish_draft(s, actor, "report", "lot_count", 1) == 1
        board = designs.get_draft(s, actor, "dashboard", "board")["definition"]
        board["items"] = [{"report": "lot_count", "x": 0, "y": 0, "w": 4, "h": 3}]
        designs.save_draft(s, actor, "dashboard", "board", board, 1)
        assert designs.publish_draft(s, actor, "dashboard", "board", 2) == 1
        assert s.execute(select(designer_drafts.c.key).where(designer_drafts.c.tenant_id == actor.tenant_id)).all() == []
        package = app_service.export_app(s, actor.tenant_id, "qa")
    assert [f["key"] for f in package["flows"]] == ["lot_flow"]
    assert [r["key"] for r in package["rules"]] == ["lot_rule"]
    assert [r["key"] for r in package["reports"]] == ["lot_count"]
    assert [d["key"] for d in package["dashboards"]] == ["board"]


def test_publish_refuses_invalid_and_data_losing_drafts(db_engine, actor, app_qa, monkeypatch):
    with session_scope(db_engine) as s:
        designs.save_draft(s, actor, "form", "lot", form_def("lot", field("lot_no"), field("q", "number", min="x")), 0)
        with pytest.raises(DefinitionError) as bad:
            designs.publish_draft(s, actor, "form", "lot", 1)
        assert [p.path for p in bad.value.problems] == ["/fields/1/min"]
        designs.save_draft(s, actor, "form", "lot", form_def("lot", field("other")), 1)
    plan = types.SimpleNamespace(plan=lambda s, t, kind, key, d, lang="zh-CN": {
        "changes": [], "impact": {"records": 3, "running_flows": 0, "messages": []},
        "refused": [{"path": "$.fields[0]", "message": "removing lot_no loses 3 values"}]})
    monkeypatch.setattr(design_versions, "_plan_module", lambda: plan)
    with session_scope(db_engine) as s:
        with pytest.raises(DefinitionError) as refused:
            designs.publish_draft(s, actor, "form", "lot", 2)
        assert [p.path for p in refused.value.problems] == ["/fields/0"]
        assert designs.plan_draft(s, actor, "form", "lot")["refused"][0].path == "/fields/0"
        assert designs.get_draft(s, actor, "form", "lot")["revision"] == 2          # the draft stays


def test_discard_and_stale_discard(db_engine, actor, app_qa):
    with session_scope(db_engine) as s:
        designs.save_draft(s, actor, "form", "lot", form_def("lot", field("x")), 0)
        with pytest.raises(DraftConflict):
            designs.discard_draft(s, actor, "form", "lot", 7)
        designs.discard_draft(s, actor, "form", "lot", 1)
        with pytest.raises(NotFound):
            designs.discard_draft(s, actor, "form", "lot", 0)
        assert designs.get_draft(s, actor, "form", "lot")["revision"] == 0


# ---------------------------------------------------------------------------- versions

def test_versions_and_restore(db_engine, actor, app_qa):
    with session_scope(db_engine) as s:
        designs.save_draft(s, actor, "form", "lot", form_def("lot", field("lot_no"), field("qty", "number")), 0)
        assert designs.publish_draft(s, actor, "form", "lot", 1) == 2
        assert [v["version"] for v in design_versions.list_versions(s, actor, "form", "lot")] == [2, 1]
        first = design_versions.get_version(s, actor, "form", "lot", 1)["definition"]
        with pytest.raises(NotFound):
            design_versions.get_version(s, actor, "form", "lot", 5)
        assert design_versions.restore_version(s, actor, "form", "lot", 1, 0)["revision"] == 1
        assert designs.get_draft(s, actor, "form", "lot")["definition"] == first
        with pytest.raises(DraftConflict):
            design_versions.restore_version(s, actor, "form", "lot", 1, 0)


def test_field_paths_become_pointers():
    definition = form_def("lot", field("a"), {**field("items", "subtable"), "fields": [field("x"), field("qty")]})
    assert design_versions.field_pointer(definition, "items.qty") == "/fields/1/fields/1"
    assert design_versions.field_pointer(definition, "gone") == "gone"
    assert design_versions.field_pointer(definition, "$.fields[0]") == "/fields/0"


def test_pointer_paths():
    assert pointer("$.nodes[2].assignees") == "/nodes/2/assignees"
    assert pointer("$") == "" and pointer('$.a["x/y"]') == "/a/x~1y" and pointer("/already") == "/already"
