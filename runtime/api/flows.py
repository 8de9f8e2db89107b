"""Approval flows over the API: publish definitions, start a flow on a record, the task inbox,
act on a task (with the e-signature password where the step needs one), a record's flow history,
withdraw/resubmit/comment, and standing delegations. Every rule lives in the engine services.
"""
from __future__ import annotations

from datetime import date

from flask import jsonify, request

from engine.errors import FieldProblem, RecordValidationError
from engine.i18n import msg
from engine.services import flow_actions, flow_defs, flow_directory, flow_queries, flows
from engine.services.flow_actions import TaskAction
from runtime.api.blueprint import bp
from runtime.api.replies import BadInput, int_arg, json_object, json_ready, member, record_json
from runtime.auth import current_actor
from runtime.db import commit, db


# ---------------------------------------------------------------------------- definitions

@bp.get("/flows")
def list_flows():
    return jsonify({"items": flow_defs.list_flows(db(), current_actor().tenant_id)})


@bp.post("/flows")
def publish_flow():
    flow = flow_defs.publish_flow(db(), current_actor(), json_object())
    commit()
    return jsonify({"key": flow.key, "version": flow.version, "form": flow.form}), 201


@bp.get("/flows/<flow_key>")
def get_flow(flow_key: str):
    flow = flow_defs.load_flow_version(db(), current_actor().tenant_id, flow_key, int_arg("version"))
    return jsonify({**json_ready(flow.to_dict()), "version": flow.version})


# ---------------------------------------------------------------------------- a record's flow

@bp.post("/forms/<form_key>/records/<int:record_id>/flow")
def start_flow(form_key: str, record_id: int):
    body = json_object() if request.get_data(cache=True).strip() else {}
    instance_id = flows.start_flow(db(), current_actor(), form_key, record_id, member(body, "flow", str, required=False))
    commit()
    return jsonify({"instance_id": instance_id}), 201


@bp.get("/forms/<form_key>/records/<int:record_id>/flow")
def record_flow(form_key: str, record_id: int):
    found = flow_queries.history(db(), current_actor(), form_key, record_id)
    if found is None:
        return jsonify({"instance": None, "events": [], "signatures": [], "diagram": []})
    return jsonify(json_ready({k: v for k, v in found.items() if k not in ("flow", "tasks")}
                              | {"tasks": [_task_json(t) for t in found["tasks"]]}))


@bp.post("/flows/instances/<int:instance_id>/withdraw")
def withdraw(instance_id: int):
    body = json_object() if request.get_data(cache=True).strip() else {}
    flow_actions.withdraw(db(), current_actor(), instance_id, member(body, "reason", str, required=False))
    commit()
    return jsonify({"ok": True})


@bp.post("/flows/instances/<int:instance_id>/resubmit")
def resubmit(instance_id: int):
    flow_actions.resubmit(db(), current_actor(), instance_id)
    commit()
    return jsonify({"ok": True})


@bp.post("/flows/instances/<int:instance_id>/comments")
def comment(instance_id: int):
    flow_actions.comment_on_instance(db(), current_actor(), instance_id, _params(json_object()))
    commit()
    return jsonify({"ok": True}), 201


# ---------------------------------------------------------------------------- tasks

@bp.get("/tasks")
def inbox():
    found = flow_queries.inbox(db(), current_actor(), request.args.get("box", "todo"), int_arg("page", 1),
                               int_arg("per_page", 50), request.args.get("form") or None,
                               request.args.get("overdue") in ("1", "true"))
    found["items"] = [_task_json(i) for i in found["items"]]
    return jsonify(json_ready(found))


@bp.get("/tasks/<int:task_id>")
def get_task(task_id: int):
    view = flow_queries.task_view(db(), current_actor(), task_id)
    task, instance, node, record = view["task"], view["instance"], view["node"], view["record"]
    data = {k: v for k, v in record.data.items() if node.permission(k) != "hidden"}
    return jsonify(json_ready({
        "task": _task_json(task), "instance": instance, "record": {**record_json(record), "data": data},
        "fields": view["fields"], "return_targets": view["return_targets"], "overdue": view["overdue"],
        "signature": ({"meaning": node.signature.meaning, "label": {"zh-CN": node.signature.label.zh,
                                                                    "en": node.signature.label.en}}
                      if node.signature else None),
        "actions": sorted(flow_actions.TASK_ACTIONS.keys()) if view["can_act"] else []}))


@bp.post("/tasks/<int:task_id>/<action>")
def act(task_id: int, action: str):
    task = flow_actions.act_counting_failures(db(), current_actor(), task_id, action, _params(json_object()),
                                              commit=commit)
    commit()
    return jsonify(json_ready(_task_json(task)))


@bp.post("/tasks/batch-approve")
def batch_approve():
    body = json_object()
    ids = member(body, "tasks", list)
    if not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise BadInput(msg("“tasks”必须是任务编号的列表", "'tasks' must be a list of task ids"), "tasks")
    results = flow_actions.batch_approve(db(), current_actor(), ids, member(body, "comment", str, required=False),
                                         member(body, "password", str, required=False))
    commit()
    return jsonify({"results": {str(k): v for k, v in results.items()}})


def _params(body: dict) -> TaskAction:
    attachments = member(body, "attachments", list, required=False, default=[])
    return TaskAction(comment=member(body, "comment", str, required=False),
                      data=member(body, "data", dict, required=False),
                      password=member(body, "password", str, required=False),
                      to_node=member(body, "to_node", str, required=False),
                      to_user=member(body, "to_user", int, required=False),
                      attachments=[a for a in attachments if isinstance(a, int)])


def _task_json(task: dict) -> dict:
    keep = ("id", "instance_id", "node_id", "kind", "status", "assignee_id", "assignee_name", "delegated_from",
            "created_at", "due_at", "acted_at", "comment", "signature_id", "form_key", "record_id", "record_title",
            "flow_key", "flow_label", "node_label", "submitter_id", "submitter_name", "overdue",
            "signature_required", "instance_state", "state")
    return {k: task[k] for k in keep if k in task}


# ---------------------------------------------------------------------------- delegations

@bp.get("/delegations")
def delegations():
    return jsonify(json_ready({"items": flow_directory.list_delegations(db(), current_actor())}))


@bp.post("/delegations")
def add_delegation():
    body = json_object()
    try:
        starts, ends = date.fromisoformat(member(body, "starts_on", str)), date.fromisoformat(member(body, "ends_on", str))
    except ValueError:
        raise RecordValidationError([FieldProblem("starts_on", msg("日期格式应为 YYYY-MM-DD", "Dates are YYYY-MM-DD"))]) \
            from None
    new_id = flow_directory.set_delegation(db(), current_actor(), member(body, "delegate_id", int), starts, ends)
    commit()
    return jsonify({"id": new_id}), 201


@bp.delete("/delegations/<int:delegation_id>")
def revoke_delegation(delegation_id: int):
    flow_directory.revoke_delegation(db(), current_actor(), delegation_id)
    commit()
    return "", 204
