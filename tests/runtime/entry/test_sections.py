"""Layout sections on the runtime pages: headings in order, each section its own grid, unplaced fields last."""
from __future__ import annotations

import re

from sqlalchemy import select

from engine.services import forms as form_service
from engine.services import records as record_service
from engine.storage.db import session_scope
from engine.storage.platform import tenants, users
from engine.types import Actor
from tests.runtime.web_support import make_app, sign_in

L = lambda zh, en: {"zh-CN": zh, "en": en}  # noqa: E731
FORM = {"format": 1, "key": "visit", "label": L("巡检", "Visit"), "fields": [
    {"key": "note", "type": "text", "label": L("备注", "Note")},
    {"key": "site", "type": "text", "label": L("地点", "Site")},
    {"key": "width", "type": "number", "label": L("宽度", "Width")},
    {"key": "height", "type": "number", "label": L("高度", "Height")},
], "layout": {"sections": [
    {"key": "where", "label": L("位置<b>", "Where <b>"), "columns": 1, "fields": ["site"]},
    {"key": "size", "label": L("尺寸", "Size"), "columns": 3, "fields": ["height", "width"], "collapsed": True},
]}}


def _admin(app) -> Actor:
    with session_scope(app.extensions["qms_db"]) as s:
        tenant = s.execute(select(tenants.c.id).where(tenants.c.key == "default")).scalar_one()
        user = s.execute(select(users.c.id).where(users.c.tenant_id == tenant)).scalars().first()
    return Actor(tenant_id=tenant, user_id=user, lang="en", name="Admin", is_admin=True)


def test_two_sections_render_their_headings_in_order_and_unplaced_fields_after(tmp_path):
    app = make_app(tmp_path, QMS_DEMO="0")
    admin = _admin(app)
    with session_scope(app.extensions["qms_db"]) as s:
        form_service.publish_form(s, admin, FORM)
        record_id = record_service.create_record(s, admin, "visit", {"site": "Dock 3", "width": 4, "note": "ok"}).id
    client = app.test_client()
    assert sign_in(client).status_code == 302
    html = client.get("/f/visit/new").get_data(as_text=True)
    headings = re.findall(r'<summary class="section-title"><h2>(.*?)</h2>', html)
    assert len(headings) == 2 and ("Where &lt;b&gt;" in headings[0] or "位置&lt;b&gt;" in headings[0])
    assert headings[1] in ("Size", "尺寸")                                        # escaped, in layout order
    keys = re.findall(r'class="field [^"]*"[^>]*data-key="(\w+)"|data-key="(\w+)"[^>]*class="field ', html)
    order = [a or b for a, b in keys]
    assert order.index("site") < order.index("height") < order.index("width") < order.index("note")
    assert 'class="fields cols-1"' in html and 'class="fields cols-3"' in html
    assert re.search(r'<details class="section-box"\s*>', html)                 # "size" starts folded
    assert html.count('data-testid="form-section"') == 3                       # two named + the unplaced field
    detail = client.get(f"/f/visit/{record_id}").get_data(as_text=True)
    named = re.findall(r'<h2 class="detail-section" data-testid="detail-section">(.*?)</h2>', detail)
    assert len(named) == 2 and named[1] in ("Size", "尺寸") and "Dock 3" in detail
