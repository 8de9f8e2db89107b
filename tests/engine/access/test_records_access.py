"""Record services enforce permissions: create, read scopes in SQL, update/delete scopes, fields."""
import pytest
from sqlalchemy.dialects import postgresql, sqlite

from engine import access
from engine.errors import ExpressionError, NotFound, PermissionDenied
from engine.services import records as record_service
from engine.services.records import QueryError
from engine.storage import form_store, records
from engine.storage.db import session_scope
from engine.types import Actor
from tests.engine.access.support import NCR, department, publish_ncr, role, user
from tests.engine.services.support import create, get, query, update

FULL = {"create": True, "read": "all", "update": "all", "delete": "all"}


@pytest.fixture
def ncr(db_engine, actor):
    publish_ncr(db_engine, actor)
    return actor.tenant_id


def subjects(page):
    return sorted(r.data["subject"] for r in page.items)


def test_a_user_without_a_role_can_neither_create_nor_see(db_engine, actor, ncr):
    nobody = user(db_engine, ncr)
    mine = create(db_engine, actor, NCR, {"subject": "by admin"})
    with pytest.raises(PermissionDenied) as err:
        create(db_engine, nobody, NCR, {"subject": "x"})
    assert "ncr" in err.value.message.en and "新建" in err.value.message.zh
    with pytest.raises(NotFound):
        get(db_engine, nobody, NCR, mine.id)
    page = query(db_engine, nobody, NCR)
    assert (page.items, page.total) == ([], 0)
    with pytest.raises(NotFound):
        update(db_engine, nobody, NCR, mine.id, 1, {"subject": "hacked"})
    assert get(db_engine, actor, NCR, mine.id).data["subject"] == "by admin"


def test_own_scope_on_get_query_and_update(db_engine, actor, ncr):
    role(db_engine, ncr, "clerk", form__ncr={"create": True, "read": "own", "update": "own"})
    alice, bob = user(db_engine, ncr, "clerk"), user(db_engine, ncr, "clerk")
    a = [create(db_engine, alice, NCR, {"subject": f"A{i}"}) for i in range(3)]
    b = create(db_engine, bob, NCR, {"subject": "B0"})
    page = query(db_engine, alice, NCR, per_page=2, sort="subject")
    assert page.total == 3 and len(page.items) == 2                  # the total counts only what I may read
    assert subjects(query(db_engine, alice, NCR, page=2, per_page=2, sort="subject")) == ["A2"]
    assert get(db_engine, alice, NCR, a[0].id).data["subject"] == "A0"
    with pytest.raises(NotFound):
        get(db_engine, alice, NCR, b.id)
    with pytest.raises(NotFound):
        update(db_engine, alice, NCR, b.id, 1, {"subject": "mine now"})
    assert update(db_engine, alice, NCR, a[1].id, 1, {"subject": "A1!"}).data["subject"] == "A1!"
    assert query(db_engine, actor, NCR).total == 4                     # the admin sees everything


def test_department_scope_covers_sub_departments(db_engine, actor, ncr):
    quality = department(db_engine, ncr, "quality")
    iqc = department(db_engine, ncr, "iqc", parent=quality)
    production = department(db_engine, ncr, "production")
    role(db_engine, ncr, "staff", app__qa={"create": True, "read": "department", "update": "department"})
    boss = user(db_engine, ncr, "staff", department=quality)
    inspector = user(db_engine, ncr, "staff", department=iqc)
    worker = user(db_engine, ncr, "staff", department=production)
    for who, subject in ((boss, "Q"), (inspector, "IQC"), (worker, "PROD")):
        create(db_engine, who, NCR, {"subject": subject})
    assert subjects(query(db_engine, boss, NCR)) == ["IQC", "Q"]       # my department and below
    assert subjects(query(db_engine, inspector, NCR)) == ["IQC"]       # not above
    assert subjects(query(db_engine, worker, NCR)) == ["PROD"]
    prod_id = query(db_engine, worker, NCR).items[0].id
    with pytest.raises(NotFound):
        get(db_engine, boss, NCR, prod_id)
    iqc_id = query(db_engine, inspector, NCR).items[0].id
    assert update(db_engine, boss, NCR, iqc_id, 1, {"subject": "IQC checked"}).version == 2
    no_dept = user(db_engine, ncr, "staff")
    assert query(db_engine, no_dept, NCR).total == 0


def test_field_attribute_scope_shows_a_supplier_only_its_records(db_engine, actor, ncr):
    role(db_engine, ncr, "supplier", form__ncr={"read": {"field": "supplier", "attribute": "supplier"},
                                                 "update": {"field": "supplier", "attribute": "supplier"}})
    for i, sup in enumerate((12, 12, 13, None)):
        create(db_engine, actor, NCR, {"subject": f"N{i}", "supplier": sup})
    acme = user(db_engine, ncr, "supplier", attributes={"supplier": 12})
    other = user(db_engine, ncr, "supplier", attributes={"supplier": 13})
    stranger = user(db_engine, ncr, "supplier")                        # lacks the attribute: sees nothing
    assert subjects(query(db_engine, acme, NCR)) == ["N0", "N1"] and query(db_engine, acme, NCR).total == 2
    assert subjects(query(db_engine, other, NCR)) == ["N2"]
    assert query(db_engine, stranger, NCR).total == 0
    n2 = query(db_engine, other, NCR).items[0]
    with pytest.raises(NotFound):
        get(db_engine, acme, NCR, n2.id)
    assert subjects(query(db_engine, acme, NCR, filter='subject = "N1"')) == ["N1"]   # filter AND scope
    assert query(db_engine, acme, NCR, filter='subject = "N2"').total == 0
    with pytest.raises(PermissionDenied):
        create(db_engine, acme, NCR, {"subject": "new"})


def test_read_but_not_update_scope_is_permission_denied(db_engine, actor, ncr):
    role(db_engine, ncr, "viewer", form__ncr={"read": "all", "update": "own", "delete": "none"})
    viewer = user(db_engine, ncr, "viewer")
    rec = create(db_engine, actor, NCR, {"subject": "x"})
    with pytest.raises(PermissionDenied):
        update(db_engine, viewer, NCR, rec.id, 1, {"subject": "y"})
    with pytest.raises(PermissionDenied), session_scope(db_engine) as s:
        record_service.delete_record(s, viewer, NCR, rec.id)
    assert get(db_engine, actor, NCR, rec.id).data["subject"] == "x"


def test_hidden_fields_are_absent_and_cannot_be_filtered_or_sorted(db_engine, actor, ncr):
    role(db_engine, ncr, "clerk", form__ncr={"create": True, "read": "all", "update": "all",
                                              "fields": {"cost": "hidden"}})
    clerk = user(db_engine, ncr, "clerk")
    rec = create(db_engine, actor, NCR, {"subject": "x", "cost": 99})
    assert "cost" not in get(db_engine, clerk, NCR, rec.id).data
    assert "cost" not in get(db_engine, clerk, NCR, rec.id).values
    assert all("cost" not in r.data for r in query(db_engine, clerk, NCR).items)
    with pytest.raises(ExpressionError):
        query(db_engine, clerk, NCR, filter="cost > 50")
    with pytest.raises(QueryError):
        query(db_engine, clerk, NCR, sort="-cost")
    changed = update(db_engine, clerk, NCR, rec.id, 1, {"subject": "y", "cost": 1})
    assert "cost" not in changed.data
    assert get(db_engine, actor, NCR, rec.id).data["cost"] == 99         # hidden = not writable either


def test_readonly_fields_keep_their_stored_value(db_engine, actor, ncr):
    role(db_engine, ncr, "clerk", form__ncr={"create": True, "read": "all", "update": "all",
                                              "fields": {"disposition": "readonly"}})
    clerk = user(db_engine, ncr, "clerk")
    rec = create(db_engine, actor, NCR, {"subject": "x", "disposition": "scrap"})
    changed = update(db_engine, clerk, NCR, rec.id, 1, {"subject": "y", "disposition": "use as is"})
    assert (changed.data["subject"], changed.data["disposition"]) == ("y", "scrap")
    made = create(db_engine, clerk, NCR, {"subject": "z", "disposition": "use as is"})
    assert made.data["disposition"] == "pending"                          # the default, not the input
    with session_scope(db_engine) as s:                                  # a full (PUT) update too
        full = record_service.update_record(s, clerk, NCR, rec.id, 2, {"subject": "w"}, partial=False)
    assert full.data["disposition"] == "scrap"


def test_tenant_isolation_even_with_read_all(db_engine, actor, ncr, make_tenant):
    rec = create(db_engine, actor, NCR, {"subject": "tenant 1"})
    other_tenant = make_tenant()
    with session_scope(db_engine) as s:
        from engine.services import forms as form_service
        from tests.engine.access.support import ncr_definition
        form_service.publish_form(s, Actor.system(other_tenant), ncr_definition())
    role(db_engine, other_tenant, "all", form__ncr=FULL)
    outsider = user(db_engine, other_tenant, "all")
    with pytest.raises(NotFound):
        get(db_engine, outsider, NCR, rec.id)
    with pytest.raises(NotFound):
        update(db_engine, outsider, NCR, rec.id, 1, {"subject": "x"})
    assert query(db_engine, outsider, NCR).total == 0
    admin2 = user(db_engine, other_tenant, is_admin=True)
    with pytest.raises(NotFound):
        get(db_engine, admin2, NCR, rec.id)


def test_scopes_are_compiled_into_the_sql(db_engine, actor, ncr):
    quality = department(db_engine, ncr, "quality")
    role(db_engine, ncr, "mixed", form__ncr={"read": "own"},
         app__qa={"read": "all"})                                          # the form rule replaces the app rule
    role(db_engine, ncr, "sup", form__ncr={"read": {"field": "supplier", "attribute": "supplier"}})
    role(db_engine, ncr, "dept", form__ncr={"read": "department"})
    who = user(db_engine, ncr, "mixed", "sup", "dept", department=quality, attributes={"supplier": 7})
    with session_scope(db_engine) as s:
        allowed = access.form_access(s, who, NCR)
        table = records.top_table(form_store.load_published(s, ncr, NCR).spec)
        clause = allowed.read.clause(table)
    assert not allowed.read.is_all
    for dialect in (sqlite.dialect(), postgresql.dialect()):
        sql = str(clause.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
        assert f"created_by = {who.user_id}" in sql
        assert "supplier = 7" in sql
        assert f"created_by IN (SELECT users.id" in sql and f"department_id IN ({quality})" in sql
        assert " OR " in sql


def test_the_system_actor_and_admins_pass_every_check(db_engine, actor, ncr):
    system = Actor.system(ncr)
    rec = create(db_engine, system, NCR, {"subject": "by a job"})
    assert get(db_engine, system, NCR, rec.id).created_by is None
    with session_scope(db_engine) as s:
        allowed = access.form_access(s, system, NCR)
    assert allowed.unrestricted and allowed.read.is_all and allowed.can_design


def test_changing_a_definition_needs_the_design_permission(db_engine, actor, ncr):
    from engine.services import forms as form_service
    from tests.engine.access.support import ncr_definition
    role(db_engine, ncr, "clerk", form__ncr={"create": True, "read": "all"})
    role(db_engine, ncr, "designer", app__qa={"read": "all", "design": True})
    clerk, designer = user(db_engine, ncr, "clerk"), user(db_engine, ncr, "designer")
    changed = ncr_definition()
    changed["label"]["en"] = "NCR v2"
    with pytest.raises(PermissionDenied) as err, session_scope(db_engine) as s:
        form_service.publish_form(s, clerk, changed)
    assert "设计" in err.value.message.zh
    with pytest.raises(PermissionDenied), session_scope(db_engine) as s:
        form_service.save_draft(s, clerk, NCR, changed)
    with session_scope(db_engine) as s:                                  # design on the app covers its forms
        assert form_service.publish_form(s, designer, changed).version == 2
        form_service.save_draft(s, designer, NCR, changed)
    brand_new = dict(ncr_definition(), key="ncr_copy")
    with pytest.raises(PermissionDenied) as err, session_scope(db_engine) as s:
        form_service.publish_form(s, designer, brand_new)
    assert "administrator" in err.value.message.en
    with session_scope(db_engine) as s:
        assert form_service.publish_form(s, actor, brand_new).version == 1     # admins may
