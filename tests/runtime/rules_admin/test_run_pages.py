"""The run log through the Flask test client: all runs and the failed tab, retry (CSRF, admins only,
no action repeated), one run in full (inputs, each action's outcome, the chain), escaping of
whatever came in, and tenant isolation by run id."""
from __future__ import annotations

import pytest

from engine.services import rule_defs, rule_events
from runtime.rules_admin import runs as runs_module
from tests.engine.rules.support import L, NG_OPENS_NCR
from tests.runtime.rules_admin.conftest import FAILING_RULE, WEBHOOK_RULE, page, post

CHAIN_RULE = {"format": 1, "key": "ncr_marks_itself", "label": L("NCR 标记", "NCR marks itself"), "form": "ncr",
              "trigger": {"type": "record_created"}, "actions": [{"type": "set_status", "status": "reviewed"}]}
CHANGE_RULE = {"format": 1, "key": "qty_watch", "label": L("数量变化", "Quantity watch"), "form": "lot",
               "trigger": {"type": "field_changed", "fields": ["remark"]},
               "actions": [{"type": "set_status", "status": "checked"}]}


def failed_run(site) -> dict:
    world = site.a.world
    world.publish(FAILING_RULE)
    world.create("iqc", lot_no="L-7", qty=5, result="NG")
    world.run_jobs()
    (run,) = world.runs("ng_breaks")
    assert run["status"] == "failed"
    return run


def test_all_runs_and_the_failed_tab_with_filters_and_paging(site, monkeypatch):
    world = site.a.world
    world.publish(NG_OPENS_NCR)
    run = failed_run(site)
    client = site.client(site.a)
    status, html = page(client, "/admin/rules/runs")
    assert status == 200 and html.count('href="/admin/rules/runs/') == 2
    assert "Broken rule" in html and "NG opens an NCR" in html and "Failed (1)" in html and "Done (1)" in html
    status, html = page(client, "/admin/rules/runs?status=failed")
    assert status == 200 and "Failed runs" in html and 'aria-current="page">Failed' in html
    assert f'href="/admin/rules/runs/{run["id"]}"' in html and html.count('href="/admin/rules/runs/') == 1
    assert "#2 update_records: #DIV/0!" in html and f'action="/admin/rules/runs/{run["id"]}/retry"' in html
    _, html = page(client, "/admin/rules/runs?rule=ng_opens_ncr")
    assert html.count('href="/admin/rules/runs/') == 1 and "#DIV/0!" not in html
    _, html = page(client, "/admin/rules/runs?status=bogus&page=x")      # bad filters: ignored, never a crash
    assert html.count('href="/admin/rules/runs/') == 2
    monkeypatch.setattr(runs_module, "PER_PAGE", 1)
    _, html = page(client, "/admin/rules/runs")
    assert "1 / 2" in html and 'href="/admin/rules/runs?page=2"' in html


def test_retry_needs_csrf_and_an_admin_and_does_not_repeat_what_ran(site):
    run = failed_run(site)
    site.a.add_designer("dora", "iqc")
    designer = site.client(site.a, "dora")
    _, html = page(designer, "/admin/rules/runs?status=failed")
    assert "#DIV/0!" in html and "/retry" not in html                      # designers see, admins retry
    assert post(designer, f"/admin/rules/runs/{run['id']}/retry").status_code == 403
    client = site.client(site.a)
    assert client.post(f"/admin/rules/runs/{run['id']}/retry").status_code == 400          # no CSRF token
    assert site.a.world.runs("ng_breaks")[0]["status"] == "failed"
    res = post(client, f"/admin/rules/runs/{run['id']}/retry", {"next": "/admin/rules/runs?status=failed"})
    assert res.status_code == 302 and res.headers["Location"] == "/admin/rules/runs?status=failed"
    assert site.a.world.runs("ng_breaks")[0]["status"] == "pending"
    assert site.a.world.run_jobs() == 1
    assert len(site.a.world.records("ncr")) == 1            # the first action (create the NCR) ran only once
    site.a.world.publish(NG_OPENS_NCR)
    site.a.world.create("iqc", lot_no="L-9", qty=5, result="NG")
    site.a.world.run_jobs()
    done = site.a.world.runs("ng_opens_ncr")[0]
    res = post(client, f"/admin/rules/runs/{done['id']}/retry")
    assert res.status_code == 302 and site.a.world.runs("ng_opens_ncr")[0]["status"] == "done"
    _, html = page(client, f"/admin/rules/runs/{done['id']}")
    assert "has not failed: nothing to retry" in html
    assert post(client, "/admin/rules/runs/999999/retry").status_code == 404


def test_a_retried_run_skips_the_actions_that_ran_and_fails_again_where_it_failed(site):
    run = failed_run(site)
    client = site.client(site.a)
    assert post(client, f"/admin/rules/runs/{run['id']}/retry").status_code == 302
    assert site.a.world.run_jobs() == 1
    (again,) = site.a.world.runs("ng_breaks")
    assert again["error"].startswith("#2 update_records")
    assert again["status"] == "failed" and again["attempts"] == 1
    assert len(site.a.world.records("ncr")) == 1


def test_a_run_in_full_inputs_outcomes_record_links_and_the_error(site):
    run = failed_run(site)
    iqc_id = run["record_id"]
    status, html = page(site.client(site.a), f"/admin/rules/runs/{run['id']}")
    assert status == 200
    assert "Broken rule" in html and 'href="/admin/rules/ng_breaks"' in html and "v1" in html
    assert "When a record is created" in html and f'href="/f/iqc/{iqc_id}">Incoming inspection (iqc) #{iqc_id}' in html
    assert "#2 update_records: #DIV/0!" in html
    first, second = html.split("1. Create a record")[1].split("2. Update matching records")
    assert "Done" in first and 'href="/f/ncr/1">ncr #1' in first and "NCR-" in first
    assert "Failed" in second.split("</li>")[0]
    assert "Lot number" in html and "L-7" in html and "Quantity" in html            # the inputs with field labels
    assert 'action="/admin/rules/runs/%d/retry"' % run["id"] in html


def test_old_values_and_changed_fields_and_the_chain_of_runs(site):
    world = site.a.world
    world.publish(NG_OPENS_NCR)
    world.publish(CHAIN_RULE)
    world.publish(CHANGE_RULE)
    lot = world.create("lot", "admin", lot_no="L-7", remark="first")
    world.create("iqc", lot_no="L-7", qty=5, result="NG")
    world.run_jobs()
    (chained,) = world.runs("ncr_marks_itself")
    (origin,) = world.runs("ng_opens_ncr")
    assert chained["origin_id"] == origin["id"]
    client = site.client(site.a)
    _, html = page(client, f"/admin/rules/runs/{chained['id']}")
    assert f'caused by run <a href="/admin/rules/runs/{origin["id"]}">#{origin["id"]}</a>' in html and "depth 1" in html
    from engine.services import records as record_service
    with world.session() as s:
        record = record_service.get_record(s, site.a.admin, "lot", lot)
        record_service.update_record(s, site.a.admin, "lot", lot, record.version, {"remark": "second"})
    world.run_jobs()
    (changed,) = world.runs("qty_watch")
    _, html = page(client, f"/admin/rules/runs/{changed['id']}")
    assert "Changed fields: <span" in html and "Before" in html
    row = html.split("Remark")[1].split("</tr>")[0]
    assert "first" in row and "second" in row and "changed" in row


def test_whatever_came_in_is_shown_as_text(site):
    world = site.a.world
    world.publish({**WEBHOOK_RULE, "label": L("<script>alert('label')</script>", "<script>alert('label')</script>")})
    with world.session() as s:
        rule = rule_defs.load_rule_version(s, site.a.admin.tenant_id, "erp_receipt")
        run_id = rule_events.webhook_event(s, site.a.admin.tenant_id, rule,
                                           {"lot_no": "<script>alert(1)</script>", "receipt": {"qty": 3},
                                            "extra": [{"<img src=x onerror=alert(2)>": "<b>x</b>"}]})
    world.run_jobs()
    client = site.client(site.a)
    for path in (f"/admin/rules/runs/{run_id}", "/admin/rules", "/admin/rules/runs", "/admin/rules/erp_receipt"):
        status, html = page(client, path)
        assert status == 200
        assert "<script>alert" not in html and "<img src=x" not in html and "<b>x</b>" not in html, path
    _, html = page(client, f"/admin/rules/runs/{run_id}")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "receipt.qty" in html
    assert "&lt;img src=x onerror=alert(2)&gt;" in html


def test_runs_of_another_tenant_are_404_by_id(site):
    site.b.world.publish(FAILING_RULE)
    site.b.world.create("iqc", lot_no="B-1", qty=5, result="NG")
    site.b.world.run_jobs()
    (theirs,) = site.b.world.runs("ng_breaks")
    client = site.client(site.a)
    assert client.get(f"/admin/rules/runs/{theirs['id']}").status_code == 404
    assert post(client, f"/admin/rules/runs/{theirs['id']}/retry").status_code == 404
    assert site.b.world.runs("ng_breaks")[0]["status"] == "failed"
    _, html = page(client, "/admin/rules/runs?status=failed")
    assert f'href="/admin/rules/runs/{theirs["id"]}"' not in html and "No runs match." in html


def test_a_designer_sees_only_runs_of_their_forms(site):
    world = site.a.world
    world.publish(NG_OPENS_NCR)
    world.publish(WEBHOOK_RULE)
    world.create("iqc", lot_no="L-7", qty=5, result="NG")
    with world.session() as s:
        rule = rule_defs.load_rule_version(s, site.a.admin.tenant_id, "erp_receipt")
        hook_run = rule_events.webhook_event(s, site.a.admin.tenant_id, rule, {"lot_no": "W-1"})
    world.run_jobs()
    site.a.add_designer("dora", "iqc")
    client = site.client(site.a, "dora")
    _, html = page(client, "/admin/rules/runs")
    assert html.count('href="/admin/rules/runs/') == 1 and "ERP receipt" not in html
    assert client.get(f"/admin/rules/runs/{hook_run}").status_code == 404
