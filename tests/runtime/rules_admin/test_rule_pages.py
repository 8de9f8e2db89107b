"""The rule list, one rule, the on/off switch and publishing as JSON, through the Flask test client:
who may see what (admin, designer of a form, plain user), tenants never see each other's rules,
CSRF on every post, problems shown with their JSON paths, secrets never shown."""
from __future__ import annotations

import copy
import io
import json
import re

from engine.services import rule_defs
from tests.engine.rules.support import L, NG_OPENS_NCR
from tests.runtime.rules_admin.conftest import FAILING_RULE, WEBHOOK_RULE, csrf, page, post

PAGES = ["/admin/rules", "/admin/rules/new", "/admin/rules/ng_opens_ncr", "/admin/rules/runs", "/admin/rules/runs/1"]


def enabled(site, company, key: str) -> bool:
    with company.world.session() as s:
        return rule_defs.get_rule(s, company.admin, key)["enabled"]


def test_the_list_groups_rules_by_app_with_trigger_form_version_switch_last_run_and_failures(site):
    world = site.a.world
    for rule in (NG_OPENS_NCR, FAILING_RULE, WEBHOOK_RULE):
        world.publish(rule)
    world.publish({**NG_OPENS_NCR, "label": L("不合格开 NCR", "NG opens an NCR (v2)")})
    world.create("iqc", lot_no="L-7", qty=5, result="NG")
    world.run_jobs()
    status, html = page(site.client(site.a), "/admin/rules")
    assert status == 200
    assert "Not in an app" in html and "NG opens an NCR (v2)" in html and "Broken rule" in html
    assert "When a record is created" in html and "When an inbound webhook is called" in html
    assert "Incoming inspection (iqc)" in html and "version 2" in html
    assert html.count('role="switch" aria-checked="true"') == 3
    assert "#2 update_records: #DIV/0!" in html                            # the last run's error excerpt
    assert 'href="/admin/rules/runs?status=failed&amp;rule=ng_breaks">1 ›' in html
    assert re.search(r"Failed<span class=\"count\">1</span>", html)
    assert 'href="/admin/rules/new"' in html and "Add or replace a rule" in html


def test_the_list_filters_by_app_and_speaks_chinese(site):
    world = site.a.world
    world.publish(NG_OPENS_NCR)
    with world.session() as s:
        rule_defs.publish_rule(s, site.a.admin, copy.deepcopy(FAILING_RULE), app_key="iqc_app")
    client = site.client(site.a)
    _, html = page(client, "/admin/rules?app=iqc_app")
    assert "Broken rule" in html and "NG opens an NCR" not in html
    _, html = page(client, "/admin/rules?app=_none")
    assert "Broken rule" not in html and "NG opens an NCR" in html
    post(client, "/lang", {"lang": "zh-CN", "next": "/admin/rules"})
    _, html = page(client, "/admin/rules")
    assert "规则（自动化）" in html and "不合格开 NCR" in html and "新建记录时" in html and "从未运行" in html


def test_a_plain_user_gets_403_everywhere(site):
    site.a.world.publish(NG_OPENS_NCR)
    client = site.client(site.a, "ivan")
    for path in PAGES:
        assert client.get(path).status_code == 403, path
    assert post(client, "/admin/rules/ng_opens_ncr/switch", {"enabled": "0"}).status_code == 403
    assert post(client, "/admin/rules/new", {"definition": json.dumps(NG_OPENS_NCR)}).status_code == 403
    assert enabled(site, site.a, "ng_opens_ncr")
    assert site.app.test_client().get("/admin/rules").status_code == 302       # not signed in: the login page


def test_a_designer_sees_only_the_rules_of_forms_they_design(site):
    world = site.a.world
    for rule in (NG_OPENS_NCR, WEBHOOK_RULE):
        world.publish(rule)
    site.a.add_designer("dora", "iqc")
    client = site.client(site.a, "dora")
    status, html = page(client, "/admin/rules")
    assert status == 200 and "NG opens an NCR" in html and "ERP receipt" not in html
    assert client.get("/admin/rules/ng_opens_ncr").status_code == 200
    assert client.get("/admin/rules/erp_receipt").status_code == 404          # no form: admins only
    assert post(client, "/admin/rules/erp_receipt/switch", {"enabled": "0"}).status_code == 404
    res = post(client, "/admin/rules/ng_opens_ncr/switch", {"enabled": "0"})
    assert res.status_code == 302 and not enabled(site, site.a, "ng_opens_ncr")
    res = post(client, "/admin/rules/new", {"definition": json.dumps(WEBHOOK_RULE)})
    assert res.status_code == 403 and "Only an administrator" in res.get_data(as_text=True)


def test_tenants_never_see_each_others_rules(site):
    site.a.world.publish(NG_OPENS_NCR)
    site.b.world.publish({**NG_OPENS_NCR, "label": L("环球的规则", "Globex's own rule")})
    site.b.world.publish(WEBHOOK_RULE)
    client = site.client(site.a)
    _, html = page(client, "/admin/rules")
    assert "Globex's own rule" not in html and "ERP receipt" not in html
    assert client.get("/admin/rules/erp_receipt").status_code == 404
    assert client.get("/admin/rules/new?key=erp_receipt").status_code == 404
    assert post(client, "/admin/rules/erp_receipt/switch", {"enabled": "0"}).status_code == 404
    assert post(client, "/admin/rules/erp_receipt/hook").status_code == 404
    res = post(client, "/admin/rules/ng_opens_ncr/switch", {"enabled": "0"})     # the same key in both tenants
    assert res.status_code == 302
    assert not enabled(site, site.a, "ng_opens_ncr") and enabled(site, site.b, "ng_opens_ncr")
    assert enabled(site, site.b, "erp_receipt")


def test_the_switch_needs_csrf_and_turns_a_rule_off_and_on(site):
    site.a.world.publish(NG_OPENS_NCR)
    client = site.client(site.a)
    res = client.post("/admin/rules/ng_opens_ncr/switch", data={"enabled": "0"})
    assert res.status_code == 400 and enabled(site, site.a, "ng_opens_ncr")
    res = post(client, "/admin/rules/ng_opens_ncr/switch", {"enabled": "0", "next": "/admin/rules?app=_none"})
    assert res.status_code == 302 and res.headers["Location"] == "/admin/rules?app=_none"
    assert not enabled(site, site.a, "ng_opens_ncr")
    _, html = page(client, "/admin/rules")
    assert 'aria-checked="false"' in html and "Rule &#39;ng_opens_ncr&#39; disabled" in html
    res = post(client, "/admin/rules/ng_opens_ncr/switch", {"enabled": "1", "next": "https://evil.example/"})
    assert res.status_code == 302 and res.headers["Location"] == "/admin/rules/ng_opens_ncr"     # never off-site
    assert enabled(site, site.a, "ng_opens_ncr")
    assert post(client, "/admin/rules/nope/switch", {"enabled": "1"}).status_code == 404


def test_one_rule_in_words_with_its_json_and_run_history(site):
    world = site.a.world
    world.publish(NG_OPENS_NCR)
    world.publish(FAILING_RULE)
    world.create("iqc", lot_no="L-7", qty=5, result="NG")
    world.create("iqc", lot_no="L-8", qty=5, result="OK")
    world.run_jobs()
    client = site.client(site.a)
    status, html = page(client, "/admin/rules/ng_opens_ncr")
    assert status == 200
    assert "When a record is created" in html and "Form: Incoming inspection (iqc)" in html
    assert "result = &#34;NG&#34;" in html                                   # the condition, escaped
    assert "1. Create a record" in html and "In NCR (ncr), set lot_no, qty, source; sub-table rows: items" in html
    assert "2. Set record status" in html and "“frozen” → form Lot (lot), matching lot_no = lot_no" in html
    assert "&#34;key&#34;: &#34;ng_opens_ncr&#34;" in html                   # the pretty JSON
    assert html.count('href="/admin/rules/runs/') == 1                      # one run of this rule
    _, html = page(client, "/admin/rules/ng_breaks?status=done")
    assert "No runs." in html
    _, html = page(client, "/admin/rules/ng_breaks?status=failed")
    assert "#DIV/0!" in html and "Retry" in html
    assert client.get("/admin/rules/nope").status_code == 404


def test_action_secrets_are_masked_and_kept_when_the_masked_json_is_published_again(site):
    rule = copy.deepcopy(NG_OPENS_NCR)
    rule["actions"] = [{"type": "call_webhook", "url": "https://erp.example/hook?key=abc",
                        "secret": "s3cret-value-123"}]
    site.a.world.publish(rule)
    client = site.client(site.a)
    _, html = page(client, "/admin/rules/ng_opens_ncr")
    assert "s3cret-value-123" not in html and "key=abc" not in html.split("Definition (JSON")[0]
    assert "POST https://erp.example/hook (HMAC signed)" in html
    _, html = page(client, "/admin/rules/new?key=ng_opens_ncr")
    assert "s3cret-value-123" not in html and "••••••" in html
    text = re.search(r'<textarea id="definition"[^>]*>(.*?)</textarea>', html, re.S).group(1)
    import html as html_lib
    res = post(client, "/admin/rules/new", {"definition": html_lib.unescape(text)})
    assert res.status_code == 302
    with site.a.world.session() as s:
        stored = rule_defs.get_rule(s, site.a.admin, "ng_opens_ncr")
    assert stored["version"] == 2 and stored["definition"]["actions"][0]["secret"] == "s3cret-value-123"


# ---------------------------------------------------------------------------- publishing as JSON

BAD_RULE = {"format": 1, "key": "bad_rule", "label": L("坏", "Bad <b>rule</b>"), "form": "nope",
            "trigger": {"type": "record_created"}, "actions": [{"type": "notify"}, {"type": "explode"}]}


def test_publishing_shows_every_problem_with_its_path_and_keeps_the_text(site):
    client = site.client(site.a)
    text = json.dumps(BAD_RULE, indent=2)
    res = post(client, "/admin/rules/new", {"definition": text})
    html = res.get_data(as_text=True)
    assert res.status_code == 422
    assert "<code>$.form</code> Form &#39;nope&#39; does not exist or is not published" in html
    assert "<code>$.actions[0].subject</code> &#39;subject&#39; is required" in html
    assert "<code>$.actions[1].type</code> Unknown type &#39;explode&#39;" in html
    assert "Bad &lt;b&gt;rule&lt;/b&gt;" in html and "<b>rule</b>" not in html      # what was typed, escaped
    assert "&#34;key&#34;: &#34;bad_rule&#34;" in html
    with site.a.world.session() as s:
        assert rule_defs.list_rules(s, site.a.admin) == []


def test_publishing_bad_json_says_where(site):
    client = site.client(site.a)
    res = post(client, "/admin/rules/new", {"definition": '{"key": "x",\n  "label": }'})
    html = res.get_data(as_text=True)
    assert res.status_code == 422 and "Not valid JSON: line 2, column 12" in html
    res = post(client, "/admin/rules/new", {"definition": "[1, 2]"})
    assert res.status_code == 422 and "<code>$</code>" in res.get_data(as_text=True)


def test_publishing_from_the_text_area_or_a_file_makes_versions(site):
    client = site.client(site.a)
    assert client.post("/admin/rules/new", data={"definition": json.dumps(NG_OPENS_NCR)}).status_code == 400  # CSRF
    res = post(client, "/admin/rules/new", {"definition": json.dumps(NG_OPENS_NCR)})
    assert res.status_code == 302 and res.headers["Location"] == "/admin/rules/ng_opens_ncr"
    upload = (io.BytesIO(json.dumps({**NG_OPENS_NCR, "condition": 'result = "OK"'}).encode("utf-8")), "rule.json")
    res = post(client, "/admin/rules/new", {"definition": "", "file": upload, "app": "iqc_app"},
               content_type="multipart/form-data")
    assert res.status_code == 302
    _, html = page(client, "/admin/rules/ng_opens_ncr")
    assert "Rule &#39;ng_opens_ncr&#39; published as version 2" in html and "result = &#34;OK&#34;" in html
    with site.a.world.session() as s:
        assert rule_defs.get_rule(s, site.a.admin, "ng_opens_ncr")["app_key"] == "iqc_app"
    res = post(client, "/admin/rules/new", {"file": (io.BytesIO(b"\xff\xfe{"), "bad.json")},
               content_type="multipart/form-data")
    assert res.status_code == 422 and "The file is not UTF-8 text" in res.get_data(as_text=True)


def test_the_publish_page_says_the_designer_comes_later(site):
    status, html = page(site.client(site.a), "/admin/rules/new")
    assert status == 200 and "drag-and-drop rule designer is coming" in html
    assert 'name="csrf_token"' in html and 'enctype="multipart/form-data"' in html
    assert csrf(site.client(site.a), "/admin/rules/new")


def test_the_nav_snippet_links_admins_only(site):
    from flask import render_template_string
    snippet = '{% include "rules_admin/_nav.html" %}'
    with site.app.test_request_context("/admin/rules/runs", headers={"Accept-Language": "en"}):
        admin = render_template_string(snippet, actor=site.a.admin)
        plain = render_template_string(snippet, actor=site.a.world["ivan"])
    assert admin.strip() == '<a href="/admin/rules" class="active">Rules</a>'
    assert plain.strip() == ""
