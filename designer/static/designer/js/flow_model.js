/* The flow designer's model: a flow definition's flat node list (``next`` pointers, branches)
 * seen as the vertical tree the editor draws, and edits made on that tree written back.
 *
 * load(definition) → tree:
 *   chain = {key, items: [item], tail}   tail: {kind:"merge"} (falls through to the block's
 *           continuation), {kind:"goto", target} (jumps to a node placed elsewhere — a loop such as
 *           NCR's "no disposition yet → qe_review"), {kind:"none", raw} (nothing follows: an end)
 *   item  = {kind:"node", node} | {kind:"block", node, join, branches:[{branch, chain}]}
 *   tree  = {main: chain, detached: [chain] (nodes the start does not reach), index}
 * A branching node's branches rejoin at its immediate post-dominator (computed on the graph
 * without its back edges); a parallel node's at its join node. Every edge of the graph is kept
 * exactly (as a fall-through or a goto), so save(load(d)) leaves ``d`` unchanged, and an edit
 * rewrites only the ``next`` pointers that really change. Node objects are the definition's own
 * objects: properties the editor does not know survive untouched.
 * Runs in the browser (window.QDFlowModel) and in node (tests/designer/js/flow_model.test.mjs).
 */
(function (root) {
  "use strict";

  var EXIT = "\u0000exit";
  var NO_MERGE = "\u0000none";

  function isObj(v) { return v !== null && typeof v === "object" && !Array.isArray(v); }
  function isBlockNode(n) {
    return isObj(n) && (n.type === "exclusive" || n.type === "parallel") && Array.isArray(n.branches);
  }
  function targets(n) {
    if (isBlockNode(n)) return n.branches.map(function (b) { return isObj(b) ? b.next : undefined; });
    return [n.next];
  }

  // ---- graph analysis: back edges, immediate post-dominators -----------------------------------

  function analyse(nodes) {
    var byId = new Map();
    nodes.forEach(function (n) { if (isObj(n) && typeof n.id === "string" && !byId.has(n.id)) byId.set(n.id, n); });
    var succ = new Map();
    byId.forEach(function (n, id) {
      succ.set(id, targets(n).filter(function (t) { return typeof t === "string" && byId.has(t); }));
    });
    var back = new Set(), state = new Map(), post = [];
    var start = nodes.find(function (n) { return isObj(n) && n.type === "start" && byId.get(n.id) === n; });
    var roots = (start ? [start.id] : []).concat(Array.from(byId.keys()));
    roots.forEach(function (root) {
      if (state.has(root)) return;
      var stack = [[root, 0]];
      state.set(root, 1);
      while (stack.length) {
        var top = stack[stack.length - 1], outs = succ.get(top[0]);
        if (top[1] < outs.length) {
          var t = outs[top[1]++];
          if (state.get(t) === 1) back.add(top[0] + "\u0000" + t);
          else if (!state.has(t)) { state.set(t, 1); stack.push([t, 0]); }
        } else { state.set(top[0], 2); post.push(top[0]); stack.pop(); }
      }
    });
    var pdom = new Map();
    pdom.set(EXIT, new Set([EXIT]));
    post.forEach(function (id) {
      var n = byId.get(id), sets = [];
      var raw = targets(n);
      if (!raw.length || raw.some(function (t) { return !(typeof t === "string" && byId.has(t)); })) sets.push(pdom.get(EXIT));
      succ.get(id).forEach(function (t) {
        if (!back.has(id + "\u0000" + t) && pdom.get(t)) sets.push(pdom.get(t));
      });
      if (!sets.length) { pdom.set(id, null); return; }        // only jumps back: constrains nothing
      var inter = new Set(sets[0]);
      sets.slice(1).forEach(function (s) { inter.forEach(function (x) { if (!s.has(x)) inter.delete(x); }); });
      inter.add(id);
      pdom.set(id, inter);
    });
    function ipdom(id) {
      var set = pdom.get(id);
      if (!set) return null;
      var best = null, size = -1;
      set.forEach(function (c) {
        if (c === id) return;
        var s = pdom.get(c) ? pdom.get(c).size : 0;
        if (s > size) { best = c; size = s; }
      });
      return best === EXIT ? null : best;
    }
    return {byId: byId, ipdom: ipdom, start: start};
  }

  // ---- load: graph → tree -----------------------------------------------------------------------

  function load(definition) {
    var nodes = Array.isArray(definition && definition.nodes) ? definition.nodes : [];
    var a = analyse(nodes);
    var ctx = {byId: a.byId, ipdom: a.ipdom, placed: new Set()};
    var main = a.start ? buildChain(ctx, a.start.id, [], a.start, "main") : {key: "main", items: [], tail: {kind: "none"}};
    var detached = [];
    nodes.forEach(function (n) {
      if (isObj(n) && !ctx.placed.has(n)) detached.push(buildChain(ctx, n.id, [], n, "detached:" + detached.length));
    });
    var tree = {main: main, detached: detached, definition: definition};
    compileTree(tree, false);
    return tree;
  }

  function buildChain(ctx, first, stops, firstObj, key) {
    var items = [], cur = first, tail, obj = firstObj;
    for (;;) {
      if (!obj) {
        if (cur === undefined || cur === null) { tail = {kind: "none", raw: cur}; break; }
        if (stops.length && cur === stops[stops.length - 1]) { tail = {kind: "merge"}; break; }
        obj = ctx.byId.get(cur);
        if (stops.indexOf(cur) >= 0 || !obj || ctx.placed.has(obj)) { tail = {kind: "goto", target: cur}; break; }
      }
      var item = placeItem(ctx, obj, stops);
      items.push(item);
      cur = item.after;
      obj = null;
    }
    return {key: key, items: items, tail: tail};
  }

  function placeItem(ctx, node, stops) {
    ctx.placed.add(node);
    if (!isBlockNode(node)) return {kind: "node", node: node, after: node.next};
    var join = null, merge = null;
    if (node.type === "parallel" && typeof node.join === "string") {
      var j = ctx.byId.get(node.join);
      if (j && j !== node && j.type === "join" && !ctx.placed.has(j)) { join = j; ctx.placed.add(j); merge = j.id; }
    }
    if (!join) merge = ctx.ipdom(node.id);
    var inner = stops.concat([merge === null ? NO_MERGE : merge]);
    var branches = node.branches.map(function (b, i) {
      return {branch: b, chain: isObj(b) ? buildChain(ctx, b.next, inner, null, node.id + "/" + i) : null};
    });
    return {kind: "block", node: node, join: join, branches: branches, after: join ? join.next : merge};
  }

  // ---- save: tree → next pointers ---------------------------------------------------------------

  function setKey(obj, key, value, mutate) {
    if (!mutate) return;
    if (value === undefined) { if (Object.prototype.hasOwnProperty.call(obj, key)) delete obj[key]; }
    else if (obj[key] !== value) obj[key] = value;
  }

  function resolveTail(tail, merge) {
    if (tail.kind === "merge") return merge;
    if (tail.kind === "goto") return tail.target;
    return tail.raw;
  }

  function compileChain(chain, merge, mutate) {
    var out = resolveTail(chain.tail, merge);
    chain.out = out;
    chain.merge = merge;
    chain.items.forEach(function (item, k) {
      compileItem(item, k + 1 < chain.items.length ? chain.items[k + 1].node.id : out, mutate);
    });
    return chain.items.length ? chain.items[0].node.id : out;
  }

  function compileItem(item, out, mutate) {
    item.out = out;
    if (item.kind === "node") { setKey(item.node, "next", out, mutate); return; }
    var inner = item.join ? item.join.id : out;
    if (item.join) setKey(item.join, "next", out, mutate);
    item.inner = inner;
    item.branches.forEach(function (b) {
      if (b.chain) setKey(b.branch, "next", compileChain(b.chain, inner, mutate), mutate);
    });
  }

  function compileTree(tree, mutate) {
    compileChain(tree.main, undefined, mutate);
    tree.detached.forEach(function (c) { compileChain(c, undefined, mutate); });
    return tree.definition;
  }

  function save(tree) { return compileTree(tree, true); }

  // ---- finding things in a tree -----------------------------------------------------------------

  function chains(tree) {
    var out = [];
    function visit(chain) {
      out.push(chain);
      chain.items.forEach(function (item) {
        if (item.kind === "block") item.branches.forEach(function (b) { if (b.chain) visit(b.chain); });
      });
    }
    visit(tree.main);
    tree.detached.forEach(visit);
    return out;
  }

  function findItem(tree, id) {
    var all = chains(tree);
    for (var c = 0; c < all.length; c++) {
      for (var i = 0; i < all[c].items.length; i++) {
        var item = all[c].items[i];
        if (item.node.id === id || (item.join && item.join.id === id)) return {chain: all[c], index: i, item: item};
      }
    }
    return null;
  }

  function findChain(tree, key) {
    return chains(tree).find(function (c) { return c.key === key; }) || null;
  }

  function itemNodes(item) {
    var out = [item.node];
    if (item.kind === "block") {
      if (item.join) out.push(item.join);
      item.branches.forEach(function (b) {
        if (b.chain) b.chain.items.forEach(function (i) { out = out.concat(itemNodes(i)); });
      });
    }
    return out;
  }

  // ---- edits (each: load, change the tree, save; returns what the editor needs) ------------------

  function uniqueId(definition, base) {
    var used = new Set((definition.nodes || []).map(function (n) { return isObj(n) ? n.id : null; }));
    for (var i = 1; ; i++) { if (!used.has(base + "_" + i)) return base + "_" + i; }
  }

  function bilingual(zh, en) { return {"zh-CN": zh, "en": en}; }

  /* A new item of ``type`` ("approval", "handle", "cc", "automatic", "exclusive", "parallel");
   * ``labels``: {type: {"zh-CN","en"}} for new nodes (the editor passes flow-choices' labels). */
  function newItem(definition, type, labels) {
    var id = uniqueId(definition, type), label = (labels && labels[type]) || bilingual(type, type);
    var node = {id: id, type: type, label: {"zh-CN": label["zh-CN"], "en": label.en}};
    if (type === "approval" || type === "handle") { node.assignees = []; node.mode = "any"; }
    else if (type === "cc") node.assignees = [];
    else if (type === "automatic") node.actions = [];
    if (type === "exclusive") {
      node.branches = [{label: bilingual("条件1", "Condition 1")},
                       {label: bilingual("其他情况", "Otherwise"), "default": true}];
      return {kind: "block", node: node, join: null, fresh: [node], branches: node.branches.map(emptyBranch)};
    }
    if (type === "parallel") {
      var join = {id: uniqueId(definition, "join"), type: "join"};
      if (join.id === id) join.id = id + "_join";
      node.branches = [{label: bilingual("分支1", "Branch 1")}, {label: bilingual("分支2", "Branch 2")}];
      node.join = join.id;
      return {kind: "block", node: node, join: join, fresh: [node, join], branches: node.branches.map(emptyBranch)};
    }
    return {kind: "node", node: node, fresh: [node]};
  }

  function emptyBranch(b) { return {branch: b, chain: {items: [], tail: {kind: "merge"}}}; }

  function addToList(definition, anchorNode, fresh) {
    var at = definition.nodes.indexOf(anchorNode);
    definition.nodes.splice.apply(definition.nodes, [at < 0 ? definition.nodes.length : at + 1, 0].concat(fresh));
  }

  /* Insert a node: ``where`` = {after: nodeId} or {chain: chainKey} (at the top of a branch).
   * Returns the new node's id. */
  function insert(definition, where, type, labels) {
    var tree = load(definition), chain, index, anchor;
    if (where.after !== undefined) {
      var found = findItem(tree, where.after);
      if (!found) throw new Error("no node " + where.after);
      chain = found.chain; index = found.index + 1; anchor = found.item.join || found.item.node;
    } else {
      chain = findChain(tree, where.chain);
      if (!chain) throw new Error("no branch " + where.chain);
      index = 0;
      var owner = findItem(tree, where.chain.split("/")[0]);
      anchor = owner ? owner.item.node : null;
    }
    var item = newItem(definition, type, labels);
    chain.items.splice(index, 0, item);
    addToList(definition, anchor, item.fresh);
    save(tree);
    return item.node.id;
  }

  function retarget(tree, removed, replacement) {
    chains(tree).forEach(function (c) {
      if (c.tail.kind === "goto" && removed.has(c.tail.target)) {
        c.tail = replacement === undefined ? {kind: "none", raw: undefined} : {kind: "goto", target: replacement};
      }
    });
  }

  /* Delete a node (a branching node: its whole block, branches included). Returns the ids removed. */
  function remove(definition, id) {
    var tree = load(definition), found = findItem(tree, id);
    if (!found || found.item.node.type === "start") return [];
    var objs = itemNodes(found.item), removed = new Set(objs.map(function (n) { return n.id; }));
    found.chain.items.splice(found.index, 1);
    retarget(tree, removed, found.item.out);
    save(tree);
    var wanted = definition.nodes.filter(function (n) { return objs.indexOf(n) < 0; });
    definition.nodes.length = 0;
    wanted.forEach(function (n) { definition.nodes.push(n); });
    return Array.from(removed);
  }

  function blockOf(tree, id) {
    var found = findItem(tree, id);
    return found && found.item.kind === "block" ? found.item : null;
  }

  /* Add a branch to an exclusive (before its default branch) or parallel node. */
  function addBranch(definition, id, label) {
    var tree = load(definition), block = blockOf(tree, id);
    if (!block) return -1;
    var n = block.branches.length + 1;
    var branch = {label: label || (block.node.type === "exclusive" ? bilingual("条件" + n, "Condition " + n)
                                                                    : bilingual("分支" + n, "Branch " + n))};
    var at = block.branches.length;
    if (block.node.type === "exclusive") {
      var def = block.branches.findIndex(function (b) { return isObj(b.branch) && b.branch["default"] === true; });
      if (def >= 0) at = def;
    }
    var entry = emptyBranch(branch);
    if (block.inner === undefined || block.inner === null) {
      var end = definition.nodes.find(function (x) { return isObj(x) && x.type === "end"; });
      entry.chain.tail = end ? {kind: "goto", target: end.id} : {kind: "none", raw: undefined};
    }
    block.branches.splice(at, 0, entry);
    block.node.branches.splice(at, 0, branch);
    save(tree);
    return at;
  }

  /* Delete branch ``j`` and the nodes on it. */
  function removeBranch(definition, id, j) {
    var tree = load(definition), block = blockOf(tree, id);
    if (!block || !block.branches[j]) return [];
    var gone = block.branches[j], objs = [];
    if (gone.chain) gone.chain.items.forEach(function (i) { objs = objs.concat(itemNodes(i)); });
    var removed = new Set(objs.map(function (n) { return n.id; }));
    block.branches.splice(j, 1);
    block.node.branches.splice(j, 1);
    retarget(tree, removed, block.inner);
    save(tree);
    var kept = definition.nodes.filter(function (n) { return objs.indexOf(n) < 0; });
    definition.nodes.length = 0;
    kept.forEach(function (n) { definition.nodes.push(n); });
    return Array.from(removed);
  }

  /* Move branch ``j`` by ``delta`` (-1: higher priority, +1: lower). */
  function moveBranch(definition, id, j, delta) {
    var node = (definition.nodes || []).find(function (n) { return isObj(n) && n.id === id; });
    var k = j + delta;
    if (!isBlockNode(node) || k < 0 || k >= node.branches.length) return false;
    var b = node.branches.splice(j, 1)[0];
    node.branches.splice(k, 0, b);
    return true;
  }

  /* Make branch ``j`` the default one (the others lose the mark). */
  function setDefault(definition, id, j) {
    var node = (definition.nodes || []).find(function (n) { return isObj(n) && n.id === id; });
    if (!isBlockNode(node)) return;
    node.branches.forEach(function (b, i) {
      if (!isObj(b)) return;
      if (i === j) b["default"] = true;
      else if (Object.prototype.hasOwnProperty.call(b, "default")) delete b["default"];
    });
  }

  /* Where a chain goes when it runs out: ``target`` = a node id (jump) or null (rejoin / continue). */
  function setJump(definition, chainKey, target) {
    var tree = load(definition), chain = findChain(tree, chainKey);
    if (!chain) return;
    if (target === null || target === undefined || target === "") {
      chain.tail = chain.merge === undefined || chain.merge === null ? {kind: "none", raw: undefined} : {kind: "merge"};
    } else chain.tail = {kind: "goto", target: target};
    save(tree);
  }

  // ---- problems → nodes -------------------------------------------------------------------------

  /* Map check problems ({path, message}; JSON pointer "/nodes/3/…" or engine path "$.nodes[3]…")
   * to node ids: {byNode: {id: [problem]}, general: [problem]}. */
  function problemsByNode(definition, problems) {
    var byNode = {}, general = [];
    (problems || []).forEach(function (p) {
      var m = /^(?:\/nodes\/(\d+)|\$\.nodes\[(\d+)\])/.exec(p.path || "");
      var node = m ? (definition.nodes || [])[Number(m[1] || m[2])] : null;
      if (isObj(node) && typeof node.id === "string") (byNode[node.id] = byNode[node.id] || []).push(p);
      else general.push(p);
    });
    return {byNode: byNode, general: general};
  }

  root.QDFlowModel = {
    load: load, save: save, findItem: findItem, findChain: findChain, chains: chains, insert: insert,
    remove: remove, addBranch: addBranch, removeBranch: removeBranch, moveBranch: moveBranch,
    setDefault: setDefault, setJump: setJump, problemsByNode: problemsByNode, uniqueId: uniqueId,
    isBlockNode: isBlockNode,
  };
})(typeof window !== "undefined" ? window : globalThis);
