"""The rule run log (``/admin/rules/runs``): every run, the failed ones with their error and a
retry button, and one run in full — its inputs, each action's outcome in order and its chain.

Reads go through :mod:`engine.services.rule_log` (tenant-scoped; designers see their forms'
rules only); retry through :func:`engine.services.rule_runs.retry` (admins only).
"""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from engine.errors import NotFound
from engine.services import rule_defs, rule_log, rule_runs
from runtime.auth import current_actor
from runtime.db import commit, db
from runtime.i18n import label, t
from runtime.rules_admin import present
from runtime.rules_admin.views import PER_PAGE, bp, int_arg, rules_page, safe_next


@bp.get("/admin/rules/runs")
@rules_page
def runs_page():
    actor, session = current_actor(), db()
    state = request.args.get("status") if request.args.get("status") in rule_log.STATUSES else None
    rule_key = request.args.get("rule") or None
    found = rule_log.list_runs(session, actor, rule_key=rule_key, status=state, page=int_arg("page"), per_page=PER_PAGE)
    rules = {r["key"]: label(r["label"]) for r in rule_defs.list_rules(session, actor)}
    return render_template("rules_admin/runs.html", found=found, state=state, rule_key=rule_key, rules=rules,
                           counts=rule_log.status_counts(session, actor), statuses=rule_log.STATUSES,
                           pages=max(1, -(-found["total"] // found["per_page"])),
                           args={"status": state, "rule": rule_key})


@bp.get("/admin/rules/runs/<int:run_id>")
@rules_page
def run_page(run_id: int):
    actor, session = current_actor(), db()
    run = rule_log.get_run(session, actor, run_id)              # NotFound outside the actor's view
    planned, rule_label = _rule_version(run)
    return render_template("rules_admin/run.html", run=run, rule_label=rule_label,
                           inputs=present.event_sections(session, actor.tenant_id, run["event"]),
                           steps=present.action_steps(run, planned),
                           form_name=present.form_name(session, actor.tenant_id, run["form"]),
                           origin_visible=_visible(run["origin_id"]))


def _rule_version(run: dict) -> tuple[list[dict] | None, str]:
    """The actions of the rule version the run used (described), and its label; (None, "") when the
    run belongs to no stored rule (e.g. a flow's automatic node)."""
    actor, session = current_actor(), db()
    try:
        rule = rule_defs.load_rule_version(session, actor.tenant_id, run["rule_key"], run["rule_version"])
    except NotFound:
        return None, ""
    return present.describe_actions(session, actor.tenant_id, rule.to_dict()), label(rule.label)


def _visible(run_id: int | None) -> bool:
    """Whether the actor may open run ``run_id`` (the chain's origin may be another form's rule)."""
    if run_id is None:
        return False
    try:
        rule_log.get_run(db(), current_actor(), run_id)
        return True
    except NotFound:
        return False


@bp.post("/admin/rules/runs/<int:run_id>/retry")
@rules_page
def retry(run_id: int):
    actor = current_actor()
    run = rule_log.get_run(db(), actor, run_id)                # NotFound for another tenant's run
    back = safe_next(request.form.get("next")) or url_for("rules_admin.run_page", run_id=run_id)
    if run["status"] != "failed":
        flash(t(f"运行 #{run_id} 不是失败状态，无需重试", f"Run #{run_id} has not failed: nothing to retry"), "error")
        return redirect(back)
    rule_runs.retry(db(), actor, run_id)                       # admins only (PermissionDenied → 403)
    commit()
    flash(t(f"运行 #{run_id} 已重新排队；已完成的动作不会重复执行",
            f"Run #{run_id} queued again; actions that already ran are not repeated"), "ok")
    return redirect(back)
