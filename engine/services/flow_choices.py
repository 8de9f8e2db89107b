"""What the flow designer offers in its pickers: the tenant's roles, people and departments, and
the flow vocabulary (node types, assignee kinds, modes, overdue actions, signature meanings,
automatic-node action types) read from the engine's own registries and the flow JSON Schema.

Only people who may design something (admins, or a role with ``design`` on an app or form) see
the tenant's directory this way: external users (a supplier's staff) never do.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from engine.definitions.schema import load_schema
from engine.errors import PermissionDenied
from engine.flows.model import ASSIGNEE_KINDS, MEANINGS, MODES, NODE_TYPES, OVERDUE_ACTIONS, PERMISSIONS
from engine.i18n import Msg, msg
from engine.services import accounts
from engine.storage.platform import permissions, roles
from engine.types import Actor

NODE_LABELS = {
    "start": Msg("发起人", "Submitter"), "approval": Msg("审批人", "Approver"), "handle": Msg("办理人", "Handler"),
    "cc": Msg("抄送人", "CC"), "exclusive": Msg("条件分支", "Condition branch"),
    "parallel": Msg("并行分支", "Parallel branch"), "join": Msg("汇合", "Join"),
    "automatic": Msg("自动节点", "Automatic step"), "end": Msg("结束", "End"),
}
NODE_HINTS = {
    "approval": Msg("审批人同意或拒绝", "People approve or reject"),
    "handle": Msg("办理人填写并提交", "People do the work and submit it"),
    "cc": Msg("通知相关人员，不等待", "Notify people; never waits"),
    "exclusive": Msg("按条件走其中一条分支", "Take the first branch whose condition holds"),
    "parallel": Msg("所有分支同时进行，全部完成后汇合", "Run every branch at once, then join"),
    "automatic": Msg("自动执行动作后继续", "Run actions, then continue"),
}
INSERTABLE = ("approval", "handle", "cc", "exclusive", "parallel", "automatic")
ASSIGNEE_LABELS = {
    "user": Msg("指定成员", "Specific people"), "role": Msg("角色", "Role"),
    "department_head": Msg("提交人的部门负责人", "Submitter's department head"),
    "field": Msg("表单中的人员字段", "User field on the record"), "expression": Msg("表达式", "Expression"),
    "submitter": Msg("提交人本人", "The submitter"),
}
MODE_LABELS = {"any": Msg("或签（一人同意即可）", "Any one (first decision decides)"),
               "all": Msg("会签（需所有人同意）", "All must approve"),
               "ratio": Msg("按比例通过", "A share of approvers"),
               "sequence": Msg("依次审批", "One after the other")}
OVERDUE_LABELS = {"remind": Msg("再次提醒", "Remind again"), "escalate": Msg("升级给他人", "Escalate"),
                  "approve": Msg("自动通过", "Approve automatically"), "return": Msg("退回提交人", "Return to submitter")}
PERMISSION_LABELS = {"editable": Msg("可编辑", "Editable"), "readonly": Msg("只读", "Read-only"),
                     "hidden": Msg("隐藏", "Hidden")}


def require_some_design(session: Session, actor: Actor) -> None:
    """PermissionDenied unless the actor may design at least one app or form of the tenant."""
    if actor.unrestricted:
        return
    if actor.roles:
        rows = session.execute(select(permissions.c.rules).join(roles, roles.c.id == permissions.c.role_id).where(and_(
            permissions.c.tenant_id == actor.tenant_id, roles.c.tenant_id == actor.tenant_id,
            roles.c.key.in_(list(actor.roles))))).scalars()
        if any(isinstance(r, dict) and r.get("design") is True for r in rows):
            return
    raise PermissionDenied(msg("你没有设计应用的权限", "You may not design apps"))


def list_roles(session: Session, tenant_id: int) -> list[dict]:
    """The tenant's roles (key, label {"zh-CN","en"}), by key."""
    stmt = select(roles.c.key, roles.c.label).where(roles.c.tenant_id == tenant_id).order_by(roles.c.key)
    return [{"key": k, "label": label} for k, label in session.execute(stmt).all()]


def _node_properties() -> dict[str, list[str]]:
    """Per node type, the properties the flow schema allows (the designer shows only those sections)."""
    schema = load_schema("flow.schema.json")
    out: dict[str, list[str]] = {}
    for rule in schema["$defs"]["node"]["allOf"]:
        kind = rule["if"]["properties"]["type"]
        for name in kind.get("enum") or [kind.get("const")]:
            out[name] = list(rule["then"]["properties"])
    return out


def _action_types() -> list[dict]:
    from engine.rules.actions import ACTIONS
    return [{"type": a.type, "label": a.label.to_dict(), "options": list(a.options_schema),
             "required": list(a.required_options)} for a in ACTIONS.all()]


def vocabulary() -> dict[str, Any]:
    """The flow designer's fixed lists, from the engine (no tenant data)."""
    from engine.fields import FIELD_TYPES
    props = _node_properties()
    return {
        "computed_field_types": [k for k, t in FIELD_TYPES.items() if t.is_computed],   # not mapping targets
        "subtable_field_types": [k for k, t in FIELD_TYPES.items() if t.is_subtable],
        "node_types": [{"type": t, "label": NODE_LABELS[t].to_dict(), "insertable": t in INSERTABLE,
                        "hint": NODE_HINTS[t].to_dict() if t in NODE_HINTS else None,
                        "properties": props.get(t, [])} for t in NODE_TYPES],
        "assignee_kinds": [{"kind": k, "label": ASSIGNEE_LABELS[k].to_dict()} for k in ASSIGNEE_KINDS],
        "modes": [{"key": m, "label": MODE_LABELS[m].to_dict()} for m in MODES],
        "overdue_actions": [{"key": o, "label": OVERDUE_LABELS[o].to_dict()} for o in OVERDUE_ACTIONS],
        "permissions": [{"key": p, "label": PERMISSION_LABELS[p].to_dict()} for p in PERMISSIONS],
        "meanings": [{"key": k, "label": m.to_dict()} for k, m in MEANINGS.items()],
        "action_types": _action_types(),
    }


def flow_choices(session: Session, actor: Actor) -> dict[str, Any]:
    """Everything the flow designer's pickers need for the actor's tenant."""
    require_some_design(session, actor)
    tenant_id = actor.tenant_id
    people = [{"id": u["id"], "name": u["name"] or u["email"], "department_id": u["department_id"]}
              for u in accounts.list_users(session, tenant_id)]
    departments = [{"id": d["id"], "key": d["key"], "name": d["name"], "parent_id": d["parent_id"]}
                   for d in accounts.list_departments(session, tenant_id)]
    return {"roles": list_roles(session, tenant_id), "users": people, "departments": departments, **vocabulary()}
