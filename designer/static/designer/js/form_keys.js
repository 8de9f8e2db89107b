/* Form designer, part 4: keyboard (Alt+↑/↓ moves the focused card, Enter selects or adds,
 * Delete removes, Ctrl+Z undoes), delete with undo for fields and sections, and the aria-live
 * announcements that tell screen-reader users what happened.
 */
(function () {
  "use strict";
  var QD = window.QD;
  var FD = QD.FD;
  var M = FD.model;
  var t = M.t;

  function announce(S, message) {
    S.el.live.textContent = "";
    // a fresh text node so the same message twice is read twice
    window.setTimeout(function () { S.el.live.textContent = message; }, 30);
  }

  function inTextInput(el) {
    return !!el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }

  function zoneName(S, zone) {
    var kind = zone.getAttribute("data-zone");
    if (kind === "table") {
      return M.label(S.entries.get(zone.parentElement.getAttribute("data-uid")).field.label);
    }
    if (kind === "section") { return M.label(S.sectionOf.get(zone.parentElement).label); }
    return t("未分组", "outside sections");
  }

  /* Move a card one place up (-1) or down (+1); across zone edges into the neighbouring section,
   * or out of a sub-table to just before/after it. Focus stays on the card. */
  function move(S, card, dir) {
    var C = FD.canvas;
    var zone = card.parentElement;
    var cards = C.cardsIn(zone);
    var i = cards.indexOf(card);
    var target = null;
    var before = null;
    if (dir < 0 && i > 0) {
      target = zone; before = cards[i - 1];
    } else if (dir > 0 && i < cards.length - 1) {
      target = zone; before = cards[i + 1].nextSibling;
    } else if (zone.getAttribute("data-zone") === "table") {
      var owner = zone.parentElement;
      target = owner.parentElement;
      before = dir < 0 ? owner : owner.nextSibling;
    } else {
      var zones = C.topZones(S);
      var next = zones[zones.indexOf(zone) + dir];
      if (next) { target = next; before = dir < 0 ? null : C.cardsIn(next)[0] || null; }
    }
    if (!target) {
      announce(S, dir < 0 ? t("已经是第一个", "Already the first") : t("已经是最后一个", "Already the last"));
      return;
    }
    var levelChanged = target !== zone && (target.getAttribute("data-zone") === "table" || zone.getAttribute("data-zone") === "table");
    target.insertBefore(card, before);
    card.focus();
    if (levelChanged) { C.fixKeyAtLevel(S, S.entries.get(card.getAttribute("data-uid"))); }
    C.afterStructureChange(S);
    var position = C.cardsIn(target).indexOf(card) + 1;
    var where = target === zone ? "" : t("（" + zoneName(S, target) + "）", " in " + zoneName(S, target));
    announce(S, t("已移动到第 " + position + " 位" + where, "Moved to position " + position + where));
  }

  /* ---- undo ---- */
  function pushUndo(S, message, undo) {
    S.undo.push({message: message, undo: undo});
    if (S.undo.length > 50) { S.undo.shift(); }
    renderUndo(S);
  }

  function renderUndo(S) {
    var top = S.undo[S.undo.length - 1];
    S.el.undoBar.hidden = !top;
    S.el.undoText.textContent = top ? top.message : "";
  }

  function undo(S) {
    var top = S.undo.pop();
    renderUndo(S);
    if (!top) { return; }
    top.undo();
    FD.canvas.afterStructureChange(S);
    announce(S, t("已撤销", "Undone"));
  }

  function deleteField(S, uid) {
    var entry = S.entries.get(uid);
    if (!entry || !entry.card.parentElement) { return; }
    var card = entry.card;
    var zone = card.parentElement;
    var next = card.nextSibling;
    var name = M.label(entry.field.label) || entry.field.key;
    card.remove();
    FD.canvas.select(S, null);
    FD.canvas.afterStructureChange(S);
    pushUndo(S, t("已删除字段“" + name + "”", "Deleted the field '" + name + "'"), function () {
      var home = zone.isConnected ? zone : S.el.loose;
      home.insertBefore(card, next && next.parentElement === home ? next : null);
      FD.canvas.fixKeyAtLevel(S, entry);
      FD.canvas.select(S, {kind: "field", uid: uid});
      card.focus();
    });
    announce(S, t("已删除“" + name + "”，按 Ctrl+Z 撤销", "Deleted " + name + "; press Ctrl+Z to undo"));
    S.el.undoButton.focus();
  }

  /* A section's fields go to the start of the unsectioned zone; undo puts both back. */
  function deleteSection(S, el) {
    var zone = el.querySelector(".fd-zone");
    var cards = FD.canvas.cardsIn(zone);
    var next = el.nextSibling;
    var first = S.el.loose.firstChild;
    cards.forEach(function (card) { S.el.loose.insertBefore(card, first); });
    el.remove();
    FD.canvas.select(S, null);
    FD.canvas.afterStructureChange(S);
    var name = M.label(S.sectionOf.get(el).label);
    pushUndo(S, t("已删除分组“" + name + "”", "Deleted the section '" + name + "'"), function () {
      S.el.sections.insertBefore(el, next && next.parentElement === S.el.sections ? next : null);
      cards.forEach(function (card) { if (card.parentElement === S.el.loose) { zone.appendChild(card); } });
      FD.canvas.select(S, {kind: "section", el: el});
    });
  }

  function onKeyDown(S, e) {
    if (!S.root.isConnected) { return; }
    var target = e.target;
    // only keys pressed in the editor (or with nothing focused): never while a dialog is open
    if (!S.root.contains(target) && target !== document.body) { return; }
    var card = target.classList && target.classList.contains("fd-card") ? target : null;
    if (card && e.altKey && (e.key === "ArrowUp" || e.key === "ArrowDown")) {
      e.preventDefault();
      move(S, card, e.key === "ArrowUp" ? -1 : 1);
    } else if (card && e.key === "Enter") {
      e.preventDefault();
      FD.canvas.select(S, {kind: "field", uid: card.getAttribute("data-uid")});
    } else if (target.classList && target.classList.contains("fd-palette-item") && (e.key === "Enter" || e.key === " ")) {
      e.preventDefault();
      FD.canvas.addType(S, target.getAttribute("data-type"));
    } else if ((e.ctrlKey || e.metaKey) && !e.shiftKey && (e.key === "z" || e.key === "Z") && !inTextInput(target)) {
      if (S.undo.length) { e.preventDefault(); undo(S); }
    } else if (e.key === "Delete" && !inTextInput(target)) {
      var uid = card ? card.getAttribute("data-uid") : (S.selected && S.selected.kind === "field" ? S.selected.uid : null);
      if (uid) { e.preventDefault(); deleteField(S, uid); }
    }
  }

  function install(S) {
    S.undo = [];
    S.keyHandler = function (e) { onKeyDown(S, e); };
    document.addEventListener("keydown", S.keyHandler);
    S.el.undoButton.addEventListener("click", function () { undo(S); });
    S.el.undoClose.addEventListener("click", function () { S.el.undoBar.hidden = true; });
    S.root.addEventListener("dblclick", function (e) {
      var item = e.target.closest && e.target.closest(".fd-palette-item");
      if (item) { FD.canvas.addType(S, item.getAttribute("data-type")); }
    });
  }

  FD.keys = {install: install, announce: announce, move: move, deleteField: deleteField,
    deleteSection: deleteSection, undo: undo, renderUndo: renderUndo};
}());
