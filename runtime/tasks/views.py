"""The approval pages: the task inbox, one task with its action dialogs, batch approval, and the
submitter's withdraw / resubmit / comment on the record page.

Every read and every action goes through the engine's flow services (tenant isolation, who may
act, field permissions of the step, signatures); this module only turns forms into calls and
engine errors into messages in the user's language. A task that is not the user's is a 404.
"""
from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from sqlalchemy.exc import SQLAlchemyError

from engine.errors import Conflict, NotFound, PermissionDenied, QMSError, RecordValidationError, TooManyAttempts
from engine.services import accounts, flow_actions, flow_defs, flow_queries, flows
from engine.services import forms as form_service
from engine.services import records as record_service
from engine.services.flow_actions import TaskAction
from engine.services.names import names_for
from engine.types import Actor
from runtime.auth import current_actor, login_required
from runtime.db import commit, db
from runtime.i18n import current_lang, label, t
from runtime.records import display
from runtime.records.views import error_page

bp = Blueprint("tasks", __name__)

PER_PAGE = 20
ACTIONS = ("approve", "reject", "transfer", "add_before", "add_after", "comment")
DIALOG_OF = {"add_before": "add", "add_after": "add"}          # both "add approver" buttons share a dialog
DIALOG_FIELDS = ("comment", "password", "to_node", "to_user")    # problems shown inside the dialog
INPUTS = {"text": "text", "number": "number", "select": "select", "radio": "select", "date": "date",
          "textarea": "textarea"}                                # editable fields the task page offers as inputs


@bp.app_context_processor
def _nav_badge() -> dict:
    """``todo_count()`` for the nav badge: computed only when a page draws it, once a request."""
    def todo_count() -> int | None:
        if "todo_count" not in g:
            actor = current_actor()
            g.todo_count = None
            if actor is not None:
                try:
                    g.todo_count = flow_queries.counts(db(), actor)["todo"]
                except SQLAlchemyError:        # never break a page over its badge
                    g.todo_count = None
        return g.todo_count
    return {"todo_count": todo_count}


@bp.context_processor
def _helpers() -> dict:
    return {"link": display.link, "shown": display.shown, "when": display.when, "files_of": display.files}


def _int(value, default: int | None = None) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


# ---------------------------------------------------------------------------- the inbox

@bp.get("/tasks")
@login_required
def inbox():
    actor = current_actor()
    form_key = request.args.get("form") or None
    overdue = request.args.get("overdue") in ("1", "true", "on")
    found = flow_queries.inbox(db(), actor, request.args.get("box", "todo"), max(1, _int(request.args.get("page"), 1)),
                               PER_PAGE, form_key, overdue)
    pages = max(1, -(-found["total"] // found["per_page"]))
    return render_template("tasks/inbox.html", found=found, box=found["box"], form_key=form_key, overdue=overdue,
                           forms=_flow_forms(actor), pages=pages,
                           args={"box": found["box"], "form": form_key, "overdue": "1" if overdue else None})


def _flow_forms(actor: Actor) -> list[tuple[str, str]]:
    """(form key, label) of the forms that have a flow, for the inbox filter."""
    out = []
    for key in dict.fromkeys(f["form_key"] for f in flow_defs.list_flows(db(), actor.tenant_id)):
        try:
            out.append((key, label(form_service.get_form(db(), actor.tenant_id, key).label)))
        except NotFound:
            continue
    return out


@bp.post("/tasks/batch-approve")
@login_required
def batch_approve():
    actor = current_actor()
    ids = [i for i in (_int(v) for v in request.form.getlist("task")) if i is not None]
    if not ids:
        flash(t("请先勾选要同意的任务。", "Select the tasks to approve first."), "error")
        return redirect(url_for("tasks.inbox"))
    comment = (request.form.get("comment") or "").strip() or None
    results = flow_actions.batch_approve(db(), actor, ids, comment, None)
    commit()
    done = [i for i, problem in results.items() if problem is None]
    if done:
        flash(t(f"已同意 {len(done)} 个任务", f"{len(done)} task(s) approved"), "ok")
    for task_id, problem in results.items():
        if problem is not None:
            flash(t(f"任务 #{task_id} 未处理：{problem}", f"Task #{task_id} not approved: {problem}"), "error")
    return redirect(url_for("tasks.inbox"))


# ---------------------------------------------------------------------------- one task

@bp.get("/tasks/<int:task_id>")
@login_required
def task_page(task_id: int):
    try:
        return _render_task(task_id)
    except NotFound:
        return error_page(404)


def _render_task(task_id: int, status: int = 200, errors: dict | None = None, dialog: str | None = None,
                 entered: dict | None = None, problem: str | None = None):
    """The task page; after a failed action with the dialog open, its errors and what was typed."""
    actor, session = current_actor(), db()
    # the task is the permission to see the record (as the API's task view): the step decides the fields
    view = flow_queries.task_view(session, actor, task_id)      # NotFound unless it is the actor's task
    task, instance, flow, node, record = view["task"], view["instance"], view["flow"], view["node"], view["record"]
    form = form_service.get_form(session, actor.tenant_id, instance["form_key"], record.def_version)
    can_act = view["can_act"]
    visible = [f for f in form.fields if node.permission(f.key) != "hidden"]
    fields = [{"field": f, "value": record.data.get(f.key),
               "input": INPUTS.get(f.type) if can_act and node.permission(f.key) == "editable" else None}
              for f in visible]
    targets = [(n, _node_name(flow, n)) for n in view["return_targets"]]
    overdue = view["overdue"]
    people = [u for u in accounts.list_users(session, actor.tenant_id)
              if u["id"] not in (actor.user_id, task["assignee_id"])]
    return render_template(
        "tasks/task.html", task_page=True, task=task, instance=instance, flow_def=flow, node=node, record=record,
        form=form, fields=fields, can_act=can_act, overdue=overdue, targets=targets, people=people,
        signature=label(node.signature.label) if node.signature else None,
        names=names_for(session, actor, visible, [record.data]),
        flow=flow_queries.history(session, actor, instance["form_key"], instance["record_id"]),
        record_url=_record_url(actor, instance),
        errors=errors or {}, dialog=dialog, entered=entered or {}, problem=problem), status


def _record_url(actor: Actor, instance: dict) -> str | None:
    """The record page's address when the actor may read the record there (a task alone does not)."""
    try:
        record_service.get_record(db(), actor, instance["form_key"], instance["record_id"])
    except (NotFound, PermissionDenied):
        return None
    return display.link("records.detail", form_key=instance["form_key"], record_id=instance["record_id"])


def _node_name(flow, node_id: str) -> str:
    try:
        node = flow.node(node_id)
    except KeyError:
        return node_id
    return label(node.label) if node.label else node_id


def _params(action: str) -> tuple[TaskAction, dict]:
    """The dialog's fields as a TaskAction, and what was typed (to show it again after an error)."""
    form = request.form
    comment = (form.get("comment") or "").strip() or None
    data = {}
    if action in ("approve", "add_after"):       # changed step fields (inputs carry their old value)
        for name, value in form.items():
            if name.startswith("field_"):
                key = name[len("field_"):]
                if value != form.get("was_" + key, ""):
                    data[key] = value if value.strip() != "" else None
    params = TaskAction(comment=comment, data=data or None, password=form.get("password") or None,
                        to_node=form.get("to_node") or None, to_user=_int(form.get("to_user")))
    entered = {"comment": form.get("comment", ""), "to_node": form.get("to_node", ""),
               "to_user": form.get("to_user", ""), **{k: v for k, v in form.items() if k.startswith("field_")}}
    return params, entered


DONE_MESSAGES = {
    "approve": ("已同意", "Approved"), "reject": ("已退回", "Sent back"), "transfer": ("已转交", "Transferred"),
    "add_before": ("已加签（在我之前）", "Approver added before you"),
    "add_after": ("已同意并加签（在我之后）", "Approved; approver added after you"),
    "comment": ("评论已发表", "Comment added"),
}


@bp.post("/tasks/<int:task_id>/<action>")
@login_required
def act(task_id: int, action: str):
    if action not in ACTIONS:
        return error_page(404)
    actor, lang = current_actor(), current_lang()
    params, entered = _params(action)
    dialog = DIALOG_OF.get(action, action)
    try:
        flow_actions.act_counting_failures(db(), actor, task_id, action, params, commit=commit)
        commit()
    except NotFound:
        return error_page(404)
    except RecordValidationError as exc:
        db().rollback()
        errors = {p.field: p.message.get(lang) for p in exc.errors}
        general = None if all(k in DIALOG_FIELDS for k in errors) else \
            t("请检查页面上标出的字段。", "Check the fields marked on the page.")
        return _safe_render(task_id, 422, errors, dialog, entered, general)
    except QMSError as exc:
        db().rollback()
        status = 429 if isinstance(exc, TooManyAttempts) else 403 if isinstance(exc, PermissionDenied) else \
            409 if isinstance(exc, Conflict) else 422
        return _safe_render(task_id, status, {}, dialog, entered, exc.message.get(lang))
    zh, en = DONE_MESSAGES[action]
    flash(t(zh, en), "ok")
    if action == "comment":
        return redirect(url_for("tasks.task_page", task_id=task_id))
    return redirect(url_for("tasks.inbox"))


def _safe_render(task_id: int, status: int, errors: dict, dialog: str, entered: dict, problem: str | None):
    try:
        return _render_task(task_id, status, errors, dialog, entered, problem)
    except NotFound:
        return error_page(404)


# ---------------------------------------------------------------------------- the record page's flow

INSTANCE_ACTIONS = {
    "withdraw": ("已撤回", "Withdrawn"), "resubmit": ("已重新提交", "Resubmitted"), "comment": ("评论已发表", "Comment added"),
}


@bp.post("/f/<form_key>/<int:record_id>/flow")
@login_required
def start_flow(form_key: str, record_id: int):
    """Send a record through an approval flow (forms whose flow does not start by itself)."""
    actor, lang = current_actor(), current_lang()
    try:
        flows.start_flow(db(), actor, form_key, record_id, request.form.get("flow") or None)
        commit()
        flash(t("已提交审批", "Sent for approval"), "ok")
    except NotFound:
        return error_page(404)
    except PermissionDenied as exc:
        return error_page(403, exc.message.get(lang))
    except QMSError as exc:
        db().rollback()
        flash(exc.message.get(lang), "error")
    return redirect(url_for("records.detail", form_key=form_key, record_id=record_id) + "#flow")


@bp.post("/flows/instances/<int:instance_id>/<action>")
@login_required
def instance_action(instance_id: int, action: str):
    if action not in INSTANCE_ACTIONS:
        return error_page(404)
    actor, session, lang = current_actor(), db(), current_lang()
    text = (request.form.get("comment") or request.form.get("reason") or "").strip() or None
    problem = None
    try:
        if action == "withdraw":
            flow_actions.withdraw(session, actor, instance_id, text)
        elif action == "resubmit":
            flow_actions.resubmit(session, actor, instance_id)
        else:
            flow_actions.comment_on_instance(session, actor, instance_id, TaskAction(comment=text))
        commit()
    except NotFound:
        return error_page(404)
    except PermissionDenied as exc:
        return error_page(403, exc.message.get(lang))
    except QMSError as exc:
        session.rollback()
        problem = exc.message.get(lang)
        if isinstance(exc, RecordValidationError) and exc.errors:     # e.g. an empty comment
            problem = "; ".join(p.message.get(lang) for p in exc.errors)
    if problem:
        flash(problem, "error")
    else:
        zh, en = INSTANCE_ACTIONS[action]
        flash(t(zh, en), "ok")
    instance = flows.instance_row(session, actor.tenant_id, instance_id, lock=False)
    return redirect(url_for("records.detail", form_key=instance["form_key"], record_id=instance["record_id"])
                    + "#flow")
