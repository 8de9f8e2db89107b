/* Trace page: draw the edges between record cards as SVG paths (wide screens only; on a phone the
   columns stack and each card lists its links). Edges come from #trace-edges (JSON). Hovering or
   focusing a card highlights its edges and neighbours. No library. */
(function () {
  "use strict";
  var graph = document.getElementById("trace-graph");
  var data = document.getElementById("trace-edges");
  if (!graph || !data) { return; }
  var edges = JSON.parse(data.textContent || "[]");
  var svg = graph.querySelector("svg.trace-edges");
  var NS = "http://www.w3.org/2000/svg";
  var cards = {};
  Array.prototype.forEach.call(graph.querySelectorAll(".trace-node"), function (el) { cards[el.dataset.key] = el; });

  function box(el) {
    var g = graph.getBoundingClientRect(), r = el.getBoundingClientRect();
    return { left: r.left - g.left + graph.scrollLeft, right: r.right - g.left + graph.scrollLeft,
             top: r.top - g.top + graph.scrollTop, mid: r.top - g.top + graph.scrollTop + Math.min(r.height / 2, 28) };
  }

  function pathFor(a, b) {
    var left = a.left <= b.left ? a : b, right = left === a ? b : a;
    if (Math.abs(left.left - right.left) < 4) {          // same column (a cycle): loop out on the right
      var x = left.right, bulge = 36;
      return "M" + x + "," + left.mid + " C" + (x + bulge) + "," + left.mid + " " + (x + bulge) + "," + right.mid + " " + x + "," + right.mid;
    }
    var x1 = left.right, x2 = right.left, dx = Math.max(24, (x2 - x1) / 2);
    return "M" + x1 + "," + left.mid + " C" + (x1 + dx) + "," + left.mid + " " + (x2 - dx) + "," + right.mid + " " + x2 + "," + right.mid;
  }

  function draw() {
    while (svg.firstChild) { svg.removeChild(svg.firstChild); }
    if (window.matchMedia("(max-width: 760px)").matches) { return; }
    svg.setAttribute("width", graph.scrollWidth);
    svg.setAttribute("height", graph.scrollHeight);
    edges.forEach(function (e) {
      var a = cards[e.from], b = cards[e.to];
      if (!a || !b) { return; }
      var p = document.createElementNS(NS, "path");
      p.setAttribute("d", pathFor(box(a), box(b)));
      p.dataset.from = e.from;
      p.dataset.to = e.to;
      var title = document.createElementNS(NS, "title");
      title.textContent = e.label;
      p.appendChild(title);
      svg.appendChild(p);
    });
  }

  function highlight(key, on) {
    Array.prototype.forEach.call(svg.querySelectorAll("path"), function (p) {
      if (p.dataset.from === key || p.dataset.to === key) {
        p.classList.toggle("hl", on);
        var other = cards[p.dataset.from === key ? p.dataset.to : p.dataset.from];
        if (other) { other.classList.toggle("hl", on); }
      }
    });
  }

  Object.keys(cards).forEach(function (key) {
    var el = cards[key];
    el.addEventListener("mouseenter", function () { highlight(key, true); });
    el.addEventListener("mouseleave", function () { highlight(key, false); });
    el.addEventListener("focusin", function () { highlight(key, true); });
    el.addEventListener("focusout", function () { highlight(key, false); });
  });

  var pending = null;
  window.addEventListener("resize", function () {
    if (pending) { window.cancelAnimationFrame(pending); }
    pending = window.requestAnimationFrame(draw);
  });
  draw();
}());
