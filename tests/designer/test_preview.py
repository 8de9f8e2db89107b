"""The live form preview: the saved draft drawn with the runtime's field templates, live compute
(formulas, visibility) and validate-only saving on the draft; problems instead of a broken form."""
from __future__ import annotations

import pytest

from engine.services import designs
from engine.storage.db import session_scope
from engine.services import accounts
from tests.designer.expr_support import L, build_site, draft_sheet

PAGE = "/designer/apps/qa/forms/sheet/preview"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    return build_site(tmp_path_factory.mktemp("preview"))


@pytest.fixture
def admin(site):
    return site.client()


def _save_draft(site, definition):
    with session_scope(site.app.extensions["qms_db"]) as s:
        admin = accounts.actor_for_user(s, accounts.user_id_by_email(s, site.home, "admin@example.com"))
        revision = designs.get_draft(s, admin, "form", "sheet")["revision"]
        designs.save_draft(s, admin, "form", "sheet", definition, revision)


def test_preview_renders_the_draft_with_runtime_fields_and_escaped_labels(admin):
    res = admin.get(PAGE)
    html = res.get_data(as_text=True)
    assert res.status_code == 200
    assert 'data-key="weight"' in html and "Weight &lt;b&gt;kg&lt;/b&gt;" in html and "<b>kg</b>" not in html
    assert 'id="record-form"' in html and "js/form.js" in html and "designer/js/preview.js" in html
    assert "/designer/apps/qa/forms/sheet/preview/compute" in html
    assert "/designer/apps/qa/forms/sheet/preview/validate" in html


def test_compute_returns_formula_values_and_visibility_for_the_draft(admin):
    res = admin.post(PAGE + "/compute", json={"data": {"qty": 8, "defects": 2, "items": [{"value": 3}]}})
    state = res.get_json()
    assert res.status_code == 200
    assert state["values"]["rate"] == 0.25 and state["values"]["items[0].double"] == 6
    assert state["visible"]["reason"] is True
    hidden = admin.post(PAGE + "/compute", json={"data": {"qty": 8, "defects": 0}}).get_json()
    assert hidden["visible"]["reason"] is False


def test_compute_uses_a_posted_unsaved_definition(admin):
    unsaved = draft_sheet()
    next(f for f in unsaved["fields"] if f["key"] == "rate")["formula"] = "defects * 10"
    state = admin.post(PAGE + "/compute", json={"data": {"qty": 8, "defects": 2}, "definition": unsaved}).get_json()
    assert state["values"]["rate"] == 20


def test_validate_reports_a_required_field_and_answers_like_a_save(admin):
    res = admin.post(PAGE + "/validate", json={"data": {"qty": 3}})
    body = res.get_json()
    assert res.status_code == 422
    assert "lot_no" in {e["field"] for e in body["errors"]}
    ok = admin.post(PAGE + "/validate", json={"data": {"lot_no": "L1", "qty": 3}})
    assert ok.status_code == 200 and ok.get_json()["preview"] is True
    assert "nothing was saved" in ok.get_json()["message"] and ok.get_json()["redirect"].startswith(PAGE)


def test_an_unloadable_draft_shows_its_problems_not_a_500(site, admin):
    broken = draft_sheet()
    broken["fields"].append({"key": "Bad Key", "type": "nonsense", "label": L("坏", "Bad")})
    _save_draft(site, broken)
    try:
        res = admin.get(PAGE)
        html = res.get_data(as_text=True)
        assert res.status_code == 200 and 'data-testid="preview-problems"' in html
        assert 'id="record-form"' not in html and "fields" in html
        compute = admin.post(PAGE + "/compute", json={"data": {}})
        assert compute.status_code == 422 and compute.get_json()["errors"]
    finally:
        _save_draft(site, draft_sheet())


def test_a_posted_definition_is_previewed(admin):
    unsaved = draft_sheet()
    unsaved["fields"].append({"key": "colour", "type": "text", "label": L("颜色", "Colour")})
    html = admin.post(PAGE, json={"definition": unsaved}).get_data(as_text=True)
    assert 'data-key="colour"' in html and '"definition"' in html


def test_other_tenants_and_people_without_design_right(site):
    other = site.client("olga@globex.example", "globex")
    assert other.get(PAGE).status_code == 404
    assert other.post(PAGE + "/compute", json={"data": {}}).status_code == 404
    reader = site.client("rita@home.example")
    assert reader.get(PAGE).status_code == 403
    assert reader.post(PAGE + "/validate", json={"data": {}}).status_code == 403
    assert site.app.test_client().post(PAGE + "/compute", json={}).status_code in (400, 401)
