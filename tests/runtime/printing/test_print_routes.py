"""Print routes: one record and a filtered list as PDF, read-scope denial (404), the API views."""
from __future__ import annotations

import pytest

import app as app_module
from engine.services import accounts
from engine.services import forms as form_service
from engine.services import records as record_service
from engine.storage.db import session_scope
from tests.engine.printing.support import IQC_FORM, iqc_data, print_of, with_prints
from tests.runtime.records.conftest import PASSWORD, login


@pytest.fixture
def site(tmp_path):
    app = app_module.create_app({"QMS_DATA_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/qms.db",
                                 "TESTING": True, "SECRET_KEY": "test-secret", "QMS_BASE_URL": "https://qms.example.com"})
    with session_scope(app.extensions["qms_db"]) as s:
        tenant = accounts.create_tenant(s, "alpha", "阿尔法精密制造有限公司")
        accounts.create_role(s, tenant, "inspector", {"zh-CN": "检验员", "en": "Inspector"})
        accounts.set_permissions(s, tenant, "inspector", "form:iqc_inspection",
                                 {"create": True, "read": "own", "update": "own"})
        admin = accounts.actor_for_user(s, accounts.create_user(s, tenant, "admin@a.example", "Admin A", PASSWORD,
                                                                is_admin=True, lang="zh-CN"))
        owner = accounts.actor_for_user(s, accounts.create_user(s, tenant, "olga@a.example", "Olga Owner", PASSWORD,
                                                                roles=["inspector"], lang="en"))
        form_service.publish_form(s, admin, with_prints(IQC_FORM, print_of("iqc_inspection", "report")))
        ids = [record_service.create_record(s, admin, "iqc_inspection", iqc_data(admin.user_id, lot_no=f"A-{i}")).id
               for i in range(3)]
        ids.append(record_service.create_record(s, owner, "iqc_inspection", iqc_data(owner.user_id, lot_no="O-1")).id)
    return app, ids


def test_a_record_prints_inline_as_pdf(site):
    app, ids = site
    client = login(app.test_client(), "alpha", "admin@a.example")
    res = client.get(f"/records/iqc_inspection/{ids[0]}/print")
    assert res.status_code == 200 and res.mimetype == "application/pdf"
    assert res.data.startswith(b"%PDF-") and res.headers["Content-Disposition"].startswith("inline;")
    assert res.headers["Cache-Control"] == "no-store" and int(res.headers["X-Page-Count"]) >= 1
    res = client.get(f"/records/iqc_inspection/{ids[0]}/print/default?download=1&lang=en")
    assert res.status_code == 200 and res.headers["Content-Disposition"].startswith("attachment;")
    assert client.get(f"/records/iqc_inspection/{ids[0]}/print/nope").status_code == 404


def test_read_scope_denial_is_404_and_signed_out_goes_to_login(site):
    app, ids = site
    assert app.test_client().get(f"/records/iqc_inspection/{ids[0]}/print").status_code == 302
    owner = login(app.test_client(), "alpha", "olga@a.example")
    assert owner.get(f"/records/iqc_inspection/{ids[0]}/print").status_code == 404     # the admin's record
    assert owner.get(f"/records/iqc_inspection/{ids[3]}/print").status_code == 200     # her own
    assert owner.get("/records/no_such_form/1/print").status_code == 404
    res = owner.get("/records/iqc_inspection/print")
    assert res.status_code == 200 and res.headers["X-Record-Count"] == "1"


def test_batch_print_of_a_filtered_list(site, monkeypatch):
    app, ids = site
    client = login(app.test_client(), "alpha", "admin@a.example")
    res = client.get("/records/iqc_inspection/print")
    assert res.status_code == 200 and res.headers["X-Record-Count"] == "4"
    res = client.get("/records/iqc_inspection/print", query_string={"filter": 'lot_no = "A-1"', "template": "default"})
    assert res.headers["X-Record-Count"] == "1"
    res = client.get("/records/iqc_inspection/print", query_string={"f_lot_no": "A-"})    # the list page's arguments
    assert res.headers["X-Record-Count"] == "3"
    bad = client.get("/records/iqc_inspection/print", query_string={"filter": "lot_no = "})
    assert bad.status_code == 422 and "application/pdf" not in bad.content_type
    from engine.services import printing
    monkeypatch.setattr(printing, "MAX_BATCH", 2)
    res = client.get("/records/iqc_inspection/print")
    assert res.status_code == 422 and "4 条记录符合条件，一次最多打印 2 条" in res.get_data(as_text=True)


def test_the_api_views(site):
    app, ids = site
    client = login(app.test_client(), "alpha", "olga@a.example")
    res = client.get(f"/api/v1/forms/iqc_inspection/records/{ids[3]}/print")
    assert res.status_code == 200 and res.data.startswith(b"%PDF-")
    res = client.get(f"/api/v1/forms/iqc_inspection/records/{ids[0]}/print")
    assert res.status_code == 404 and res.get_json()["error"]["code"] == "not_found"
    res = client.get("/api/v1/forms/iqc_inspection/print", query_string={"filter": 'lot_no = "O-1"'})
    assert res.status_code == 200 and res.headers["X-Record-Count"] == "1"
