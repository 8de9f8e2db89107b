// Packing of dashboard items on the 12-column grid (window.QD.DashboardGrid), pure functions on
// plain {report, x, y, w, h} objects — no DOM, so tests/designer/js/grid.test.mjs runs it in node.
// The rules: an item stays inside the columns (x + w <= 12, 1 <= h <= 12); the item being moved or
// resized keeps the place it was given and every item it overlaps is pushed down (in top-to-bottom
// order, as far as needed); then the other items float up into free space. No result ever has
// two items overlapping, so the stored layout is what the runtime shows.
(function (global) {
  "use strict";
  const COLS = 12, MAX_H = 12, MAX_Y = 1000;

  function clampInt(value, low, high, fallback) {
    const n = Math.round(Number(value));
    return Number.isFinite(n) ? Math.min(high, Math.max(low, n)) : fallback;
  }

  function clamp(item) {
    const w = clampInt(item.w, 1, COLS, 6);
    return {report: item.report, x: clampInt(item.x, 0, COLS - w, 0), y: clampInt(item.y, 0, MAX_Y, 0), w: w,
      h: clampInt(item.h, 1, MAX_H, 4)};
  }

  function collides(a, b) {
    return a !== b && a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
  }

  function byPosition(a, b) { return a.y - b.y || a.x - b.x; }

  // others float up while nothing is in the way (pinned never moves)
  function compact(items, pinned) {
    const placed = pinned ? [pinned] : [];
    items.filter(function (i) { return i !== pinned; }).sort(byPosition).forEach(function (item) {
      while (item.y > 0 && !placed.some(function (p) { return collides(p, {x: item.x, y: item.y - 1, w: item.w, h: item.h}); })) {
        item.y -= 1;
      }
      placed.push(item);
    });
    return placed;
  }

  // every item that overlaps one already placed goes down below it (pinned placed first)
  function pushDown(items, pinned) {
    const placed = pinned ? [pinned] : [];
    items.filter(function (i) { return i !== pinned; }).sort(byPosition).forEach(function (item) {
      let hit = placed.find(function (p) { return collides(p, item); });
      while (hit) {
        item.y = hit.y + hit.h;
        hit = placed.find(function (p) { return collides(p, item); });
      }
      placed.push(item);
    });
    return placed;
  }

  function ordered(items) { return items.slice().sort(byPosition); }

  // a definition's items made valid: clamped, overlaps pushed down, author's gaps kept
  function normalize(items) {
    return ordered(pushDown((items || []).map(clamp), null));
  }

  // ``key``'s item at {x, y, w, h} (any of them), the others pushed down and floated up
  function place(items, key, change) {
    const copy = items.map(clamp);
    const target = copy.find(function (i) { return i.report === key; });
    if (!target) { return ordered(copy); }
    Object.assign(target, clamp(Object.assign({}, target, change)));
    return ordered(compact(pushDown(copy, target), target));
  }

  function move(items, key, x, y) { return place(items, key, {x: x, y: y}); }

  function resize(items, key, w, h) {
    const item = items.find(function (i) { return i.report === key; });
    const x = item ? item.x : 0;
    return place(items, key, {w: Math.min(w, COLS - x), h: h});
  }

  // the first free place (top to bottom, left to right) for a w × h item
  function firstFree(items, w, h) {
    const boxes = items.map(clamp);
    w = clampInt(w, 1, COLS, 6);
    h = clampInt(h, 1, MAX_H, 4);
    for (let y = 0; y <= MAX_Y; y++) {
      for (let x = 0; x + w <= COLS; x++) {
        const box = {x: x, y: y, w: w, h: h};
        if (!boxes.some(function (b) { return collides(b, box); })) { return box; }
      }
    }
    return {x: 0, y: MAX_Y, w: w, h: h};
  }

  function add(items, key, w, h) {
    const box = firstFree(items, w, h);
    return ordered(items.map(clamp).concat([Object.assign({report: key}, box)]));
  }

  function remove(items, key) {
    return ordered(compact(items.map(clamp).filter(function (i) { return i.report !== key; }), null));
  }

  function overlaps(items) {
    for (let i = 0; i < items.length; i++) {
      for (let j = i + 1; j < items.length; j++) { if (collides(items[i], items[j])) { return true; } }
    }
    return false;
  }

  function height(items) { return items.reduce(function (m, i) { return Math.max(m, i.y + i.h); }, 0); }

  const api = {COLS: COLS, clamp: clamp, collides: collides, normalize: normalize, move: move, resize: resize, place: place,
    add: add, remove: remove, firstFree: firstFree, overlaps: overlaps, height: height};
  global.QD = global.QD || {};
  global.QD.DashboardGrid = api;
})(typeof window !== "undefined" ? window : globalThis);
