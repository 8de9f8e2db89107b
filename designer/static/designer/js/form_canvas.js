/* Form designer, part 3: the palette and the canvas (sections, the unsectioned zone, field cards,
 * sub-table cards with their own drop zone) and drag and drop with SortableJS.
 *
 * Cards are built once per field; while dragging, SortableJS moves DOM nodes only. The model
 * (definition.fields, sub-table .fields, layout.sections[].fields) is rebuilt from the DOM order
 * in one pass when a drop ends (sync) — never on pointer moves.
 */
(function () {
  "use strict";
  var QD = window.QD;
  var FD = QD.FD;
  var M = FD.model;
  var h = M.h;
  var t = M.t;
  var seq = 0;

  /* ---- palette ---- */
  function renderPalette(S) {
    var box = S.el.palette;
    box.textContent = "";
    box.appendChild(h("h2", {class: "fd-pane-title", text: t("字段类型", "Field types")}));
    box.appendChild(h("p", {class: "fd-hint", text: t("拖到画布上，或选中后按回车添加", "Drag onto the canvas, or focus one and press Enter")}));
    S.palette.groups.forEach(function (group) {
      var items = S.palette.items.filter(function (i) { return i.group === group.key; });
      if (!items.length) { return; }
      var list = h("div", {class: "fd-palette-list", attrs: {role: "list", "aria-label": M.label(group.label)}});
      items.forEach(function (item) {
        list.appendChild(h("div", {class: "fd-palette-item", testid: "palette-" + item.type,
          attrs: {tabindex: 0, role: "button", "data-type": item.type,
            "aria-label": t("添加字段：", "Add field: ") + M.label(item.label)}},
          h("span", {class: "fd-icon", text: item.icon || "", attrs: {"aria-hidden": "true"}}),
          h("span", {class: "fd-palette-label", text: M.label(item.label)})));
      });
      box.appendChild(h("h3", {class: "fd-group-title", text: M.label(group.label)}));
      box.appendChild(list);
      S.sortables.push(new window.Sortable(list, {
        group: {name: "fields", pull: "clone", put: false}, sort: false, animation: 0,
        draggable: ".fd-palette-item", ghostClass: "fd-ghost",
        onChoose: function () { tuneAnimation(S); }
      }));
    });
  }

  /* ---- zones ---- */
  function zoneDepth(zone) { return Number(zone.getAttribute("data-depth") || 0); }

  /* How many sub-table levels a card holds (itself included): 0 for a plain field. */
  function tableHeight(card) {
    if (!card.classList.contains("fd-card-table")) { return 0; }
    var inner = 0;
    Array.prototype.forEach.call(card.querySelector(".fd-zone").children, function (child) {
      if (child.classList.contains("fd-card")) { inner = Math.max(inner, tableHeight(child)); }
    });
    return 1 + inner;
  }

  /* Sub-tables nest at most palette.max_subtable_depth levels (the engine's definition check). */
  function fits(S, zone, height) { return zoneDepth(zone) + height <= S.palette.max_subtable_depth; }

  function canPut(S, zone, dragEl) {
    if (dragEl.contains(zone)) { return false; }
    var height = dragEl.classList.contains("fd-palette-item")
      ? ((S.types[dragEl.getAttribute("data-type")] || {}).is_subtable ? 1 : 0)
      : tableHeight(dragEl);
    return fits(S, zone, height);
  }

  /* Sliding the other cards aside measures every card of the zone on each move; on a long form
   * that is what makes dragging stutter, so large forms move cards without the animation. */
  var ANIMATED_UP_TO = 60;
  function animationFor(S) { return S.entries && S.entries.size > ANIMATED_UP_TO ? 0 : 120; }
  function tuneAnimation(S) {          // on pick-up: the form may have grown since the zones were made
    var ms = animationFor(S);
    S.sortables.forEach(function (sortable) {
      if (sortable.option("sort") !== false && sortable.option("group").name === "fields") { sortable.option("animation", ms); }
    });
  }

  function makeZone(S, kind, depth) {
    var zone = h("div", {class: "fd-zone fd-zone-" + kind, attrs: {"data-depth": depth, "data-zone": kind,
      "data-empty": kind === "table" ? t("把列字段拖到这里", "Drag columns here") : t("把字段拖到这里", "Drag fields here")}});
    S.sortables.push(new window.Sortable(zone, {
      group: {name: "fields", pull: true, put: function (to, from, dragEl) { return canPut(S, to.el, dragEl); }},
      animation: animationFor(S), fallbackOnBody: true, swapThreshold: 0.65, emptyInsertThreshold: 12,
      draggable: ".fd-card", ghostClass: "fd-ghost", chosenClass: "fd-chosen", dragClass: "fd-dragging",
      filter: "input,select,textarea,button", preventOnFilter: false,
      onChoose: function () { tuneAnimation(S); },
      onAdd: function (evt) {
        if (!evt.item.classList.contains("fd-palette-item")) { return; }
        var item = S.types[evt.item.getAttribute("data-type")];
        var card = createField(S, item, zone);
        zone.replaceChild(card, evt.item);
        afterStructureChange(S);
        FD.canvas.select(S, {kind: "field", uid: card.getAttribute("data-uid")});
        card.focus();
      },
      onEnd: function (evt) {
        if (evt.from !== evt.to || evt.oldIndex !== evt.newIndex) {
          var uid = evt.item.getAttribute("data-uid");
          if (uid) { fixKeyAtLevel(S, S.entries.get(uid)); }
          afterStructureChange(S);
        }
      }
    }));
    return zone;
  }

  /* ---- cards ---- */
  function buildCard(S, field, depth) {
    seq += 1;
    var uid = "f" + seq;
    var item = S.types[field.type] || {label: {"zh-CN": field.type, en: field.type}, icon: "?"};
    var card = h("div", {class: "fd-card" + (item.is_subtable ? " fd-card-table" : ""),
      attrs: {tabindex: 0, "data-uid": uid, role: "group"}});
    var main = h("div", {class: "fd-card-main"},
      h("span", {class: "fd-icon", text: item.icon || "", attrs: {"aria-hidden": "true"}}),
      h("span", {class: "fd-card-label"}),
      h("span", {class: "fd-req", text: "*", attrs: {hidden: true}}),
      h("code", {class: "fd-card-key"}),
      h("span", {class: "fd-card-type", text: M.label(item.label)}),
      h("span", {class: "fd-card-badges"}));
    card.appendChild(main);
    var entry = {uid: uid, field: field, card: card, zone: null};
    if (item.is_subtable) {
      if (!Array.isArray(field.fields)) { field.fields = []; }
      entry.zone = makeZone(S, "table", depth + 1);
      field.fields.forEach(function (column) { entry.zone.appendChild(buildCard(S, column, depth + 1)); });
      card.appendChild(entry.zone);
    }
    card.appendChild(h("div", {class: "fd-card-problem", attrs: {hidden: true, role: "note"}}));
    S.entries.set(uid, entry);
    updateCard(S, uid);
    return card;
  }

  function updateCard(S, uid) {
    var entry = S.entries.get(uid);
    var field = entry.field;
    var card = entry.card;
    var main = card.firstChild;
    var name = M.label(field.label) || field.key;
    main.querySelector(".fd-card-label").textContent = name;
    main.querySelector(".fd-card-key").textContent = field.key;
    var required = field.required === true || M.isExpr(field.required);
    var star = main.querySelector(".fd-req");
    star.hidden = !required;
    star.title = M.isExpr(field.required) ? t("条件必填", "Required when a condition holds") : t("必填", "Required");
    var badges = [];
    if (M.isExpr(field.visible)) { badges.push(t("条件显示", "shown if…")); }
    if (field.visible === false) { badges.push(t("隐藏", "hidden")); }
    if (field.readonly === true || M.isExpr(field.readonly)) { badges.push(t("只读", "read-only")); }
    main.querySelector(".fd-card-badges").textContent = badges.join(" · ");
    card.setAttribute("data-testid", "field-" + field.key);
    card.setAttribute("aria-label", name + " (" + field.key + ")" + (required ? ", " + t("必填", "required") : ""));
  }

  function createField(S, item, zone) {
    var level = levelFields(S, zone);
    var field = M.newField(item, level, S.ctx.forms || S.ctx.config.forms || []);
    var card = buildCard(S, field, zoneDepth(zone));
    S.autoKey[card.getAttribute("data-uid")] = true;
    return card;
  }

  /* The field objects currently in the same level as `zone` (a top-level zone: every top-level field). */
  function levelFields(S, zone) {
    var zones = zone.getAttribute("data-zone") === "table" ? [zone] : topZones(S);
    var out = [];
    zones.forEach(function (z) { cardsIn(z).forEach(function (c) { out.push(S.entries.get(c.getAttribute("data-uid")).field); }); });
    return out;
  }

  function cardsIn(zone) {
    return Array.prototype.filter.call(zone.children, function (c) { return c.classList.contains("fd-card"); });
  }

  function topZones(S) {
    var zones = Array.prototype.map.call(S.el.sections.children, function (sec) { return sec.querySelector(".fd-zone"); });
    zones.push(S.el.loose);
    return zones;
  }

  /* The sub-table keys from the form down to the card's level, and the card's own key. */
  function pathOf(S, card) {
    var path = [S.entries.get(card.getAttribute("data-uid")).field.key];
    var zone = card.parentElement;
    while (zone && zone.getAttribute("data-zone") === "table") {
      var owner = zone.parentElement;
      path.unshift(S.entries.get(owner.getAttribute("data-uid")).field.key);
      zone = owner.parentElement;
    }
    return path;
  }

  /* After a move to another level: a clashing key is renamed (unless published: then flagged). */
  function fixKeyAtLevel(S, entry) {
    if (!entry || !entry.card.parentElement) { return; }
    var level = levelFields(S, entry.card.parentElement);
    if (!level.some(function (f) { return f !== entry.field && f.key === entry.field.key; })) { return; }
    if (M.isLocked(S.locked, pathOf(S, entry.card))) {
      QD.toast && QD.toast(t("键“" + entry.field.key + "”在这一层重复", "The key '" + entry.field.key + "' is used twice at this level"), "error");
      return;
    }
    entry.field.key = M.uniqueKey(entry.field.key, level, entry.field);
    updateCard(S, entry.uid);
  }

  /* ---- sections ---- */
  function buildSection(S, section) {
    var zone = makeZone(S, "section", 0);
    var title = h("span", {class: "fd-section-title"});
    var el = h("section", {class: "fd-section", attrs: {"data-key": section.key, tabindex: -1}},
      h("div", {class: "fd-section-head"},
        h("span", {class: "fd-section-handle", text: "⋮⋮", attrs: {title: t("拖动以排序分组", "Drag to reorder sections"), "aria-hidden": "true"}}),
        title,
        h("span", {class: "fd-section-cols"}),
        h("button", {class: "fd-link", text: t("分组属性", "Section properties"), testid: "section-edit-" + section.key,
          attrs: {type: "button"}, on: {click: function (e) { e.stopPropagation(); FD.canvas.select(S, {kind: "section", el: el}); }}})),
      zone);
    el.setAttribute("data-testid", "section-" + section.key);
    el.addEventListener("click", function (e) {
      if (e.target === el || e.target.closest(".fd-section-head")) { FD.canvas.select(S, {kind: "section", el: el}); }
    });
    S.sectionOf.set(el, section);
    updateSection(S, el);
    return el;
  }

  function updateSection(S, el) {
    var section = S.sectionOf.get(el);
    var columns = [1, 2, 3].indexOf(section.columns) >= 0 ? section.columns : 1;
    el.querySelector(".fd-section-title").textContent = M.label(section.label) || section.key;
    el.querySelector(".fd-section-cols").textContent = columns + " " + t("列", columns > 1 ? "columns" : "column");
    el.querySelector(".fd-zone").style.gridTemplateColumns = "repeat(" + columns + ", minmax(0, 1fr))";
  }

  /* ---- whole canvas ---- */
  function renderCanvas(S) {
    S.sortables.forEach(function (s) { s.destroy(); });
    S.sortables = [];
    S.entries = new Map();
    S.sectionOf = new WeakMap();
    renderPalette(S);
    var canvas = S.el.canvas;
    canvas.textContent = "";
    var def = S.def;
    if (!Array.isArray(def.fields)) { def.fields = []; }
    var sections = (def.layout && Array.isArray(def.layout.sections)) ? def.layout.sections : [];
    var byKey = {};
    def.fields.forEach(function (f) { if (f && f.key && !byKey[f.key]) { byKey[f.key] = f; } });
    var placed = new Set();
    S.el.sections = h("div", {class: "fd-sections"});
    sections.forEach(function (section) {
      var el = buildSection(S, section);
      var zone = el.querySelector(".fd-zone");
      (section.fields || []).forEach(function (key) {
        var field = byKey[key];
        if (field && !placed.has(field)) { placed.add(field); zone.appendChild(buildCard(S, field, 0)); }
      });
      S.el.sections.appendChild(el);
    });
    S.el.loose = makeZone(S, "loose", 0);
    S.el.loose.setAttribute("data-testid", "unsectioned");
    def.fields.forEach(function (field) {
      if (field && !placed.has(field)) { S.el.loose.appendChild(buildCard(S, field, 0)); }
    });
    S.el.looseTitle = h("h3", {class: "fd-loose-title", text: t("未分组的字段", "Fields outside sections")});
    S.el.looseTitle.hidden = !sections.length;
    canvas.appendChild(S.el.sections);
    canvas.appendChild(S.el.looseTitle);
    canvas.appendChild(S.el.loose);
    S.sortables.push(new window.Sortable(S.el.sections, {
      group: "sections", handle: ".fd-section-handle", draggable: ".fd-section", animation: 120,
      onEnd: function (evt) { if (evt.oldIndex !== evt.newIndex) { afterStructureChange(S); } }
    }));
  }

  /* Rebuild the model's order from the DOM: sections' field keys, definition.fields (sections
   * in order, then unsectioned), each sub-table's columns. */
  function sync(S) {
    function fieldsIn(zone) { return cardsIn(zone).map(function (c) { return S.entries.get(c.getAttribute("data-uid")).field; }); }
    var top = [];
    var sections = [];
    Array.prototype.forEach.call(S.el.sections.children, function (el) {
      var section = S.sectionOf.get(el);
      var fields = fieldsIn(el.querySelector(".fd-zone"));
      section.fields = fields.map(function (f) { return f.key; });
      sections.push(section);
      top = top.concat(fields);
    });
    top = top.concat(fieldsIn(S.el.loose));
    S.def.fields = top;
    S.entries.forEach(function (entry) { if (entry.zone) { entry.field.fields = fieldsIn(entry.zone); } });
    if (sections.length || (S.def.layout && Array.isArray(S.def.layout.sections))) {
      M.ensureLayout(S.def);
      S.def.layout.sections = sections;
    }
    S.el.looseTitle.hidden = !sections.length;
  }

  function afterStructureChange(S) {
    sync(S);
    S.ctx.changed();
  }

  /* Where a new field of palette item `item` goes when added with the keyboard / double click. */
  function insertionPoint(S, item) {
    var sel = S.selected;
    var height = item.is_subtable ? 1 : 0;
    if (sel && sel.kind === "field") {
      var entry = S.entries.get(sel.uid);
      if (entry && entry.card.parentElement && fits(S, entry.card.parentElement, height)) {
        return {zone: entry.card.parentElement, before: entry.card.nextSibling};
      }
    }
    if (sel && sel.kind === "section" && sel.el.isConnected) { return {zone: sel.el.querySelector(".fd-zone"), before: null}; }
    var last = S.el.sections.lastElementChild;
    return {zone: last ? last.querySelector(".fd-zone") : S.el.loose, before: null};
  }

  function addType(S, type) {
    var item = S.types[type];
    var at = insertionPoint(S, item);
    var card = createField(S, item, at.zone);
    at.zone.insertBefore(card, at.before);
    afterStructureChange(S);
    select(S, {kind: "field", uid: card.getAttribute("data-uid")});
    card.focus();
    FD.keys.announce(S, t("已添加“" + M.label(item.label) + "”", "Added " + M.label(item.label)));
  }

  function select(S, sel) {
    var old = S.root.querySelectorAll(".fd-selected");
    Array.prototype.forEach.call(old, function (el) { el.classList.remove("fd-selected"); el.removeAttribute("aria-current"); });
    S.selected = sel && sel.kind === "field" && !S.entries.has(sel.uid) ? null : sel;
    var el = !S.selected ? null : (S.selected.kind === "field" ? S.entries.get(S.selected.uid).card : S.selected.el);
    if (el) { el.classList.add("fd-selected"); el.setAttribute("aria-current", "true"); }
    FD.props.render(S);
  }

  FD.canvas = {renderCanvas: renderCanvas, buildCard: buildCard, updateCard: updateCard, buildSection: buildSection,
    updateSection: updateSection, sync: sync, afterStructureChange: afterStructureChange, select: select,
    addType: addType, cardsIn: cardsIn, topZones: topZones, levelFields: levelFields, pathOf: pathOf,
    zoneDepth: zoneDepth, tableHeight: tableHeight, canPut: canPut, fixKeyAtLevel: fixKeyAtLevel};
}());
