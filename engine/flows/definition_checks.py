"""Layer 2 of checking a flow: the numbered semantic checklist (see docs/flows.md).

Each ``check_*`` takes a :class:`Flow` and yields Problems. They skip what the JSON Schema
already reports (a value of the wrong JSON type, a missing key) and work on whatever part of the
graph is usable, so every mistake is reported once.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable, Iterable, Iterator, Mapping

from engine.definitions.identifiers import IDENTIFIER
from engine.definitions.model import FormDef
from engine.definitions.checks import blank_labels
from engine.definitions.paths import join
from engine.errors import ExpressionError, Problem
from engine.expressions.types import Kind
from engine.fields import FIELD_TYPES
from engine.flows.model import TASK_NODES
from engine.i18n import Msg, msg

NODE_NAMES = {"start": "开始", "approval": "审批", "handle": "办理", "cc": "抄送", "exclusive": "条件分支",
              "parallel": "并行分支", "join": "汇合", "automatic": "自动节点", "end": "结束"}
NEEDS_ASSIGNEES = TASK_NODES | {"cc"}
MAX_NODES = 200
_TRUE_FALSE = (Kind.BOOLEAN, Kind.ANY, Kind.BLANK)
_USER_IDS = (Kind.NUMBER, Kind.ID, Kind.ANY, Kind.BLANK)


# ---- what the checks look at ---------------------------------------------------------------------

@dataclass
class Flow:
    """The raw definition, its form, and the usable nodes (dicts), for the semantic checks."""

    data: Any
    form: FormDef | None
    forms: Mapping[str, FormDef] | None
    nodes: list[tuple[str, dict]] = field(default_factory=list)          # (path, node) of every dict node
    ids: dict[str, tuple[str, dict]] = field(default_factory=dict)       # first node of each id
    _scope: Any = None

    @property
    def scope(self):
        from engine.definitions import form_scope
        if self._scope is None and self.form is not None:
            self._scope = form_scope(self.form, self.forms)
        return self._scope

    @cached_property
    def graph(self) -> dict[str, list[str]]:
        """Node id → ids of the existing nodes it leads to."""
        return {i: [t for _, t in edges(p, n) if t in self.ids] for i, (p, n) in self.ids.items()}

    @cached_property
    def reached(self) -> set[str] | None:
        """Ids reachable from the (first) start node; None without a start."""
        starts = [n["id"] for _, n in self.of_type("start") if isinstance(n.get("id"), str) and n["id"] in self.ids]
        return _reach(self.graph, starts[:1]) if starts else None

    def of_type(self, *types: str) -> Iterator[tuple[str, dict]]:
        return ((p, n) for p, n in self.nodes if n.get("type") in types)

    def id_list(self) -> str:
        names = list(self.ids)
        return ", ".join(names[:30]) + (" …" if len(names) > 30 else "") or "-"


def build_flow(data: Any, form: FormDef | None, forms: Mapping[str, FormDef] | None) -> Flow:
    """The Flow the checks look at; more than MAX_NODES nodes (the schema says so) skip the graph checks."""
    flow = Flow(data, form, forms)
    raw = data.get("nodes") if isinstance(data, dict) else None
    if isinstance(raw, list) and len(raw) <= MAX_NODES:
        flow.nodes = [(f"$.nodes[{i}]", n) for i, n in enumerate(raw) if isinstance(n, dict)]
    for path, node in flow.nodes:
        if isinstance(node.get("id"), str):
            flow.ids.setdefault(node["id"], (path, node))
    return flow


def edges(path: str, node: dict) -> list[tuple[str, str]]:
    """(JSON path, target id) of every ``next`` of a node and of its branches."""
    out = [(f"{path}.next", node["next"])] if isinstance(node.get("next"), str) else []
    branches = node.get("branches")
    for j, branch in enumerate(branches if isinstance(branches, list) else ()):
        if isinstance(branch, dict) and isinstance(branch.get("next"), str):
            out.append((f"{path}.branches[{j}].next", branch["next"]))
    return out


def _name(node: dict) -> str:
    return node["id"] if isinstance(node.get("id"), str) else "?"


def _reach(graph: dict[str, list[str]], starts: Iterable[str], stop: str | None = None) -> set[str]:
    """Ids reachable from ``starts`` (included), not going on past ``stop``."""
    seen: set[str] = set()
    todo = [s for s in starts if s != stop]
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo.extend(t for t in graph.get(node, ()) if t != stop and t not in seen)
    return seen


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# ---- layer 2: the checklist ----------------------------------------------------------------------

def check_form(flow: Flow) -> Iterator[Problem]:
    """1. The flow's form exists (is published) and is the one the flow names."""
    key = flow.data.get("form") if isinstance(flow.data, dict) else None
    shown_key = key if isinstance(key, str) else "?"
    if flow.form is None:
        yield Problem("$.form", msg("表单“{k}”不存在或尚未发布；请先发布该表单，或选择另一个表单",
                                    "The form '{k}' does not exist or is not published; publish it first or "
                                    "choose another form", k=shown_key))
    elif isinstance(key, str) and key != flow.form.key:
        yield Problem("$.form", msg("流程所属表单是“{k}”，但检查时使用的是表单“{f}”", "The flow names the form '{k}' "
                                    "but was checked against the form '{f}'", k=key, f=flow.form.key))


def check_duplicate_ids(flow: Flow) -> Iterator[Problem]:
    """2. Node ids are unique within the flow."""
    for path, node in flow.nodes:
        first = flow.ids.get(node.get("id")) if isinstance(node.get("id"), str) else None
        if first is not None and first[0] != path:
            yield Problem(f"{path}.id", msg("节点 id“{i}”重复（与 {p} 相同）；请换一个 id",
                                            "The node id '{i}' is used twice (also at {p}); give this node another id",
                                            i=node["id"], p=first[0]))


def check_targets(flow: Flow) -> Iterator[Problem]:
    """3. Every ``next``, branch target and ``join`` names a node of the flow."""
    for path, node in flow.nodes:
        found = edges(path, node)
        if isinstance(node.get("join"), str):
            found.append((f"{path}.join", node["join"]))
        for where, target in found:
            if target not in flow.ids:
                yield Problem(where, msg("“{t}”不是本流程的节点；请填写现有节点之一：{a}",
                                         "'{t}' is not a node of this flow; use one of: {a}",
                                         t=target, a=flow.id_list()))


def check_start_end(flow: Flow) -> Iterator[Problem]:
    """4. Exactly one start node and at least one end node."""
    if not flow.nodes:
        return
    starts = [p for p, _ in flow.of_type("start")]
    if not starts:
        yield Problem("$.nodes", msg("流程需要一个开始节点（\"type\": \"start\"）",
                                     "The flow needs a start node (\"type\": \"start\")"))
    for path in starts[1:]:
        yield Problem(f"{path}.type", msg("流程只能有一个开始节点（已有 {p}）；请删除多余的开始节点",
                                          "A flow has exactly one start node (already {p}); remove this one",
                                          p=starts[0]))
    if not any(True for _ in flow.of_type("end")):
        yield Problem("$.nodes", msg("流程至少需要一个结束节点（\"type\": \"end\"）",
                                     "The flow needs at least one end node (\"type\": \"end\")"))


def check_reachable(flow: Flow) -> Iterator[Problem]:
    """5. Every node can be reached from the start (reported at the first node of each cut-off part)."""
    reached, graph = flow.reached, flow.graph
    if reached is None:
        return
    lost = [i for i in flow.ids if i not in reached]
    fed = {t for i in lost for t in graph[i] if t != i}
    covered: set[str] = set()
    for node_id in sorted(lost, key=lambda i: (i in fed, lost.index(i))):     # nodes nothing leads to first
        if node_id not in covered:
            after = _reach(graph, [node_id]) - covered - {node_id} - reached
            covered |= after | {node_id}
            yield Problem(flow.ids[node_id][0], msg(
                "从开始节点无法到达节点“{i}”{z}；请让某个节点的 next 指向它，或删除它",
                "The node '{i}' cannot be reached from the start{e}; lead another node's next to it or remove it",
                i=node_id, z=f"（其后的 {len(after)} 个节点同样无法到达）" if after else "",
                e=f" (nor can the {len(after)} node(s) after it)" if after else ""))


def check_end_reachable(flow: Flow) -> Iterator[Problem]:
    """6. From every reachable node some end can be reached (no cycle without a way out).

    A node with a broken or missing target counts as leading on: that is reported elsewhere."""
    graph = flow.graph
    ends = {i for i, (_, n) in flow.ids.items() if n.get("type") == "end"}
    if not ends:
        return
    open_ = {i for i, (p, n) in flow.ids.items()
             if n.get("type") != "end" and (not edges(p, n) or any(t not in flow.ids for _, t in edges(p, n)))}
    back: dict[str, list[str]] = {}
    for source, targets in graph.items():
        for target in targets:
            back.setdefault(target, []).append(source)
    good = _reach(back, ends | open_)
    scope = flow.reached or set(flow.ids)
    for node_id, (path, _) in flow.ids.items():
        if node_id in scope and node_id not in good:
            yield Problem(path, msg(
                "从节点“{i}”无法到达任何结束节点（它所在的路径绕成了没有出口的循环）；请加一条通向结束的分支",
                "No end can be reached from the node '{i}' (its paths go round in a cycle with no way out); add a "
                "branch that leads on to an end", i=node_id))


def check_exclusive(flow: Flow) -> Iterator[Problem]:
    """7. An exclusive node has exactly one default branch; every other branch has a condition."""
    for path, node in flow.of_type("exclusive"):
        branches = node.get("branches")
        if not isinstance(branches, list):
            continue
        items = [(j, b) for j, b in enumerate(branches) if isinstance(b, dict)]
        defaults = [j for j, b in items if b.get("default") is True]
        if not defaults and items:
            yield Problem(f"{path}.branches", msg(
                "条件分支“{i}”需要恰好一个默认分支（\"default\": true，没有条件成立时走这条）；请把最后一个分支标为默认",
                "The exclusive node '{i}' needs exactly one default branch (\"default\": true, taken when no condition "
                "holds); mark the last branch as default", i=_name(node)))
        for j in defaults[1:]:
            yield Problem(f"{path}.branches[{j}].default", msg(
                "条件分支“{i}”只能有一个默认分支（已有第 {f} 个分支）", "The exclusive node '{i}' has exactly one default "
                "branch (already branch {f}); remove \"default\" here", i=_name(node), f=defaults[0] + 1))
        for j, branch in items:
            if branch.get("default") is True and "condition" in branch:
                yield Problem(f"{path}.branches[{j}].condition", msg(
                    "默认分支不需要条件（没有其他条件成立时才走它）；请删除条件或取消默认",
                    "The default branch takes no condition (it is taken when no other condition holds); remove the "
                    "condition or the default mark"))
            elif branch.get("default") is not True and "condition" not in branch:
                yield Problem(f"{path}.branches[{j}].condition", msg(
                    "条件分支“{i}”的第 {n} 个分支需要条件（如 cost > 10000），或把它标为默认分支",
                    "Branch {n} of the exclusive node '{i}' needs a condition (e.g. cost > 10000), or mark it as the "
                    "default branch", i=_name(node), n=j + 1))


def _expression_problems(flow: Flow, path: str, source: str, what: Msg) -> tuple[list[Problem], Any]:
    from engine.expressions import check
    result = check(source, flow.scope)
    return [_at(path, what, e) for e in result.errors], result.type


def _at(path: str, what: Msg, error: ExpressionError) -> Problem:
    return Problem(path, Msg(f"{what.zh}第 {error.line} 行第 {error.column} 列：{error.message.zh}",
                             f"{what.en}, line {error.line}, column {error.column}: {error.message.en}"))


def _type_name(t) -> Msg:
    from engine.expressions.typerules import type_name
    return type_name(t)


def check_conditions(flow: Flow) -> Iterator[Problem]:
    """8. Branch conditions check against the form and give true/false."""
    if flow.scope is None:
        return
    for path, node in flow.of_type("exclusive"):
        branches = node.get("branches")
        for j, branch in enumerate(branches if isinstance(branches, list) else ()):
            source = branch.get("condition") if isinstance(branch, dict) else None
            if not isinstance(source, str) or not source.strip() or branch.get("default") is True:
                continue
            where = f"{path}.branches[{j}].condition"
            problems, result = _expression_problems(flow, where, source, Msg("条件表达式", "Condition"))
            yield from problems
            if not problems and result is not None and result.kind not in _TRUE_FALSE:
                name = _type_name(result)
                yield Problem(where, msg("条件的结果应为真/假，实际是{z}；请写一个比较，如 cost > 10000",
                                         "The condition must give true or false, it gives {e}; write a comparison such "
                                         "as cost > 10000", z=name.zh, e=name.en))


def check_parallel(flow: Flow) -> Iterator[Problem]:
    """9. A parallel node's join is a join node that every branch reaches before any end; a join is
    reached only from inside its parallel node's branches and belongs to exactly one parallel node."""
    owners: dict[str, list[tuple[str, dict]]] = {}
    for path, node in flow.of_type("parallel"):
        target = flow.ids.get(node["join"]) if isinstance(node.get("join"), str) else None
        if target is not None and target[1].get("type") != "join":
            yield Problem(f"{path}.join", msg(
                "“{j}”是类型为 {k} 的节点，不是汇合节点；请填写各分支汇合处的汇合节点（\"type\": \"join\"）",
                "'{j}' is a node of type {k}, not a join node; name the join node (\"type\": \"join\") where the "
                "branches meet", j=node["join"], k=target[1].get("type")))
        elif target is not None:
            owners.setdefault(node["join"], []).append((path, node))
    for join_id, (path, node) in flow.ids.items():
        if node.get("type") == "join":
            yield from _join_owners(flow, join_id, path, owners.get(join_id, []))


def _join_owners(flow: Flow, join_id: str, path: str, owned: list[tuple[str, dict]]) -> Iterator[Problem]:
    if not owned:
        yield Problem(path, msg("汇合节点“{j}”不属于任何并行分支节点，它会一直等待；请在并行分支节点的 join 中填写它",
                                "The join node '{j}' belongs to no parallel node, so it would wait forever; name it "
                                "in the 'join' of the parallel node whose branches meet here", j=join_id))
        return
    for other, _ in owned[1:]:
        yield Problem(f"{other}.join", msg("汇合节点“{j}”已属于并行分支节点“{p}”；每个汇合节点只能属于一个并行分支节点，"
                                           "否则会一直等待。请另建一个汇合节点",
                                           "The join node '{j}' already belongs to the parallel node '{p}'; a join "
                                           "belongs to exactly one parallel node, otherwise it would wait forever. "
                                           "Add a separate join node", j=join_id, p=_name(owned[0][1])))
    yield from _parallel_region(flow, owned[0], join_id)


def _parallel_region(flow: Flow, owner: tuple[str, dict], join_id: str) -> Iterator[Problem]:
    """Branches that reach an end before the join; edges into the join from outside the branches."""
    path, node = owner
    inside = {_name(node)}
    for where, target in edges(path, node):
        region = _reach(flow.graph, [target] if target in flow.ids else [], stop=join_id)
        inside |= region
        ends = sorted(i for i in region if flow.ids[i][1].get("type") == "end")
        if ends:
            yield Problem(where.rsplit(".", 1)[0], msg(
                "并行分支“{p}”的这条分支没有经过汇合节点“{j}”就到达了结束节点“{e}”；每条分支都必须先到达“{j}”",
                "This branch of the parallel node '{p}' reaches the end '{e}' without passing its join '{j}'; every "
                "branch must reach '{j}' first", p=_name(node), j=join_id, e=ends[0]))
    reached = flow.reached or set(flow.ids)
    for source, (spath, snode) in flow.ids.items():
        for where, target in edges(spath, snode):
            if target == join_id and source not in inside and source in reached:
                yield Problem(where, msg(
                    "节点“{s}”从并行分支“{p}”之外进入汇合节点“{j}”，汇合节点会一直等待；只有“{p}”的分支可以通向“{j}”",
                    "The node '{s}' leads into the join '{j}' from outside the parallel node '{p}', so the join would "
                    "wait forever; only the branches of '{p}' may lead to '{j}'", s=source, p=_name(node), j=join_id))


def _assignee_lists(flow: Flow) -> Iterator[tuple[str, list]]:
    for path, node in flow.nodes:
        if isinstance(node.get("assignees"), list):
            yield f"{path}.assignees", node["assignees"]
        deadline = node.get("deadline")
        if isinstance(deadline, dict) and isinstance(deadline.get("escalate_to"), list):
            yield f"{path}.deadline.escalate_to", deadline["escalate_to"]


def check_assignees(flow: Flow) -> Iterator[Problem]:
    """10. A task or cc node has assignees; a field assignee names a top-level user field of the
    form; an assignee expression checks against the form and gives user ids."""
    for path, node in flow.of_type(*NEEDS_ASSIGNEES):
        if node.get("assignees") in (None, []):
            kind = node["type"]
            yield Problem(f"{path}.assignees", msg(
                "{z}节点“{i}”至少需要一个处理人（人员、角色、部门负责人、人员字段、表达式或提交人）",
                "The {k} node '{i}' needs at least one assignee (a user, role, department head, user field, "
                "expression or the submitter)", z=NODE_NAMES[kind], k=kind, i=_name(node)))
    if flow.form is None:
        return
    for path, specs in _assignee_lists(flow):
        for k, spec in enumerate(specs):
            kind = spec.get("kind") if isinstance(spec, dict) else None
            if kind == "field" and isinstance(spec.get("field"), str):
                yield from _field_assignee(flow, f"{path}[{k}].field", spec["field"])
            elif kind == "expression" and isinstance(spec.get("expression"), str):
                yield from _expression_assignee(flow, f"{path}[{k}].expression", spec["expression"])


def _field_assignee(flow: Flow, path: str, key: str) -> Iterator[Problem]:
    users = ", ".join(f.key for f in flow.form.fields if f.type == "user") or "-"
    found = flow.form.field(key)
    if found is None:
        yield Problem(path, msg("“{k}”不是表单“{f}”的字段；可用的人员字段：{u}", "'{k}' is not a field of the form '{f}'; "
                                "user fields: {u}", k=key, f=flow.form.key, u=users))
    elif found.type != "user" and not (found.type == "lookup" and _gives_users(flow.scope.lookup(key))):
        label = FIELD_TYPES.get(found.type).label
        yield Problem(path, msg("“{k}”是{z}字段，不是人员字段；请选择人员字段：{u}", "'{k}' is a {e} field, not a user "
                                "field; choose a user field: {u}", k=key, z=label.zh, e=label.en, u=users))


def _gives_users(found) -> bool:
    """Whether a name's type is a user id (a lookup of the referenced record's user field)."""
    return getattr(found, "kind", None) is Kind.ID and getattr(found, "tag", None) == "user"


def _expression_assignee(flow: Flow, path: str, source: str) -> Iterator[Problem]:
    problems, result = _expression_problems(flow, path, source, Msg("处理人表达式", "Assignee expression"))
    yield from problems
    item = result.item if result is not None and result.kind is Kind.LIST and result.item is not None else result
    wrong = item is not None and (item.kind not in _USER_IDS or item.kind is Kind.ID and item.tag != "user")
    if not problems and wrong:
        name = _type_name(result)
        yield Problem(path, msg("处理人表达式应给出人员编号，实际是{z}", "An assignee expression must give user id(s), it "
                                "gives {e}", z=name.zh, e=name.en))


def check_field_permissions(flow: Flow) -> Iterator[Problem]:
    """11. Field permission keys are top-level fields or sub-tables of the form, or "*"."""
    if flow.form is None:
        return
    known = ", ".join(f.key for f in flow.form.fields)
    for path, node in flow.nodes:
        fields = node.get("fields")
        for key in fields if isinstance(fields, dict) else ():
            if isinstance(key, str) and key != "*" and IDENTIFIER.match(key) and flow.form.field(key) is None:
                yield Problem(join(f"{path}.fields", key), msg(
                    "“{k}”不是表单“{f}”的字段（或子表）；可用：{a}，或用 \"*\" 表示其他所有字段",
                    "'{k}' is not a field (or sub-table) of the form '{f}'; use one of: {a}, or \"*\" for every "
                    "other field",
                    k=key, f=flow.form.key, a=known))


def check_modes(flow: Flow) -> Iterator[Problem]:
    """12. ``ratio`` only with mode "ratio" and 0 < ratio ≤ 1; mode "ratio" needs a ratio."""
    for path, node in flow.nodes:
        ratio, mode = node.get("ratio"), node.get("mode")
        if _number(ratio) and mode != "ratio":
            yield Problem(f"{path}.ratio", msg(
                "只有审批方式为 \"ratio\"（按比例）时才能设置 ratio；请设置 \"mode\": \"ratio\" 或删除 ratio",
                "A ratio applies only with \"mode\": \"ratio\"; set that mode or remove the ratio"))
        elif _number(ratio) and not 0 < ratio <= 1:
            yield Problem(f"{path}.ratio", msg("ratio 应大于 0 且不大于 1（如 0.5 表示半数通过），实际是 {r}",
                                               "The ratio must be greater than 0 and at most 1 (0.5 = half of the "
                                               "assignees), got {r}", r=ratio))
        if mode == "ratio" and "ratio" not in node:
            yield Problem(f"{path}.ratio", msg("审批方式 \"ratio\" 需要设置 ratio（0 到 1 之间，如 0.5）",
                                               "\"mode\": \"ratio\" needs a ratio between 0 and 1 (e.g. 0.5)"))


def check_deadlines(flow: Flow) -> Iterator[Problem]:
    """13. A deadline has hours or days (> 0, not both); "escalate" needs ``escalate_to``."""
    for path, node in flow.nodes:
        deadline, where = node.get("deadline"), f"{path}.deadline"
        if not isinstance(deadline, dict):
            continue
        given = [name for name in ("hours", "days") if name in deadline]
        if not given:
            yield Problem(where, msg("期限需要设置 hours（小时）或 days（天），如 \"hours\": 24",
                                     "A deadline needs hours or days, e.g. \"hours\": 24"))
        elif len(given) == 2:
            yield Problem(f"{where}.days", msg("期限只能设置 hours 或 days 其中之一，请删除一个",
                                               "Give the deadline in either hours or days, not both; remove one"))
        for name in given:
            if _number(deadline[name]) and not deadline[name] > 0:
                yield Problem(f"{where}.{name}", msg("期限的 {n} 必须大于 0（实际是 {v}）",
                                                     "The deadline's {n} must be greater than 0 (got {v})",
                                                     n=name, v=deadline[name]))
        if deadline.get("on_overdue") == "escalate" and deadline.get("escalate_to") in (None, []):
            yield Problem(f"{where}.escalate_to", msg(
                "超时升级（\"on_overdue\": \"escalate\"）需要在 escalate_to 中指定升级给谁",
                "Escalation (\"on_overdue\": \"escalate\") needs escalate_to: the assignees to escalate to"))


def check_labels(flow: Flow) -> Iterator[Problem]:
    """14. Every label, description and custom signature meaning has non-blank zh-CN and en text."""
    yield from blank_labels(flow.data, ("label", "description", "meaning"), skip=("actions",))


CHECKLIST: tuple[Callable[[Flow], Iterable[Problem]], ...] = (
    check_form, check_duplicate_ids, check_targets, check_start_end, check_reachable, check_end_reachable,
    check_exclusive, check_conditions, check_parallel, check_assignees, check_field_permissions, check_modes,
    check_deadlines, check_labels,
)


