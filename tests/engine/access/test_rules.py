"""Permission rules JSON: checking (bilingual problems with paths) and role resolution."""
import pytest

from engine import access
from engine.access.rules import ALL, NONE, Scope, check_rules, check_target, parse_rules
from engine.errors import DefinitionError, PermissionDenied
from engine.storage.db import session_scope
from tests.engine.access.support import NCR, publish_ncr, role, user


def test_valid_rules_parse_with_defaults():
    rules = parse_rules({"create": True, "read": {"field": "supplier", "attribute": "supplier"},
                         "fields": {"cost": "hidden", "disposition": "readonly"}})
    assert rules.create and not rules.export and not rules.design
    assert rules.read == Scope(frozenset({("supplier", "supplier")})) and rules.update == NONE
    assert rules.fields_in("hidden") == {"cost"} and rules.fields_in("readonly") == {"disposition"}
    assert parse_rules({}) == parse_rules({"read": "none"})


def test_every_problem_is_reported_in_both_languages():
    problems = check_rules({"create": "yes", "read": "everyone", "update": {"field": "x"},
                            "fields": {"cost": "secret", "Bad": "hidden"}, "approve": True})
    paths = sorted(p.path for p in problems)
    assert paths == ["$", "$.create", "$.fields", "$.fields.cost", "$.read", "$.update"]
    for p in problems:
        assert p.message.en and p.message.zh and p.message.en != p.message.zh
    assert any("approve" in p.message.en for p in problems)
    with pytest.raises(DefinitionError) as err:
        parse_rules({"read": "everyone"})
    assert err.value.problems[0].path == "$.read"
    assert check_rules("not an object")[0].path == "$"


def test_targets():
    assert check_target("app:qa") == [] and check_target("form:ncr") == []
    assert [p.path for p in check_target("ncr")] == ["$target"]
    assert check_target("form:NCR") and check_target(None)


def test_scope_union_is_most_permissive():
    own, dept = Scope.parse("own"), Scope.parse("department")
    assert (own | dept).terms == {"own", "department"}
    assert (own | ALL) == ALL and (NONE | NONE) == NONE and not NONE.allows_any


@pytest.fixture
def ncr(db_engine, actor):
    publish_ncr(db_engine, actor, app_key="qa")
    return actor.tenant_id


def resolved(db_engine, who):
    with session_scope(db_engine) as s:
        return access.form_access(s, who, NCR)


def test_roles_resolve_by_union_and_form_rules_replace_app_rules(db_engine, ncr):
    role(db_engine, ncr, "a", app__qa={"create": True, "read": "all", "export": True},
         form__ncr={"read": "own"})                                        # form rule wins for this role
    role(db_engine, ncr, "b", app__qa={"read": "department", "update": "own", "design": True})
    got = resolved(db_engine, user(db_engine, ncr, "a", "b"))
    assert got.read.scope.terms == {"own", "department"}
    assert not got.can_create and not got.can_export                       # "a"'s app rule no longer applies
    assert got.can_design and got.update.scope.terms == {"own"} and not got.delete.allows_any
    only_b = resolved(db_engine, user(db_engine, ncr, "b"))
    with pytest.raises(PermissionDenied):
        access.require(only_b, "create")
    access.require(only_b, "read")
    with pytest.raises(ValueError):
        access.require(only_b, "approve")


def test_a_field_is_hidden_or_readonly_only_if_every_granting_role_says_so(db_engine, ncr):
    role(db_engine, ncr, "r1", form__ncr={"read": "all", "update": "all",
                                          "fields": {"cost": "hidden", "disposition": "readonly", "supplier": "hidden"}})
    role(db_engine, ncr, "r2", form__ncr={"read": "own", "fields": {"cost": "hidden"}})
    role(db_engine, ncr, "r3", form__ncr={"create": True, "fields": {"subject": "hidden"}})   # grants no read
    got = resolved(db_engine, user(db_engine, ncr, "r1", "r2", "r3"))
    assert got.hidden_fields == {"cost"}                   # r2 shows supplier; r3 does not read at all
    assert got.readonly_fields == set()                    # r3 (a writer) does not make disposition read-only
    only_r1 = resolved(db_engine, user(db_engine, ncr, "r1"))
    assert only_r1.readonly_fields == {"disposition", "cost", "supplier"}


def test_access_is_cached_per_session_and_forgotten_after_changes(db_engine, ncr):
    from engine.services import accounts
    role(db_engine, ncr, "r", form__ncr={"read": "own"})
    who = user(db_engine, ncr, "r")
    with session_scope(db_engine) as s:
        first = access.form_access(s, who, NCR)
        assert access.form_access(s, who, NCR) is first
        accounts.set_permissions(s, ncr, "r", "form:ncr", {"read": "all"})
        assert access.form_access(s, who, NCR).read.is_all
