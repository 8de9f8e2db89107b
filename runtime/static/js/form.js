// The generated form page: values in and out of the controls, sub-table rows, live formulas and
// conditions from the server, file/photo/signature uploads, barcode scanning, and saving with
// every field error shown next to its field. Plain JS, no framework.
(function () {
  "use strict";
  const form = document.getElementById("record-form");
  if (!form) return;
  const config = JSON.parse(document.getElementById("form-config").textContent);
  const TEXT = JSON.parse(document.getElementById("form-text").textContent);
  const COMPUTED = {serial: 1, formula: 1, lookup: 1};
  const FILES = {attachment: 1, image: 1, signature: 1};
  let uid = 0;

  // ------------------------------------------------------------------ structure and paths
  function fieldsOf(container) {
    return Array.prototype.filter.call(container.children, (el) => el.classList.contains("field"));
  }
  // top-level fields sit in one ".fields" grid per layout section, in page order
  function rootFields() {
    return Array.prototype.concat.apply([], Array.prototype.map.call(
      form.querySelectorAll(".form-section > .fields, .form-section > .section-box > .fields"), fieldsOf));
  }
  function rowsOf(fieldEl) {
    const rows = fieldEl.querySelector(":scope > .subtable > .rows");
    return rows ? Array.prototype.slice.call(rows.children) : [];
  }
  function valueEl(fieldEl) { return fieldEl.querySelector(".v"); }

  // Every field element by its path: "lot_no", "characteristics[1].readings[0].value".
  function pathMap() {
    const map = {};
    (function walk(fields, prefix) {
      fields.forEach((el) => {
        const path = prefix + el.dataset.key;
        map[path] = el;
        if (el.dataset.type === "subtable") {
          rowsOf(el).forEach((row, i) => {
            map[path + "[" + i + "]"] = row;
            walk(fieldsOf(row), path + "[" + i + "].");
          });
        }
      });
    })(rootFields(), "");
    return map;
  }

  // ------------------------------------------------------------------ reading values
  function pad(n) { return String(n).padStart(2, "0"); }
  function offsetText(d) {
    const off = -d.getTimezoneOffset();
    const sign = off >= 0 ? "+" : "-";
    const a = Math.abs(off);
    return sign + pad(Math.floor(a / 60)) + ":" + pad(a % 60);
  }
  function localToIso(value) {            // "2026-03-15T08:30" → "2026-03-15T08:30:00+08:00"
    if (!value) return null;
    const d = new Date(value);
    if (isNaN(d.getTime())) return value;
    return value.length === 16 ? value + ":00" + offsetText(d) : value.slice(0, 19) + offsetText(d);
  }
  function isoToLocal(value) {
    if (!value) return "";
    const d = new Date(value);
    if (isNaN(d.getTime())) return "";
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" + pad(d.getHours()) + ":" + pad(d.getMinutes());
  }

  function readField(el) {
    const type = el.dataset.type;
    const v = valueEl(el);
    if (type === "subtable") return rowsOf(el).map(readRow);
    if (FILES[type]) return (el._files || []).map((f) => ({id: f.id, name: f.name, size: f.size, content_type: f.content_type}));
    if (!v) return null;
    switch (type) {
      case "number":
        if (v.validity && v.validity.badInput) return "?";
        return v.value === "" ? null : Number(v.value);
      case "datetime": return localToIso(v.value);
      case "radio": {
        const checked = el.querySelector(".v:checked");
        return checked ? checked.value : null;
      }
      case "multiselect":
        return Array.prototype.map.call(el.querySelectorAll(".v:checked"), (c) => c.value);
      case "boolean": return v.checked;
      case "user": case "department":
        if (el.dataset.multiple) return Array.prototype.map.call(v.selectedOptions, (o) => Number(o.value));
        return v.value === "" ? null : Number(v.value);
      case "reference": return v.value === "" ? null : Number(v.value);
      default: return v.value === "" ? null : v.value;
    }
  }
  function readRow(row) {
    const out = {};
    if (row.dataset.id) out.id = Number(row.dataset.id);
    fieldsOf(row).forEach((el) => { if (!COMPUTED[el.dataset.type]) out[el.dataset.key] = readField(el); });
    return out;
  }
  function collect() {
    const out = {};
    rootFields().forEach((el) => {
      if (COMPUTED[el.dataset.type] || el.dataset.locked) return;   // the server keeps these
      out[el.dataset.key] = readField(el);
    });
    return out;
  }

  // ------------------------------------------------------------------ writing values
  function formatComputed(out, value) {
    if (value === null || value === undefined || value === "") { out.textContent = "—"; return; }
    if (typeof value === "boolean") { out.textContent = value ? "✔ " + TEXT.yes : "✘ " + TEXT.no; return; }
    if (Array.isArray(value)) { out.textContent = value.join(", "); return; }
    const p = out.dataset.precision;
    const labels = out.dataset.labels ? JSON.parse(out.dataset.labels) : null;
    if (labels && Object.prototype.hasOwnProperty.call(labels, String(value))) out.textContent = labels[String(value)];
    else if (typeof value === "number" && p !== "") out.textContent = value.toFixed(Number(p));
    else out.textContent = String(value);
  }
  function writeField(el, value) {
    const type = el.dataset.type;
    const v = valueEl(el);
    if (type === "subtable") {
      const rowsBox = el.querySelector(":scope > .subtable > .rows");
      rowsBox.textContent = "";
      (value || []).forEach((row) => addRow(el, row));
      return;
    }
    if (FILES[type]) { setFiles(el, value || []); return; }
    if (COMPUTED[type]) { formatComputed(v, value); return; }
    if (!v) return;
    switch (type) {
      case "datetime": v.value = isoToLocal(value); break;
      case "radio":
        el.querySelectorAll(".v").forEach((r) => { r.checked = value !== null && r.value === String(value); }); break;
      case "multiselect": {
        const set = (value || []).map(String);
        el.querySelectorAll(".v").forEach((c) => { c.checked = set.indexOf(c.value) >= 0; }); break;
      }
      case "boolean": v.checked = value === true; break;
      case "user": case "department":
        if (el.dataset.multiple) {
          const ids = (value || []).map(String);
          Array.prototype.forEach.call(v.options, (o) => { o.selected = ids.indexOf(o.value) >= 0; });
        } else v.value = value === null || value === undefined ? "" : String(value);
        break;
      case "reference": {
        v.value = value === null || value === undefined ? "" : String(value);
        syncReference(el);
        break;
      }
      default: v.value = value === null || value === undefined ? "" : String(value);
    }
  }
  function writeAll(fields, values) {
    fields.forEach((el) => { if (values && el.dataset.key in values) writeField(el, values[el.dataset.key]); });
  }

  // ------------------------------------------------------------------ sub-table rows
  function prepare(scope) {
    // radio groups need a name unique to their row
    scope.querySelectorAll('.field[data-type="radio"]').forEach((el) => {
      if (el.dataset.named) return;
      el.dataset.named = "1";
      const name = "r" + (++uid);
      el.querySelectorAll(".v").forEach((r) => { r.name = name; });
    });
    scope.querySelectorAll('.field[data-type="reference"]').forEach(initReference);
    scope.querySelectorAll('.field[data-type="barcode"]').forEach(initBarcode);
    scope.querySelectorAll(".files").forEach((box) => initFiles(box.closest(".field")));
  }
  function addRow(fieldEl, values) {
    const tpl = fieldEl.querySelector(":scope > .subtable > template.row-template");
    const rowsBox = fieldEl.querySelector(":scope > .subtable > .rows");
    const row = tpl.content.firstElementChild.cloneNode(true);
    if (values && values.id) row.dataset.id = values.id;
    rowsBox.appendChild(row);
    prepare(row);
    writeAll(fieldsOf(row), values || {});
    numberRows(fieldEl);
    return row;
  }
  function numberRows(fieldEl) {
    rowsOf(fieldEl).forEach((row, i) => {
      const no = row.querySelector(":scope > .row-no");
      if (no) no.textContent = TEXT.row.replace("{n}", i + 1);
    });
  }
  form.addEventListener("click", (ev) => {
    const add = ev.target.closest(".row-add");
    if (add) {
      const fieldEl = add.closest(".field");
      const row = addRow(fieldEl, null);
      const first = row.querySelector("input:not([type=hidden]):not([disabled]), select, textarea");
      if (first) first.focus();
      schedule();
      return;
    }
    const remove = ev.target.closest(".row-remove");
    if (remove) {
      const row = remove.closest(".row");
      const fieldEl = row.parentElement.closest(".field");
      row.remove();
      numberRows(fieldEl);
      schedule();
    }
  });

  // ------------------------------------------------------------------ reference pickers
  function syncReference(el) {
    const sel = el.querySelector(".ref-select");
    const id = valueEl(el).value;
    if (!sel) return;
    const has = Array.prototype.some.call(sel.options, (o) => o.value === id);
    if (id && !has) {
      const o = document.createElement("option");
      o.value = id; o.textContent = "#" + id;
      sel.appendChild(o);
    }
    sel.value = id || "";
  }
  function initReference(el) {
    if (el._ref) return;
    el._ref = true;
    const sel = el.querySelector(".ref-select");
    sel.addEventListener("change", () => { valueEl(el).value = sel.value; schedule(); });
    valueEl(el).addEventListener("change", () => syncReference(el));
    const search = el.querySelector(".ref-search");
    if (search) {
      let timer = null;
      search.addEventListener("input", () => {
        clearTimeout(timer);
        timer = setTimeout(() => searchReferences(el, sel, search), 250);
      });
    }
  }
  // more records than the picker lists: ask the server for those matching what was typed
  function searchReferences(el, sel, search) {
    const url = search.dataset.options + (search.dataset.options.indexOf("?") < 0 ? "?" : "&") +
      "q=" + encodeURIComponent(search.value.trim());
    fetch(url, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then((r) => r.ok ? r.json() : {items: []})
      .then((body) => {
        const current = valueEl(el).value;
        const keep = Array.prototype.filter.call(sel.options, (o) => o.value === "" || o.value === current);
        sel.textContent = "";
        keep.forEach((o) => sel.appendChild(o));
        (body.items || []).forEach((item) => {
          if (String(item.id) === current) return;
          const o = document.createElement("option");
          o.value = String(item.id); o.textContent = item.label;
          sel.appendChild(o);
        });
        sel.value = current;
        if (!current && body.items && body.items.length === 1) {      // one match: take it
          sel.value = String(body.items[0].id); valueEl(el).value = sel.value; schedule();
        }
      })
      .catch(() => {});
  }

  // ------------------------------------------------------------------ files, photos, signatures
  function setFiles(el, list) {
    el._files = list.slice();
    const ul = el.querySelector(".file-list");
    ul.textContent = "";
    el._files.forEach((f, i) => {
      const li = document.createElement("li");
      const a = document.createElement("a");
      a.href = f.url || ("/files/" + f.id);
      a.target = "_blank"; a.rel = "noopener";
      if ((f.content_type || "").indexOf("image/") === 0) {
        const img = document.createElement("img");
        img.src = a.href; img.alt = f.name || ""; img.loading = "lazy";
        a.appendChild(img);
      }
      const name = document.createElement("span");
      name.textContent = f.name || ("#" + f.id);
      a.appendChild(name);
      li.appendChild(a);
      if (!el.dataset.locked) {
        const rm = document.createElement("button");
        rm.type = "button"; rm.className = "file-remove"; rm.textContent = TEXT.remove;
        rm.addEventListener("click", () => { el._files.splice(i, 1); setFiles(el, el._files); });
        li.appendChild(rm);
      }
      ul.appendChild(li);
    });
  }
  function fieldKeyPath(el) {            // "characteristics.photo": what the upload checks limits on
    const keys = [];
    for (let node = el; node && node !== form; node = node.parentElement) {
      if (node.classList && node.classList.contains("field")) keys.unshift(node.dataset.key);
    }
    return keys.join(".");
  }
  async function upload(el, blob, name) {
    const status = el.querySelector(".upload-status");
    const max = Number(el.querySelector(".files").dataset.max || 100);
    if ((el._files || []).length >= max) { status.textContent = TEXT.too_many.replace("{n}", max); return; }
    const body = new FormData();
    body.append("file", blob, name);
    body.append("form", config.form);
    body.append("field", fieldKeyPath(el));
    status.textContent = TEXT.uploading;
    try {
      const res = await fetch(config.upload_url, {method: "POST", body: body, credentials: "same-origin",
        headers: {"X-CSRFToken": window.QMS.csrfToken, "Accept": "application/json"}});
      const data = await res.json().catch(() => null);
      if (!res.ok) { status.textContent = (data && data.error && data.error.message) || TEXT.network; return; }
      const files = (el._files || []).concat([data]);
      setFiles(el, max === 1 ? [data] : files);
      status.textContent = "";
    } catch (e) { status.textContent = TEXT.network; }
  }
  function initFiles(el) {
    if (!el || el._filesInit) return;
    el._filesInit = true;
    if (!el._files) el._files = [];
    const input = el.querySelector(".file-input");
    if (input) {
      input.addEventListener("change", async () => {
        for (const file of Array.prototype.slice.call(input.files)) await upload(el, file, file.name);
        input.value = "";
      });
    }
    const canvas = el.querySelector(".sig-canvas");
    if (canvas) initSignature(el, canvas);
  }
  function initSignature(el, canvas) {
    const ctx = canvas.getContext("2d");
    let drawing = false, dirty = false;
    ctx.lineWidth = 2.5; ctx.lineCap = "round"; ctx.strokeStyle = "#102a43";
    function point(ev) {
      const r = canvas.getBoundingClientRect();
      return [(ev.clientX - r.left) * canvas.width / r.width, (ev.clientY - r.top) * canvas.height / r.height];
    }
    canvas.addEventListener("pointerdown", (ev) => {
      if (el.dataset.locked) return;
      drawing = true; dirty = true; canvas.setPointerCapture(ev.pointerId);
      const p = point(ev); ctx.beginPath(); ctx.moveTo(p[0], p[1]);
    });
    canvas.addEventListener("pointermove", (ev) => {
      if (!drawing) return;
      const p = point(ev); ctx.lineTo(p[0], p[1]); ctx.stroke();
    });
    ["pointerup", "pointercancel"].forEach((n) => canvas.addEventListener(n, () => { drawing = false; }));
    el.querySelector(".sig-clear").addEventListener("click", () => {
      ctx.clearRect(0, 0, canvas.width, canvas.height); dirty = false;
    });
    el.querySelector(".sig-save").addEventListener("click", () => {
      if (!dirty) { el.querySelector(".upload-status").textContent = TEXT.empty_sig; return; }
      canvas.toBlob((blob) => upload(el, blob, TEXT.signature + ".png"), "image/png");
    });
  }

  // ------------------------------------------------------------------ barcode scanning
  function initBarcode(el) {
    if (el._scan) return;
    el._scan = true;
    const button = el.querySelector(".scan");
    if (!button || !("BarcodeDetector" in window) || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia
        || el.dataset.locked) return;                // typed (or a keyboard-wedge scanner) otherwise
    button.hidden = false;
    const box = el.querySelector(".scanner");
    const video = box.querySelector("video");
    let stream = null;
    function stop() {
      if (stream) stream.getTracks().forEach((tr) => tr.stop());
      stream = null; box.hidden = true;
    }
    box.querySelector(".scan-stop").addEventListener("click", stop);
    button.addEventListener("click", async () => {
      try {
        const detector = new window.BarcodeDetector();
        stream = await navigator.mediaDevices.getUserMedia({video: {facingMode: "environment"}});
        video.srcObject = stream; box.hidden = false; await video.play();
        const tick = async () => {
          if (!stream) return;
          try {
            const codes = await detector.detect(video);
            if (codes.length) {
              valueEl(el).value = codes[0].rawValue; stop(); schedule(); return;
            }
          } catch (e) { /* a frame that could not be read: try the next one */ }
          requestAnimationFrame(tick);
        };
        tick();
      } catch (e) { stop(); setError(el, TEXT.no_camera); }
    });
  }

  // ------------------------------------------------------------------ live formulas and conditions
  let timer = null, seq = 0;
  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(compute, 250);
  }
  function tzOffset() { return -new Date().getTimezoneOffset(); }
  async function compute() {
    const mine = ++seq;
    let res;
    try {
      res = await window.QMS.postJSON(config.compute_url, {data: collectAll(), record_id: config.record_id, tz_offset: tzOffset()});
    } catch (e) { return; }
    if (mine !== seq || !res.ok || !res.data) return;          // a newer answer is on its way
    applyState(res.data);
  }
  function collectAll() {        // everything on the page, readonly fields too (conditions may read them)
    const out = {};
    rootFields().forEach((el) => { if (!COMPUTED[el.dataset.type]) out[el.dataset.key] = readField(el); });
    return out;
  }
  function applyState(state) {
    const map = pathMap();
    Object.keys(state.values || {}).forEach((p) => {
      const el = map[p];
      if (el) formatComputed(valueEl(el), state.values[p]);
    });
    Object.keys(state.visible || {}).forEach((p) => {
      const el = map[p];
      if (el) el.classList.toggle("is-hidden", !state.visible[p]);
    });
    Object.keys(state.required || {}).forEach((p) => {
      const el = map[p];
      const mark = el && el.querySelector(":scope > .field-label > .req");
      if (mark) mark.hidden = !state.required[p];
    });
    Object.keys(state.readonly || {}).forEach((p) => {
      const el = map[p];
      if (!el || COMPUTED[el.dataset.type] || el.dataset.locked || el.dataset.type === "subtable") return;
      el.classList.toggle("is-readonly", !!state.readonly[p]);
      el.querySelectorAll(":scope input, :scope select, :scope textarea").forEach((c) => {
        if (c.closest(".field") === el) c.disabled = !!state.readonly[p];
      });
    });
  }
  form.addEventListener("input", schedule);
  form.addEventListener("change", schedule);

  // ------------------------------------------------------------------ errors and saving
  const summary = document.getElementById("error-summary");
  function setError(el, message) {
    const box = el.querySelector(":scope > .error");
    el.classList.add("has-error");
    const section = el.closest("details.section-box");
    if (section) section.open = true;      // a folded section opens to show its errors
    if (box) box.textContent = box.textContent ? box.textContent + " " + message : message;
  }
  function clearErrors() {
    form.querySelectorAll(".has-error").forEach((el) => el.classList.remove("has-error"));
    form.querySelectorAll(".field > .error").forEach((el) => { el.textContent = ""; });
    summary.hidden = true;
  }
  // "characteristics[1].readings[0].value" → that field; a row path or an unknown one → nearest known
  function elementFor(map, path) {
    let p = path;
    while (p) {
      if (map[p]) return map[p];
      const cut = Math.max(p.lastIndexOf("."), p.lastIndexOf("["));
      if (cut <= 0) break;
      p = p.slice(0, cut);
    }
    return null;
  }
  function labelFor(el) {
    const parts = [];
    for (let node = el; node && node !== form; node = node.parentElement) {
      if (node.classList.contains("field")) {
        const label = node.querySelector(":scope > .field-label");
        parts.unshift(label ? label.firstChild.textContent.trim() : node.dataset.key);
      } else if (node.classList.contains("row")) {
        const rows = Array.prototype.indexOf.call(node.parentElement.children, node);
        parts.unshift(TEXT.row.replace("{n}", rows + 1));
      }
    }
    return parts.join(" › ");
  }
  function showErrors(title, errors, conflict) {
    const map = pathMap();
    const list = summary.querySelector(".summary-list");
    list.textContent = "";
    summary.querySelector(".summary-title").textContent = title;
    let first = null;
    (errors || []).forEach((err) => {
      const el = elementFor(map, err.field || "");
      const li = document.createElement("li");
      if (el) {
        setError(el, err.message);
        el.classList.remove("is-hidden");
        first = first || el;
        const a = document.createElement("a");
        const where = labelFor(el);   // top-level messages already name their field
        a.href = "#"; a.textContent = where.indexOf(" › ") > 0 ? where + ": " + err.message : err.message;
        a.addEventListener("click", (ev) => { ev.preventDefault(); focusField(el); });
        li.appendChild(a);
      } else li.textContent = (err.field ? err.field + ": " : "") + err.message;
      list.appendChild(li);
    });
    summary.querySelector(".summary-actions").hidden = !conflict;
    summary.hidden = false;
    summary.focus();
    summary.scrollIntoView({block: "start", behavior: "smooth"});
    return first;
  }
  function focusField(el) {
    el.scrollIntoView({block: "center", behavior: "smooth"});
    const c = el.querySelector("input:not([type=file]):not([disabled]), select:not([disabled]), textarea:not([disabled])");
    if (c) c.focus({preventScroll: true});
  }
  summary.querySelector(".reload").addEventListener("click", () => window.location.reload());

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors();
    const status = form.querySelector(".save-status");
    const button = form.querySelector("button.save");
    status.textContent = TEXT.saving; button.disabled = true;
    const body = {data: collect(), tz_offset: tzOffset()};
    if (config.record_id) body.version = config.version;
    let res;
    try { res = await window.QMS.postJSON(config.save_url, body); }
    catch (e) { status.textContent = TEXT.network; button.disabled = false; return; }
    button.disabled = false;
    if (res.ok && res.data && res.data.redirect) {
      status.textContent = TEXT.saved;
      window.location.assign(res.data.redirect);
      return;
    }
    status.textContent = "";
    const data = res.data || {};
    const message = (data.error && data.error.message) || TEXT.network;
    if (res.status === 422 && data.errors) {
      showErrors(TEXT.errors.replace("{n}", data.errors.length), data.errors, false);
    } else if (res.status === 409) {
      showErrors(TEXT.conflict, [{field: "", message: message}], true);
    } else {
      showErrors(TEXT.failed + message, [], false);
    }
  });

  // ------------------------------------------------------------------ start
  prepare(form);
  writeAll(rootFields(), config.values || {});
  rootFields().forEach((el) => {        // a required sub-table with min_rows starts with one empty row
    if (el.dataset.type === "subtable" && rowsOf(el).length === 0 && !el.dataset.locked
        && !config.record_id && el.dataset.minRows) addRow(el, null);
  });
  compute();
})();
