// The dashboard grid's packing rules (designer/static/designer/js/dashboard_grid.js), run in node:
// the browser file is evaluated in a sandbox with a `window`, like the page loads it.
import {test} from "node:test";
import assert from "node:assert/strict";
import {readFileSync} from "node:fs";
import {fileURLToPath} from "node:url";
import vm from "node:vm";

const file = fileURLToPath(new URL("../../../designer/static/designer/js/dashboard_grid.js", import.meta.url));
const sandbox = {window: {}};
vm.runInNewContext(readFileSync(file, "utf8"), sandbox, {filename: file});
const G = sandbox.window.QD.DashboardGrid;
const plain = (items) => JSON.parse(JSON.stringify(items));
const at = (items, key) => items.find((i) => i.report === key);
const item = (report, x, y, w, h) => ({report, x, y, w, h});

const BOARD = [item("a", 0, 0, 6, 4), item("b", 6, 0, 6, 4), item("c", 0, 4, 12, 3)];

test("clamp keeps an item inside the 12 columns", () => {
  assert.deepEqual(plain(G.clamp(item("a", 10, -3, 6, 20))), item("a", 6, 0, 6, 12));
  assert.deepEqual(plain(G.clamp({report: "a"})), item("a", 0, 0, 6, 4));
  assert.deepEqual(plain(G.clamp(item("a", 0, 0, 0, 0))), item("a", 0, 0, 1, 1));
});

test("normalize pushes overlaps down and keeps the author's gaps", () => {
  const out = G.normalize([item("a", 0, 0, 6, 4), item("b", 3, 2, 6, 2), item("c", 0, 20, 4, 2)]);
  assert.equal(G.overlaps(out), false);
  assert.deepEqual(plain(at(out, "b")), item("b", 3, 4, 6, 2));
  assert.equal(at(out, "c").y, 20);
});

test("moving onto another item pushes it down; nothing overlaps", () => {
  const out = G.move(BOARD, "c", 0, 0);
  assert.equal(G.overlaps(out), false);
  assert.deepEqual(plain(at(out, "c")), item("c", 0, 0, 12, 3));
  assert.equal(at(out, "a").y, 3);
  assert.equal(at(out, "b").y, 3);
});

test("moving away lets the others float up into the hole", () => {
  const out = G.move(BOARD, "a", 0, 9);
  assert.equal(G.overlaps(out), false);
  assert.equal(at(out, "c").y, 4);          // b still holds rows 0-3 on the right; c spans it
  assert.equal(at(out, "a").y, 9);          // the moved item keeps the place it was given
  const side = G.move(BOARD, "a", 6, 4);    // under b: c is pushed below a
  assert.deepEqual(plain(at(side, "a")), item("a", 6, 4, 6, 4));
  assert.equal(at(side, "c").y, 8);
  assert.equal(G.overlaps(side), false);
});

test("a move is clamped to the grid", () => {
  const out = G.move(BOARD, "a", 9, -2);
  assert.deepEqual(plain(at(out, "a")), item("a", 6, 0, 6, 4));
  assert.equal(at(out, "b").y, 4);
  assert.equal(G.overlaps(out), false);
});

test("resizing pushes the items below and stays inside the columns", () => {
  const taller = G.resize(BOARD, "a", 6, 7);
  assert.equal(at(taller, "c").y, 7);
  assert.equal(G.overlaps(taller), false);
  const wider = G.resize(BOARD, "b", 20, 4);
  assert.equal(at(wider, "b").w, 6);       // x = 6: at most 6 wide
  const over = G.resize(BOARD, "a", 9, 4);
  assert.equal(G.overlaps(over), false);
  assert.equal(at(over, "b").y, 4);
  assert.equal(at(over, "c").y, 8);
});

test("one row up onto the items above pushes them below the moved item", () => {
  const up = G.move(BOARD, "c", 0, 3);
  assert.equal(G.overlaps(up), false);
  assert.equal(at(up, "c").y, 3);
  assert.ok(at(up, "a").y >= 6 && at(up, "b").y >= 6);
});

test("add finds the first free place; remove closes the gap", () => {
  const added = G.add(BOARD, "d", 6, 3);
  assert.deepEqual(plain(at(added, "d")), item("d", 0, 7, 6, 3));
  const small = G.add([item("a", 0, 0, 6, 4)], "d", 4, 2);
  assert.deepEqual(plain(at(small, "d")), item("d", 6, 0, 4, 2));
  const removed = G.remove(BOARD, "a");
  assert.deepEqual(plain(removed.map((i) => i.report)), ["b", "c"]);
  assert.equal(at(removed, "c").y, 4);     // b still occupies rows 0-3 over the full-width c
  assert.equal(G.height(removed), 7);
});

test("random moves and resizes never leave an overlap", () => {
  let items = G.normalize(BOARD.concat([item("d", 0, 7, 3, 2), item("e", 3, 7, 9, 5)]));
  let seed = 7;
  const rnd = (n) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
  for (let i = 0; i < 400; i++) {
    const key = items[rnd(items.length)].report;
    items = rnd(2) ? G.move(items, key, rnd(14) - 1, rnd(20) - 1) : G.resize(items, key, rnd(13) + 1, rnd(13) + 1);
    assert.equal(G.overlaps(items), false);
    assert.ok(items.every((it) => it.x >= 0 && it.x + it.w <= 12 && it.h >= 1 && it.h <= 12 && it.y >= 0));
  }
});
