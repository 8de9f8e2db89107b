// The flow designer's graph ⇄ tree model (designer/static/designer/js/flow_model.js).
// Run: node --test tests/designer/js/flow_model.test.mjs  (tests/designer/test_flow_model_js.py does).
import {test} from "node:test";
import assert from "node:assert/strict";
import {readFileSync, readdirSync, existsSync} from "node:fs";
import {createRequire} from "node:module";
import {dirname, join} from "node:path";
import {fileURLToPath} from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, "..", "..", "..");
createRequire(import.meta.url)(join(repo, "designer/static/designer/js/flow_model.js"));
const M = globalThis.QDFlowModel;

const clone = (v) => JSON.parse(JSON.stringify(v));
const text = (v) => JSON.stringify(v);

function templateFlows() {
  const root = join(repo, "templates_qms");
  const out = [];
  for (const name of readdirSync(root).sort()) {
    const file = join(root, name, "app.json");
    if (!existsSync(file)) continue;
    for (const flow of JSON.parse(readFileSync(file, "utf8")).flows || []) out.push([`${name}/${flow.key}`, flow]);
  }
  return out;
}

const FLOWS = templateFlows();
const ncr = () => clone(FLOWS.find(([n]) => n === "ncr/ncr_mrb")[1]);
const byId = (def, id) => def.nodes.find((n) => n.id === id);
const ids = (chain) => chain.items.map((i) => i.node.id);

test("there are template flows to round-trip", () => {
  assert.ok(FLOWS.length >= 10, `found ${FLOWS.length}`);
});

for (const [name, flow] of FLOWS) {
  test(`load → save keeps ${name} byte for byte`, () => {
    const def = clone(flow);
    const tree = M.load(def);
    M.save(tree);
    assert.equal(text(def), text(flow));
    assert.equal(tree.detached.length, 0, "every template node is reachable from the start");
  });
}

test("NCR: the loop back to qe_review is a jump, the rest a tree", () => {
  const tree = M.load(ncr());
  assert.deepEqual(ids(tree.main), ["start", "qe_review", "route", "qe_confirm", "end"]);
  const route = tree.main.items[2];
  assert.equal(route.kind, "block");
  const [noDisposition, toMrb, other] = route.branches.map((b) => b.chain);
  assert.deepEqual(noDisposition.items, []);
  assert.deepEqual(noDisposition.tail, {kind: "goto", target: "qe_review"});
  assert.deepEqual(ids(toMrb), ["mrb", "after_mrb"]);
  assert.equal(toMrb.tail.kind, "merge");
  const afterMrb = toMrb.items[1];
  assert.deepEqual(ids(afterMrb.branches[0].chain), ["deviation"]);
  assert.deepEqual(afterMrb.branches[1].chain.items, []);
  assert.equal(afterMrb.out, "qe_confirm");
  assert.deepEqual(other.items, []);
  assert.equal(other.tail.kind, "merge");
});

test("8D: two loops back, both shown as jumps", () => {
  const flow = clone(FLOWS.find(([n]) => n === "eight_d/eight_d_flow")[1]);
  const tree = M.load(flow);
  assert.deepEqual(ids(tree.main), ["start", "d1_d2", "d3", "d4_d5", "d6_d7", "verify", "verified", "d8",
                                    "closed_check", "end"]);
  assert.deepEqual(tree.main.items[6].branches[0].chain.tail, {kind: "goto", target: "d4_d5"});
  assert.deepEqual(tree.main.items[8].branches[0].chain.tail, {kind: "goto", target: "d8"});
});

test("inserting after a node rewrites only that node's next", () => {
  const def = ncr(), before = ncr();
  const id = M.insert(def, {after: "start"}, "approval", {approval: {"zh-CN": "审批人", en: "Approver"}});
  assert.equal(id, "approval_1");
  assert.equal(byId(def, "start").next, "approval_1");
  assert.deepEqual(byId(def, "approval_1"), {id: "approval_1", type: "approval", label: {"zh-CN": "审批人", en: "Approver"},
                                             assignees: [], mode: "any", next: "qe_review"});
  assert.equal(def.nodes.indexOf(byId(def, "approval_1")), 1);
  for (const node of before.nodes) if (node.id !== "start") assert.equal(text(byId(def, node.id)), text(node));
  assert.deepEqual(M.remove(def, "approval_1"), ["approval_1"]);
  assert.equal(text(def), text(before));
});

test("inserting at the top of a branch and after a block", () => {
  const def = ncr(), before = ncr();
  const a = M.insert(def, {chain: "route/1"}, "cc", {});
  assert.equal(byId(def, "route").branches[1].next, a);
  assert.equal(byId(def, a).next, "mrb");
  const b = M.insert(def, {after: "route"}, "handle", {});
  assert.equal(byId(def, "route").branches[2].next, b, "the default branch falls through to the new node");
  assert.equal(byId(def, "deviation").next, b);
  assert.equal(byId(def, "after_mrb").branches[1].next, b);
  assert.equal(byId(def, b).next, "qe_confirm");
  assert.equal(byId(def, "route").branches[0].next, "qe_review", "the loop is kept");
  M.remove(def, b);
  M.remove(def, a);
  assert.equal(text(def), text(before));
});

test("a new exclusive block: two branches that rejoin, removable as a whole", () => {
  const def = ncr(), before = ncr();
  const x = M.insert(def, {after: "qe_confirm"}, "exclusive", {});
  const node = byId(def, x);
  assert.equal(byId(def, "qe_confirm").next, x);
  assert.deepEqual(node.branches.map((b) => b.next), ["end", "end"]);
  assert.equal(node.branches[1].default, true);
  const inside = M.insert(def, {chain: `${x}/0`}, "approval", {});
  assert.equal(node.branches[0].next, inside);
  assert.equal(byId(def, inside).next, "end");
  const tree = M.load(def);
  assert.deepEqual(ids(tree.main), ["start", "qe_review", "route", "qe_confirm", x, "end"]);
  assert.deepEqual(M.remove(def, x).sort(), [inside, x].sort());
  assert.equal(text(def), text(before));
});

test("a new parallel block with its join; branches add, move, delete", () => {
  const def = ncr(), before = ncr();
  const p = M.insert(def, {after: "qe_review"}, "parallel", {});
  const node = byId(def, p);
  assert.equal(byId(def, node.join).type, "join");
  assert.deepEqual(node.branches.map((b) => b.next), [node.join, node.join]);
  assert.equal(byId(def, node.join).next, "route");
  const left = M.insert(def, {chain: `${p}/0`}, "handle", {});
  assert.equal(byId(def, left).next, node.join);
  assert.equal(M.addBranch(def, p), 2);
  assert.equal(node.branches[2].next, node.join);
  M.moveBranch(def, p, 0, 1);
  assert.equal(node.branches[1].next, left);
  assert.deepEqual(M.removeBranch(def, p, 1), [left]);
  assert.equal(node.branches.length, 2);
  const tree = M.load(def);
  assert.equal(M.findItem(tree, p).item.join.id, node.join);
  M.remove(def, p);
  assert.equal(text(def), text(before));
});

test("exclusive: a new branch goes before the default; set default; jump and rejoin", () => {
  const def = ncr();
  assert.equal(M.addBranch(def, "after_mrb"), 1);
  const route = byId(def, "after_mrb");
  assert.equal(route.branches[1].next, "qe_confirm");
  assert.equal(route.branches[2].default, true);
  M.setDefault(def, "after_mrb", 1);
  assert.equal(route.branches[1].default, true);
  assert.ok(!("default" in route.branches[2]));
  M.setJump(def, "after_mrb/1", "qe_review");
  assert.equal(route.branches[1].next, "qe_review");
  M.setJump(def, "after_mrb/1", null);
  assert.equal(route.branches[1].next, "qe_confirm");
  M.setJump(def, "route/0", null);
  assert.equal(byId(def, "route").branches[0].next, "qe_confirm");
});

test("deleting a jump target sends the jump where the node went", () => {
  const def = ncr();
  M.remove(def, "qe_review");
  assert.equal(byId(def, "start").next, "route");
  assert.equal(byId(def, "route").branches[0].next, "route", "the loop now targets the node after the deleted one");
});

test("odd graphs survive: unreachable, duplicate ids, missing targets, null next, garbage", () => {
  const flow = {key: "odd", form: "x", label: {"zh-CN": "怪", en: "Odd"}, nodes: [
    {id: "s", type: "start", next: "a"},
    {id: "a", type: "approval", next: "nowhere", extra: {keep: [1, 2]}},
    {id: "lost", type: "handle", next: "a"},
    {id: "a", type: "cc", next: null},
    {id: "p", type: "parallel", join: "s", branches: [{next: "e"}, "junk", {label: {"zh-CN": "x", en: "x"}}]},
    {id: "e", type: "end"},
    "not a node",
    {type: "approval"},
  ]};
  const def = clone(flow);
  const tree = M.load(def);
  M.save(tree);
  assert.equal(text(def), text(flow));
  assert.ok(tree.detached.length >= 3);
});

test("parallel inside an exclusive branch, nested blocks and a cross edge round-trip", () => {
  const flow = {key: "nest", form: "x", label: {"zh-CN": "嵌", en: "Nest"}, nodes: [
    {id: "s", type: "start", next: "x"},
    {id: "x", type: "exclusive", branches: [{condition: "a > 1", next: "p"}, {default: true, next: "y"}]},
    {id: "p", type: "parallel", join: "j", branches: [{next: "h1"}, {next: "j"}]},
    {id: "h1", type: "handle", next: "j"},
    {id: "j", type: "join", next: "z"},
    {id: "y", type: "exclusive", branches: [{condition: "b", next: "h1"}, {default: true, next: "z"}]},
    {id: "z", type: "approval", next: "e"},
    {id: "e", type: "end"},
  ]};
  const def = clone(flow);
  const tree = M.load(def);
  M.save(tree);
  assert.equal(text(def), text(flow));
  assert.deepEqual(ids(tree.main), ["s", "x", "z", "e"]);
});

test("problems map to node ids from pointers and engine paths", () => {
  const def = ncr();
  const {byNode, general} = M.problemsByNode(def, [
    {path: "/nodes/3/assignees", message: "a"}, {path: "$.nodes[1].next", message: "b"},
    {path: "/form", message: "c"}, {path: "/nodes/99", message: "d"}]);
  assert.deepEqual(Object.keys(byNode).sort(), ["mrb", "qe_review"]);
  assert.deepEqual(general.map((p) => p.message), ["c", "d"]);
});
