/* The flow designer: the vertical approval-flow editor (DingTalk / Feishu style).
 * Draws QDFlowModel's tree of ctx.definition: the submitter on top, nodes stacked, a "+" between
 * every two nodes (data-testid="add-after-<id>", or "add-top-<block>-<j>" at the top of a branch)
 * opening the node-type menu; exclusive / parallel blocks with their branches side by side.
 * Clicking a node (or Enter on it) opens the right panel (flow_panel.js); Delete deletes it.
 * Scripts: flow_model.js, flow_panel.js, flow_actions.js, flow_designer.js (this one registers).
 */
(function () {
  "use strict";
  var QD = window.QD, M = window.QDFlowModel;
  var el = function () { return QD.el.apply(null, arguments); };

  function choicesUrl(config) {
    var draft = (config.urls && config.urls.draft) || "/designer/api/drafts/flow/x";
    return draft.split("/api/drafts/")[0] + "/api/flow-choices";
  }

  function mount(root, ctx) {
    var state = {definition: ctx.definition, choices: null, selected: null, problems: {byNode: {}, general: []},
                 rawProblems: [], menu: null};
    var canvas = el("div", {class: "qf-canvas", "data-testid": "flow-canvas"});
    var side = el("aside", {class: "qf-side", "data-testid": "node-panel", hidden: true, "aria-label": QD.t("节点设置", "Node settings")});
    var general = el("div", {class: "qf-general", "data-testid": "flow-problems", role: "alert", hidden: true});
    root.textContent = "";
    root.appendChild(el("div", {class: "qf-editor"}, el("div", {class: "qf-main"}, general, canvas), side));

    function typeInfo(type) {
      var list = (state.choices && state.choices.node_types) || [];
      return list.find(function (n) { return n.type === type; }) || {type: type, label: {"zh-CN": type, en: type}, properties: []};
    }
    function labels() {
      var out = {};
      ((state.choices && state.choices.node_types) || []).forEach(function (n) { out[n.type] = n.label; });
      return out;
    }
    function nodeName(node) {
      if (!node) return "?";
      return QD.label(node.label) || QD.label(typeInfo(node.type).label) || node.id;
    }
    function byId(id) {
      return (state.definition.nodes || []).find(function (n) { return n && n.id === id; });
    }

    // ---- changes -------------------------------------------------------------------------------
    function changed(options) {
      ctx.changed();
      render();
      if (!(options && options.keepPanel)) refreshPanel();
    }
    function select(sel) {
      state.selected = sel;
      render();
      refreshPanel();
    }
    function refreshPanel() {
      state.panel = null;
      if (!state.selected) { QD.FlowPanel.close(side); return; }
      var node = byId(state.selected.node || state.selected.block);
      if (!node || (state.selected.block && !(node.branches || [])[state.selected.branch])) {
        state.selected = null; QD.FlowPanel.close(side); return;
      }
      state.panel = QD.FlowPanel.open(side, panelApi(), state.selected);
    }
    side.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && !event.defaultPrevented) {
        var sel = state.selected;
        select(null);
        if (sel) focusNode(sel.node || sel.block);
      }
    });
    function panelApi() {
      return {ctx: ctx, definition: state.definition, choices: state.choices || {}, byId: byId, typeInfo: typeInfo,
              nodeName: nodeName, problems: state.problems,
              changed: function () { changed({keepPanel: true}); },
              remove: function (id) { deleteNode(id); },
              close: function () { select(null); }};
    }

    function insertNode(where, type) {
      var id = M.insert(state.definition, where, type, labels());
      state.selected = {node: id};
      changed();
      focusNode(id);
    }
    function deleteNode(id) {
      var node = byId(id);
      if (!node || node.type === "start" || node.type === "end" || node.type === "join") return;
      var block = M.isBlockNode(node);
      var text = block ? QD.t("删除“" + nodeName(node) + "”及其所有分支和分支中的节点？",
                              "Delete “" + nodeName(node) + "” with all its branches and the nodes on them?")
                       : QD.t("删除节点“" + nodeName(node) + "”？", "Delete the node “" + nodeName(node) + "”?");
      QD.confirm(text, {danger: true, ok: QD.t("删除", "Delete"), testid: "confirm-delete-node"}).then(function (ok) {
        if (!ok) return;
        M.remove(state.definition, id);
        if (state.selected && (state.selected.node === id || state.selected.block === id)) state.selected = null;
        changed();
      });
    }
    function deleteBranch(id, j) {
      var node = byId(id), branch = node.branches[j];
      QD.confirm(QD.t("删除分支“" + (QD.label(branch.label) || j + 1) + "”及其中的节点？",
                      "Delete the branch “" + (QD.label(branch.label) || j + 1) + "” and the nodes on it?"),
                 {danger: true, ok: QD.t("删除", "Delete"), testid: "confirm-delete-branch"}).then(function (ok) {
        if (!ok) return;
        M.removeBranch(state.definition, id, j);
        state.selected = null;
        changed();
      });
    }

    // ---- the "+" menu --------------------------------------------------------------------------
    function closeMenu() {
      if (state.menu) { state.menu.remove(); state.menu = null; }
    }
    function openMenu(button, where) {
      closeMenu();
      var types = ((state.choices && state.choices.node_types) || []).filter(function (n) { return n.insertable; });
      var menu = el("div", {class: "qf-menu", role: "menu", "data-testid": "add-menu"},
        types.map(function (n) {
          return el("button", {type: "button", role: "menuitem", class: "qf-menu-item qf-t-" + n.type,
                               "data-testid": "add-" + n.type, title: QD.label(n.hint),
                               onclick: function () { closeMenu(); insertNode(where, n.type); }},
                    el("span", {class: "qf-dot"}), QD.label(n.label));
        }));
      menu.addEventListener("keydown", function (event) {
        if (event.key === "Escape") { closeMenu(); button.focus(); }
      });
      button.parentNode.appendChild(menu);
      state.menu = menu;
      var first = menu.querySelector("button");
      if (first) first.focus();
    }
    document.addEventListener("click", function (event) {
      if (state.menu && !state.menu.contains(event.target) && !event.target.closest(".qf-add-btn")) closeMenu();
    });

    function addButton(testid, where, title) {
      var button = el("button", {type: "button", class: "qf-add-btn", "data-testid": testid, "aria-haspopup": "menu",
                                 title: title || QD.t("添加节点", "Add a node"), "aria-label": title || QD.t("添加节点", "Add a node")}, "+");
      button.addEventListener("click", function (event) { event.stopPropagation(); openMenu(button, where); });
      return el("div", {class: "qf-add"}, button);
    }

    // ---- drawing -------------------------------------------------------------------------------
    function render() {
      var scroll = {top: canvas.scrollTop, left: canvas.scrollLeft};
      var focused = document.activeElement && canvas.contains(document.activeElement) ? document.activeElement.dataset.testid : null;
      closeMenu();
      canvas.textContent = "";
      var tree = M.load(state.definition);
      state.tree = tree;
      canvas.appendChild(drawChain(tree.main, null));
      if (tree.detached.length) {
        canvas.appendChild(el("div", {class: "qf-detached", "data-testid": "detached"},
          el("h3", {}, QD.t("未连接的节点（从发起人无法到达）", "Unconnected nodes (not reachable from the submitter)")),
          tree.detached.map(function (c) { return drawChain(c, null); })));
      }
      showGeneral();
      canvas.scrollTop = scroll.top;
      canvas.scrollLeft = scroll.left;
      if (focused) {
        var again = canvas.querySelector('[data-testid="' + focused + '"]');
        if (again) again.focus();
      }
    }

    function showGeneral() {
      var list = state.problems.general;
      general.hidden = !list.length;
      general.textContent = "";
      list.forEach(function (p) { general.appendChild(el("div", {}, p.message)); });
    }

    function drawChain(chain, block) {
      var box = el("div", {class: "qf-chain"});
      chain.items.forEach(function (item) {
        box.appendChild(item.kind === "block" ? drawBlock(item) : drawNode(item.node));
        var endsHere = item.node.type === "end" || (item.kind === "block" && (item.out === undefined || item.out === null));
        if (!endsHere) box.appendChild(addButton("add-after-" + item.node.id, {after: item.node.id}));
      });
      box.appendChild(drawTail(chain, block));
      return box;
    }

    function drawTail(chain, block) {
      var tail = chain.tail;
      if (tail.kind === "none" && !block) return el("div", {class: "qf-stop"});
      var canRejoin = Boolean(block) && chain.merge !== undefined && chain.merge !== null;
      var target = tail.kind === "goto" ? tail.target : "";
      var testid = "jump-" + chain.key.replace("/", "-");
      var sel = el("select", {class: "qf-jump-select", "data-testid": testid, "aria-label": QD.t("此分支之后", "After this branch")});
      if (canRejoin) sel.appendChild(el("option", {value: ""}, QD.t("↓ 汇合后继续", "↓ Rejoin and continue")));
      else if (tail.kind !== "goto") sel.appendChild(el("option", {value: ""}, QD.t("（未连接）", "(not connected)")));
      (state.definition.nodes || []).forEach(function (n) {
        if (n && typeof n.id === "string" && n.type !== "start" && n.type !== "join") {
          sel.appendChild(el("option", {value: n.id, selected: n.id === target}, "→ " + QD.t("跳转到 ", "jump to ") + nodeName(n)));
        }
      });
      if (target && !byId(target)) sel.appendChild(el("option", {value: target, selected: true}, "→ ? " + target));
      sel.addEventListener("change", function () { M.setJump(state.definition, chain.key, sel.value || null); changed(); });
      if (tail.kind === "merge") {
        // rejoining is the usual case: offer the jump behind a small button
        var wrap = el("div", {class: "qf-fall"});
        var button = el("button", {type: "button", class: "qf-jump-btn", "data-testid": testid + "-open",
                                   title: QD.t("改为跳转到其他节点", "Jump to another node instead")}, "↪");
        button.addEventListener("click", function () { button.replaceWith(sel); sel.focus(); });
        wrap.appendChild(button);
        return wrap;
      }
      var missing = target && !byId(target);
      return el("div", {class: "qf-jump qf-jump-on" + (missing ? " qf-bad" : "")}, sel);
    }

    function summary(node) {
      return QD.FlowPanel.summary(node, panelApi());
    }

    function drawNode(node) {
      var info = typeInfo(node.type), problems = state.problems.byNode[node.id] || [];
      var selected = state.selected && state.selected.node === node.id;
      var cls = "qf-card qf-t-" + node.type + (selected ? " qf-selected" : "") + (problems.length ? " qf-bad" : "");
      var head = el("div", {class: "qf-card-head"},
        el("span", {class: "qf-card-type"}, QD.label(info.label)),
        node.signature ? el("span", {class: "qf-badge qf-sign", "data-testid": "sign-" + node.id,
                                     title: QD.t("需要电子签名", "Electronic signature required")}, QD.t("签名", "e-sign")) : null,
        node.deadline ? el("span", {class: "qf-badge qf-clock", title: QD.t("有处理期限", "Has a deadline")}, QD.t("限时", "SLA")) : null,
        deletable(node) ? el("button", {type: "button", class: "qf-del", tabindex: "-1", "data-testid": "delete-" + node.id,
                                         title: QD.t("删除", "Delete"), "aria-label": QD.t("删除", "Delete"),
                                         onclick: function (e) { e.stopPropagation(); deleteNode(node.id); }}, "×") : null);
      var body = el("div", {class: "qf-card-body"},
        el("div", {class: "qf-card-label"}, nodeName(node)),
        summary(node).map(function (line) { return el("div", {class: "qf-card-line"}, line); }));
      var card = el("div", {class: cls, tabindex: "0", role: "button", "data-testid": "node-" + node.id,
                             "data-node-id": node.id, "aria-label": QD.label(info.label) + " " + nodeName(node)}, head, body,
        problems.length ? el("div", {class: "qf-card-problems", "data-testid": "node-problems-" + node.id},
                             problems.map(function (p) { return el("div", {}, p.message); })) : null);
      card.addEventListener("click", function () { select({node: node.id}); });
      card.addEventListener("keydown", function (event) {
        if (event.target !== card) return;
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); select({node: node.id}); }
        else if (event.key === "Delete" || event.key === "Backspace") { event.preventDefault(); deleteNode(node.id); }
      });
      return el("div", {class: "qf-item"}, card);
    }

    function deletable(node) { return node.type !== "start" && node.type !== "end" && node.type !== "join"; }

    function drawBlock(item) {
      var node = item.node, exclusive = node.type === "exclusive", problems = state.problems.byNode[node.id] || [];
      var selected = state.selected && state.selected.node === node.id;
      var head = el("div", {class: "qf-block-head qf-t-" + node.type + (selected ? " qf-selected" : "") + (problems.length ? " qf-bad" : ""),
                            tabindex: "0", role: "button", "data-testid": "node-" + node.id, "data-node-id": node.id},
        el("span", {class: "qf-block-name"}, nodeName(node)),
        el("button", {type: "button", class: "qf-add-branch", "data-testid": "add-branch-" + node.id,
                      onclick: function (e) { e.stopPropagation(); M.addBranch(state.definition, node.id); changed(); }},
           exclusive ? QD.t("添加条件", "Add condition") : QD.t("添加分支", "Add branch")),
        el("button", {type: "button", class: "qf-del", tabindex: "-1", "data-testid": "delete-" + node.id,
                      title: QD.t("删除整个分支块", "Delete the whole block"), "aria-label": QD.t("删除整个分支块", "Delete the whole block"),
                      onclick: function (e) { e.stopPropagation(); deleteNode(node.id); }}, "×"));
      head.addEventListener("click", function () { select({node: node.id}); });
      head.addEventListener("keydown", function (event) {
        if (event.target !== head) return;
        if (event.key === "Enter") { event.preventDefault(); select({node: node.id}); }
        else if (event.key === "Delete") { event.preventDefault(); deleteNode(node.id); }
      });
      var columns = el("div", {class: "qf-branches"}, item.branches.map(function (b, j) {
        return drawBranch(item, b, j);
      }));
      return el("div", {class: "qf-block qf-block-" + node.type, "data-testid": "block-" + node.id}, head,
        problems.length ? el("div", {class: "qf-card-problems", "data-testid": "node-problems-" + node.id},
                             problems.map(function (p) { return el("div", {}, p.message); })) : null,
        columns,
        item.join ? el("div", {class: "qf-join", "data-testid": "node-" + item.join.id}, nodeName(item.join)) : null);
    }

    function drawBranch(item, b, j) {
      var node = item.node, branch = b.branch, exclusive = node.type === "exclusive";
      var away = b.chain && b.chain.tail.kind !== "merge";
      var col = el("div", {class: "qf-branch" + (away ? " qf-branch-away" : "")});
      if (!b.chain) { col.appendChild(el("div", {class: "qf-cond qf-bad"}, QD.t("无效的分支", "Invalid branch"))); return col; }
      var isDefault = branch["default"] === true, n = item.branches.length;
      var selected = state.selected && state.selected.block === node.id && state.selected.branch === j;
      var problems = (state.problems.byNode[node.id + "/" + j] || []);
      var cond = exclusive ? (isDefault ? QD.t("其他条件进入此流程", "When no other condition holds")
                                        : (branch.condition || QD.t("请设置条件", "Set a condition")))
                           : QD.t("与其他分支同时进行", "Runs alongside the other branches");
      var card = el("div", {class: "qf-cond" + (selected ? " qf-selected" : "") + (problems.length ? " qf-bad" : "") +
                                   (exclusive && !isDefault && !branch.condition ? " qf-empty" : ""),
                            tabindex: "0", role: "button", "data-testid": "branch-" + node.id + "-" + j},
        el("div", {class: "qf-cond-head"},
          el("span", {class: "qf-cond-label"}, QD.label(branch.label) || (QD.t("分支", "Branch ") + (j + 1))),
          exclusive ? el("span", {class: "qf-prio"}, isDefault ? QD.t("默认", "Default") : QD.t("优先级 ", "Priority ") + (j + 1)) : null,
          el("button", {type: "button", class: "qf-del", tabindex: "-1", "data-testid": "delete-branch-" + node.id + "-" + j,
                        title: QD.t("删除分支", "Delete branch"), "aria-label": QD.t("删除分支", "Delete branch"),
                        onclick: function (e) { e.stopPropagation(); deleteBranch(node.id, j); }}, "×")),
        el("div", {class: "qf-cond-text"}, cond),
        problems.length ? el("div", {class: "qf-card-problems"}, problems.map(function (p) { return el("div", {}, p.message); })) : null,
        el("div", {class: "qf-prio-move"},
          j > 0 ? el("button", {type: "button", class: "qf-move", "data-testid": "branch-left-" + node.id + "-" + j,
                                title: QD.t("提高优先级", "Higher priority"), "aria-label": QD.t("提高优先级", "Higher priority"),
                                onclick: function (e) { e.stopPropagation(); move(node.id, j, -1); }}, "‹") : null,
          j < n - 1 ? el("button", {type: "button", class: "qf-move", "data-testid": "branch-right-" + node.id + "-" + j,
                                    title: QD.t("降低优先级", "Lower priority"), "aria-label": QD.t("降低优先级", "Lower priority"),
                                    onclick: function (e) { e.stopPropagation(); move(node.id, j, 1); }}, "›") : null));
      card.addEventListener("click", function () { select({block: node.id, branch: j}); });
      card.addEventListener("keydown", function (event) {
        if (event.target !== card) return;
        if (event.key === "Enter") { event.preventDefault(); select({block: node.id, branch: j}); }
        else if (event.key === "Delete") { event.preventDefault(); deleteBranch(node.id, j); }
      });
      col.appendChild(card);
      col.appendChild(addButton("add-top-" + node.id + "-" + j, {chain: b.chain.key}));
      col.appendChild(drawChain(b.chain, item));
      if (away) col.appendChild(el("div", {class: "qf-mask-bottom"}));
      return col;
    }

    function move(id, j, delta) {
      if (M.moveBranch(state.definition, id, j, delta)) {
        if (state.selected && state.selected.block === id && state.selected.branch === j) state.selected.branch = j + delta;
        changed();
      }
    }

    function focusNode(id) {
      var card = canvas.querySelector('[data-node-id="' + id + '"]');
      if (card) card.focus();
    }

    // ---- problems ------------------------------------------------------------------------------
    function showProblems(list) {
      state.rawProblems = list || [];
      var mapped = M.problemsByNode(state.definition, state.rawProblems);
      // a branch's own problems (…/branches/<j>/…) are shown on its condition card
      Object.keys(mapped.byNode).forEach(function (id) {
        mapped.byNode[id] = mapped.byNode[id].filter(function (p) {
          var m = /(?:\/branches\/|\.branches\[)(\d+)/.exec(p.path || "");
          if (!m) return true;
          var key = id + "/" + m[1];
          (mapped.byNode[key] = mapped.byNode[key] || []).push(p);
          return false;
        });
      });
      state.problems = mapped;
      render();
      if (state.panel) state.panel.setProblems(mapped.byNode[state.panel.key]);
    }

    var ready = QD.api("GET", choicesUrl(ctx.config)).then(function (reply) {
      if (!reply.ok) QD.toast(QD.errorText(reply), "error");
      state.choices = reply.ok ? reply.data : {};
      render();
      if (ctx.problems) showProblems(ctx.problems());
    });
    render();

    return {
      ready: ready,          // the shell marks the designer interactive once the pickers are there
      showProblems: showProblems,
      reload: function (definition) {
        state.definition = definition;
        state.selected = null;
        QD.FlowPanel.close(side);
        render();
      },
      select: select,
    };
  }

  QD.registerEditor("flow", {mount: mount});
})();
