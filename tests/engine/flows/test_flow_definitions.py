"""Flow definitions: the schema, the semantic checklist and loading into a FlowDef."""
from __future__ import annotations

import copy
import json
from pathlib import Path
from types import MappingProxyType

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from engine.definitions import load_form
from engine.definitions.schema import load_schema
from engine.errors import DefinitionError, Problem
from engine.flows.definition import check_flow, load_flow
from engine.flows.definition_checks import CHECKLIST
from engine.flows.model import MEANINGS, NODE_TYPES, Assignee, FlowDef, SignatureRule
from engine.i18n import Msg

FIXTURES = Path(__file__).parent / "fixtures"
FORM = load_form(json.loads((FIXTURES / "ncr_form.json").read_text(encoding="utf-8")))
VALID = json.loads((FIXTURES / "ncr_flow.json").read_text(encoding="utf-8"))


def flow() -> dict:
    return copy.deepcopy(VALID)


def node(data: dict, node_id: str) -> dict:
    return next(n for n in data["nodes"] if n.get("id") == node_id)


def index(node_id: str) -> int:
    return next(i for i, n in enumerate(VALID["nodes"]) if n["id"] == node_id)


def problems(data, form=FORM) -> list[Problem]:
    found = check_flow(data, form)
    assert all(p.message.zh and p.message.en for p in found)
    assert not [p for p in found if "Internal check" in p.message.en or "Cannot check" in p.message.en], found
    return found


def assert_problem(data, path: str, zh: str, en: str, form=FORM) -> Problem:
    """A problem at ``path`` whose messages contain ``zh`` and ``en``; load_flow refuses the flow."""
    found = problems(data, form)
    hits = [p for p in found if p.path == path and zh in p.message.zh and en in p.message.en]
    assert hits, [(p.path, p.message.zh, p.message.en) for p in found]
    if form is not None:
        with pytest.raises(DefinitionError) as caught:
            load_flow(data, form)
        assert hits[0] in caught.value.problems
    return hits[0]


# ---- a valid flow ---------------------------------------------------------------------------------

def test_schema_is_shipped_and_valid():
    schema = load_schema("flow.schema.json")
    assert schema["$id"] == "https://qms.example.com/schemas/flow.schema.json"
    assert set(schema["$defs"]["node"]["properties"]["type"]["enum"]) == set(NODE_TYPES)


def test_valid_flow_with_every_node_type_loads():
    assert problems(VALID) == []
    loaded = load_flow(flow(), FORM)
    assert isinstance(loaded, FlowDef) and loaded.version == 0 and loaded.auto_start is True
    assert {n.type for n in loaded.nodes} == set(NODE_TYPES)
    assert loaded.label == Msg("不合格品评审", "NCR review") and loaded.form == "ncr"
    assert loaded.description.en.startswith("Review") and loaded.start.id == "start"
    assert loaded.node("cost_check").branches[1].default is True
    assert loaded.node("cost_check").branches[0].condition == "cost > 10000"
    assert loaded.node("split").join == "meet" and loaded.node("split").targets() == ("store", "auto")
    assert loaded.node("auto").actions[0]["field"] == "cost"


def test_valid_flow_round_trips_raw():
    data = flow()
    loaded = load_flow(data, FORM)
    assert loaded.to_dict() == VALID
    data["nodes"].clear()
    assert loaded.to_dict() == VALID, "raw is a private copy"


def test_loading_converts_days_meanings_labels_and_freezes_fields():
    loaded = load_flow(flow(), FORM)
    qe, mrb, store = loaded.node("qe"), loaded.node("mrb"), loaded.node("store")
    assert qe.deadline.hours == 24 and qe.deadline.working_hours and qe.deadline.on_overdue == "escalate"
    assert qe.deadline.escalate_to == (Assignee("department_head", 1),)
    assert mrb.deadline.hours == 48 and mrb.deadline.repeat_hours == 12
    assert store.deadline.hours == 8, "one working day is 8 hours"
    assert qe.signature == SignatureRule("reviewed", MEANINGS["reviewed"])
    assert mrb.signature == SignatureRule("custom", Msg("批准处置", "Disposition approved"))
    assert qe.label == Msg("质量工程师审核", "QE review") and mrb.label is None
    assert qe.assignees == (Assignee("role", "qe"), Assignee("user", 12))
    assert store.assignees == (Assignee("submitter"), Assignee("department_head", 2))
    assert mrb.mode == "ratio" and mrb.ratio == 0.5 and qe.mode == "any"
    assert isinstance(qe.fields, MappingProxyType) and qe.permission("cost") == "hidden"
    assert qe.permission("owner") == "readonly" and loaded.start.permission("cost") == "editable"
    with pytest.raises(TypeError):
        qe.fields["cost"] = "editable"


def test_every_check_is_numbered():
    numbers = [int(check.__doc__.split(".")[0]) for check in CHECKLIST]
    assert numbers == list(range(1, len(CHECKLIST) + 1))


# ---- the JSON shape -------------------------------------------------------------------------------

@pytest.mark.parametrize("data", [None, [], "flow", 3, {}, {"nodes": "x"}, {"nodes": [1, None, {"id": 3}]}])
def test_non_flows_are_problems_not_crashes(data):
    assert problems(data)
    with pytest.raises(DefinitionError):
        load_flow(data, FORM)


def test_unknown_node_type():
    data = flow()
    node(data, "notify")["type"] = "robot"
    assert_problem(data, f"$.nodes[{index('notify')}].type", "未知的节点类型", "Unknown node type")


def test_key_a_node_type_does_not_allow():
    data = flow()
    node(data, "notify")["mode"] = "all"
    assert_problem(data, f"$.nodes[{index('notify')}].mode", "抄送", "A cc node has no property 'mode'")


def test_missing_next():
    data = flow()
    del node(data, "notify")["next"]
    assert_problem(data, f"$.nodes[{index('notify')}].next", "缺少必填项", "'next' is required")


def test_sizes_are_bounded():
    data = flow()
    data["nodes"] += [{"id": f"extra{i}", "type": "end"} for i in range(200)]
    assert_problem(data, "$.nodes", "最多 200 项", "At most 200 items")
    data = flow()
    node(data, "cost_check")["branches"][0]["condition"] = "cost > 1" + " " * 4000
    assert_problem(data, f"$.nodes[{index('cost_check')}].branches[0].condition", "最多 4000", "At most 4000")


def test_bad_permission_value_and_signature_meaning():
    data = flow()
    node(data, "qe")["fields"]["cost"] = "secret"
    node(data, "qe")["signature"] = {"meaning": "blessed"}
    assert_problem(data, f"$.nodes[{index('qe')}].fields.cost", "字段权限应为", "editable, readonly or hidden")
    assert_problem(data, f"$.nodes[{index('qe')}].signature.meaning", "签名含义", "signature meaning")


# ---- the graph ------------------------------------------------------------------------------------

def test_duplicate_node_ids():
    data = flow()
    node(data, "auto")["id"] = "store"
    assert_problem(data, f"$.nodes[{index('auto')}].id", "重复", "used twice")


@pytest.mark.parametrize("where, path, change", [
    ("notify", "next", lambda n: n.update(next="nowhere")),
    ("cost_check", "branches[0].next", lambda n: n["branches"][0].update(next="nowhere")),
    ("split", "branches[1].next", lambda n: n["branches"][1].update(next="nowhere")),
    ("split", "join", lambda n: n.update(join="nowhere"))])
def test_targets_that_do_not_exist(where, path, change):
    data = flow()
    change(node(data, where))
    assert_problem(data, f"$.nodes[{index(where)}].{path}", "不是本流程的节点", "'nowhere' is not a node of this flow")


def test_exactly_one_start():
    data = flow()
    node(data, "start")["type"] = "handle"
    node(data, "start")["assignees"] = [{"kind": "submitter"}]
    assert_problem(data, "$.nodes", "开始节点", "needs a start node")
    data = flow()
    data["nodes"].append({"id": "start2", "type": "start", "next": "qe"})
    assert_problem(data, f"$.nodes[{len(VALID['nodes'])}].type", "只能有一个开始节点", "exactly one start node")


def test_at_least_one_end():
    data = flow()
    node(data, "done")["type"] = "cc"
    node(data, "done")["assignees"] = [{"kind": "submitter"}]
    node(data, "done")["next"] = "start"
    assert_problem(data, "$.nodes", "结束节点", "at least one end node")


def test_unreachable_nodes_are_reported_once_per_cut_off_part():
    data = flow()
    data["nodes"] += [{"id": "orphan", "type": "cc", "assignees": [{"kind": "submitter"}], "next": "orphan2"},
                      {"id": "orphan2", "type": "cc", "assignees": [{"kind": "submitter"}], "next": "done"}]
    found = problems(data)
    assert [p.path for p in found] == [f"$.nodes[{len(VALID['nodes'])}]"]
    assert_problem(data, f"$.nodes[{len(VALID['nodes'])}]", "无法到达节点“orphan”", "'orphan' cannot be reached")


def test_cycle_without_a_way_out():
    data = flow()
    node(data, "auto")["next"] = "loop"
    data["nodes"].append({"id": "loop", "type": "cc", "assignees": [{"kind": "submitter"}], "next": "auto"})
    path = f"$.nodes[{index('auto')}]"
    assert_problem(data, path, "无法到达任何结束节点", "No end can be reached from the node 'auto'")


def test_branch_back_to_its_own_node_is_fine_when_an_end_is_reachable():
    data = flow()
    node(data, "cost_check")["branches"].insert(0, {"condition": "cost < 0", "next": "cost_check"})
    assert problems(data) == []
    data["nodes"][index("cost_check")]["branches"] = [{"default": True, "next": "cost_check"}]
    assert_problem(data, f"$.nodes[{index('cost_check')}]", "循环", "cycle with no way out")


# ---- exclusive nodes ------------------------------------------------------------------------------

def test_exclusive_needs_a_default_branch():
    data = flow()
    node(data, "cost_check")["branches"][1] = {"condition": "cost <= 10000", "next": "split"}
    assert_problem(data, f"$.nodes[{index('cost_check')}].branches", "默认分支", "exactly one default branch")


def test_exclusive_has_only_one_default_branch():
    data = flow()
    node(data, "cost_check")["branches"].append({"default": True, "next": "mrb"})
    assert_problem(data, f"$.nodes[{index('cost_check')}].branches[2].default", "只能有一个默认分支",
                   "exactly one default branch")


def test_non_default_branch_needs_a_condition():
    data = flow()
    del node(data, "cost_check")["branches"][0]["condition"]
    assert_problem(data, f"$.nodes[{index('cost_check')}].branches[0].condition", "需要条件", "needs a condition")


def test_default_branch_takes_no_condition():
    data = flow()
    node(data, "cost_check")["branches"][1]["condition"] = "cost > 0"
    assert_problem(data, f"$.nodes[{index('cost_check')}].branches[1].condition", "不需要条件", "takes no condition")


def test_condition_must_check_against_the_form():
    data = flow()
    node(data, "cost_check")["branches"][0]["condition"] = "cost > price"
    found = assert_problem(data, f"$.nodes[{index('cost_check')}].branches[0].condition", "第 1 行第 8 列",
                           "line 1, column 8")
    assert "price" in found.message.en and "price" in found.message.zh


def test_condition_must_be_true_or_false():
    data = flow()
    node(data, "cost_check")["branches"][0]["condition"] = "cost + 1"
    assert_problem(data, f"$.nodes[{index('cost_check')}].branches[0].condition", "真/假", "true or false")


# ---- parallel nodes and joins ---------------------------------------------------------------------

def test_parallel_join_must_be_a_join_node():
    data = flow()
    node(data, "split")["join"] = "auto"
    assert_problem(data, f"$.nodes[{index('split')}].join", "不是汇合节点", "not a join node")


def test_every_parallel_branch_reaches_the_join_before_an_end():
    data = flow()
    node(data, "auto")["next"] = "done"
    assert_problem(data, f"$.nodes[{index('split')}].branches[1]", "没有经过汇合节点", "without passing its join 'meet'")


def test_join_reached_from_outside_its_parallel_node():
    data = flow()
    node(data, "mrb")["next"] = "meet"
    assert_problem(data, f"$.nodes[{index('mrb')}].next", "一直等待", "would wait forever")


def test_join_of_no_parallel_node_would_wait_forever():
    data = flow()
    data["nodes"].insert(index("done"), {"id": "lonely", "type": "join", "next": "done"})
    node(data, "meet")["next"] = "lonely"
    assert_problem(data, f"$.nodes[{index('done')}]", "不属于任何并行分支节点", "would wait forever")


def test_join_belongs_to_exactly_one_parallel_node():
    data = flow()
    node(data, "cost_check")["branches"][0]["next"] = "split2"
    data["nodes"].append({"id": "split2", "type": "parallel", "join": "meet",
                          "branches": [{"next": "mrb"}, {"next": "meet"}]})
    node(data, "mrb")["next"] = "meet"
    found = assert_problem(data, f"$.nodes[{len(VALID['nodes'])}].join", "只能属于一个并行分支节点",
                           "exactly one parallel node")
    assert "wait forever" in found.message.en


def test_nested_parallel_nodes_are_fine():
    data = flow()
    node(data, "auto")["next"] = "inner"
    data["nodes"] += [
        {"id": "inner", "type": "parallel", "join": "inner_meet",
         "branches": [{"next": "inner_a"}, {"next": "inner_meet"}]},
        {"id": "inner_a", "type": "cc", "assignees": [{"kind": "submitter"}], "next": "inner_meet"},
        {"id": "inner_meet", "type": "join", "next": "meet"}]
    assert problems(data) == []


# ---- assignees --------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["approval", "handle", "cc"])
def test_task_and_cc_nodes_need_assignees(kind):
    data = flow()
    target = node(data, "notify")
    target["type"] = kind
    target["assignees"] = []
    assert_problem(data, f"$.nodes[{index('notify')}].assignees", "至少需要一个处理人", "at least one assignee")


def test_assignee_field_must_be_a_user_field():
    data = flow()
    node(data, "notify")["assignees"][0]["field"] = "cost"
    found = assert_problem(data, f"$.nodes[{index('notify')}].assignees[0].field", "不是人员字段", "not a user field")
    assert "Number" in found.message.en and "数字" in found.message.zh


def test_assignee_field_must_be_a_top_level_field():
    data = flow()
    node(data, "qe")["deadline"]["escalate_to"] = [{"kind": "field", "field": "checker"}]
    assert_problem(data, f"$.nodes[{index('qe')}].deadline.escalate_to[0].field", "不是表单“ncr”的字段",
                   "'checker' is not a field of the form 'ncr'")


def test_assignee_expression_must_check():
    data = flow()
    node(data, "mrb")["assignees"][1]["expression"] = "IF(cost > 1000, 7"
    assert_problem(data, f"$.nodes[{index('mrb')}].assignees[1].expression", "处理人表达式第 1 行",
                   "Assignee expression, line 1")


def test_assignee_expression_must_give_user_ids():
    data = flow()
    node(data, "mrb")["assignees"][1]["expression"] = "title_text"
    assert_problem(data, f"$.nodes[{index('mrb')}].assignees[1].expression", "人员编号", "user id(s)")


def test_assignee_expression_may_name_a_user_field():
    data = flow()
    node(data, "mrb")["assignees"][1]["expression"] = "owner"
    assert problems(data) == []


# ---- field permissions, modes, deadlines, labels, form --------------------------------------------

def test_field_permission_for_a_field_the_form_does_not_have():
    data = flow()
    node(data, "qe")["fields"]["qty"] = "hidden"       # a sub-table column, not a top-level field
    assert_problem(data, f"$.nodes[{index('qe')}].fields.qty", "不是表单“ncr”的字段", "'qty' is not a field")


def test_field_permission_key_must_look_like_a_key():
    data = flow()
    node(data, "qe")["fields"]["Cost!"] = "hidden"
    assert_problem(data, f"$.nodes[{index('qe')}].fields", "字段权限的键", "field permission key")


def test_ratio_needs_mode_ratio():
    data = flow()
    node(data, "qe")["ratio"] = 0.5
    assert_problem(data, f"$.nodes[{index('qe')}].ratio", "\"ratio\"", "only with \"mode\": \"ratio\"")


@pytest.mark.parametrize("ratio", [0, -0.5, 1.5])
def test_ratio_between_zero_and_one(ratio):
    data = flow()
    node(data, "mrb")["ratio"] = ratio
    assert_problem(data, f"$.nodes[{index('mrb')}].ratio", "大于 0 且不大于 1", "greater than 0 and at most 1")


def test_mode_ratio_needs_a_ratio():
    data = flow()
    del node(data, "mrb")["ratio"]
    assert_problem(data, f"$.nodes[{index('mrb')}].ratio", "需要设置 ratio", "needs a ratio")


def test_deadline_needs_hours_or_days():
    data = flow()
    del node(data, "qe")["deadline"]["hours"]
    assert_problem(data, f"$.nodes[{index('qe')}].deadline", "hours（小时）或 days（天）", "needs hours or days")


@pytest.mark.parametrize("name", ["hours", "days"])
def test_deadline_must_be_positive(name):
    data = flow()
    node(data, "qe")["deadline"].pop("hours")
    node(data, "qe")["deadline"][name] = 0
    assert_problem(data, f"$.nodes[{index('qe')}].deadline.{name}", "必须大于 0", "greater than 0")


def test_deadline_hours_or_days_not_both():
    data = flow()
    node(data, "qe")["deadline"]["days"] = 1
    assert_problem(data, f"$.nodes[{index('qe')}].deadline.days", "其中之一", "not both")


def test_escalate_needs_escalate_to():
    data = flow()
    del node(data, "qe")["deadline"]["escalate_to"]
    assert_problem(data, f"$.nodes[{index('qe')}].deadline.escalate_to", "升级", "needs escalate_to")


@pytest.mark.parametrize("lang, key, zh, en", [("zh-CN", '["zh-CN"]', "中文", "Chinese"), ("en", ".en", "英文", "English")])
def test_labels_need_both_languages(lang, key, zh, en):
    data = flow()
    node(data, "qe")["label"][lang] = "  "
    assert_problem(data, f"$.nodes[{index('qe')}].label{key}", f"{zh}文本不能为空", f"The {en} text must not be empty")
    data = flow()
    node(data, "cost_check")["branches"][0]["label"][lang] = ""
    assert_problem(data, f"$.nodes[{index('cost_check')}].branches[0].label{key}", zh, en)


def test_missing_form_is_one_problem_at_form():
    found = problems(VALID, form=None)
    assert [p.path for p in found] == ["$.form"]
    assert "不存在或尚未发布" in found[0].message.zh and "does not exist or is not published" in found[0].message.en


def test_form_must_be_the_one_the_flow_names():
    data = flow()
    data["form"] = "capa"
    assert_problem(data, "$.form", "capa", "names the form 'capa'")


def test_load_flow_lists_every_problem():
    data = flow()
    del node(data, "mrb")["ratio"]
    node(data, "qe")["fields"]["qty"] = "hidden"
    with pytest.raises(DefinitionError) as caught:
        load_flow(data, FORM)
    assert len(caught.value.problems) == 2


# ---- fuzzing ----------------------------------------------------------------------------------------

SCALARS = st.none() | st.booleans() | st.integers(-5, 10**6) | st.floats(allow_nan=True) | st.text(max_size=10)
PLAUSIBLE = SCALARS | st.sampled_from(list(NODE_TYPES) + ["start", "done", "meet", "qe", "split", "cost > 1", "owner",
                                                          "cost", "ratio", "escalate", "items", "*", "reviewed", "("])
NAMES = st.sampled_from(["id", "type", "label", "next", "branches", "join", "assignees", "mode", "ratio", "fields",
                         "deadline", "signature", "actions", "condition", "default", "kind", "field", "expression",
                         "hours", "days", "on_overdue", "escalate_to", "meaning", "zh-CN", "en", "user", "role"])
VALUES = st.recursive(PLAUSIBLE, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(NAMES, inner, max_size=4),
                      max_leaves=15)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _containers(value, found):
    if isinstance(value, dict):
        found.append(value)
        for item in value.values():
            _containers(item, found)
    elif isinstance(value, list):
        found.append(value)
        for item in value:
            _containers(item, found)
    return found


@SETTINGS
@given(picks=st.lists(st.tuples(st.integers(0, 200), NAMES, VALUES, st.booleans()), min_size=1, max_size=4))
def test_mutated_flows_never_crash(picks):
    data = flow()
    for where, name, value, remove in picks:
        containers = _containers(data, [])
        target = containers[where % len(containers)]
        if isinstance(target, dict):
            if remove:
                target.pop(name, None)
            else:
                target[name] = value
        elif remove and target:
            target.pop(where % len(target))
        else:
            target.append(value)
    found = problems(data)
    try:
        loaded = load_flow(data, FORM)
    except DefinitionError as exc:
        assert exc.problems == found
    else:
        assert found == [] and loaded.to_dict() == data
