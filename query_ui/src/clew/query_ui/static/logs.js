// clew logs explorer: the volume histogram, live tail (server-sent events) and context views.
// Every stored string goes into the page as text (textContent), never as markup.
"use strict";

const LEVELS = ["UNSPECIFIED", "TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"];
const SVG = "http://www.w3.org/2000/svg";

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function keyUrl(key, value) {
  const v = encodeURIComponent(value);
  return key === "order.id" ? "/orders/" + v : "/keys/" + encodeURIComponent(key) + "/" + v;
}

function bodyWithMarks(body, terms) {
  const span = el("span", "body");
  const wanted = terms.filter((t) => t).sort((a, b) => b.length - a.length);
  if (!wanted.length) { span.textContent = body; return span; }
  const escaped = wanted.map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  const pattern = new RegExp(escaped.join("|"), "gi");
  let at = 0;
  for (const found of body.matchAll(pattern)) {
    if (found.index > at) span.append(body.slice(at, found.index));
    span.append(el("mark", "", found[0]));
    at = found.index + found[0].length;
  }
  span.append(body.slice(at));
  return span;
}

// Unix nanoseconds of an RFC 3339 time, exactly: time_unix_nano is past what a JS number holds.
function nanos(rfc3339) {
  const [whole, fraction] = rfc3339.replace("Z", "").split(".");
  const seconds = BigInt(Date.parse(whole + "Z")) / 1000n;
  return (seconds * 1000000000n + BigInt((fraction || "").padEnd(9, "0").slice(0, 9))).toString();
}

// One line, as the server renders it in logs.html.
function renderLine(log, stored, terms, keys) {
  const line = el("div", "logline sev-" + log.severity.toLowerCase());
  line.dataset.time = nanos(log.time);
  line.dataset.service = log.service;
  line.dataset.trace = log.trace_id;
  const time = el("time", "", log.time);
  time.setAttribute("datetime", log.time);
  line.append(time, " ", el("span", "level", log.severity), " ", el("span", "svc", log.service), " ");
  line.append(bodyWithMarks(log.body, terms));
  for (const key of keys) {
    const value = log.attributes[key];
    if (!value) continue;
    const kv = el("span", "kv");
    const link = el("a", "order-link", key + "=" + value);
    link.href = keyUrl(key, value);
    kv.append(link);
    line.append(kv);
  }
  if (log.trace_id && stored.includes(log.trace_id)) {
    const link = el("a", "trace-link", "trace " + log.trace_id.slice(0, 8));
    link.href = "/traces/" + encodeURIComponent(log.trace_id) +
      (log.span_id ? "#span-" + encodeURIComponent(log.span_id) : "");
    line.append(link);
  }
  line.append(el("button", "context-button", "context"));
  line.querySelector("button").type = "button";
  return line;
}

function lines() { return document.getElementById("log-lines"); }
function terms() { return JSON.parse(lines().dataset.highlight || "[]"); }
function keys() { return JSON.parse(lines().dataset.keys || "[]"); }

// The histogram: stacked bars per bucket; a click or a drag across bars narrows the range.
function drawHistogram() {
  const source = document.getElementById("histogram-data");
  if (!source) return;
  const data = JSON.parse(source.textContent);
  const buckets = data.buckets;
  const width = 1000, height = 110, top = 4, bottom = 14;
  const totals = buckets.map((b) => Object.values(b.counts).reduce((a, n) => a + n, 0));
  const most = Math.max(1, ...totals);
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("preserveAspectRatio", "none");
  const w = width / buckets.length;
  buckets.forEach((bucket, i) => {
    let y = height - bottom;
    for (const level of LEVELS) {
      const n = bucket.counts[level] || 0;
      if (!n) continue;
      const h = (n / most) * (height - bottom - top);
      y -= h;
      svg.append(rect(i * w + 0.5, y, Math.max(w - 1, 0.5), h, "lv-" + level));
    }
    const hit = rect(i * w, 0, w, height, "bar-hit");
    hit.dataset.index = String(i);
    const title = document.createElementNS(SVG, "title");
    title.textContent = bucket.start + ": " + totals[i] + " records";
    hit.append(title);
    svg.append(hit);
  });
  for (const i of [0, Math.floor(buckets.length / 2), buckets.length - 1]) {
    const label = document.createElementNS(SVG, "text");
    label.setAttribute("x", String(Math.min(i * w, width - 120)));
    label.setAttribute("y", String(height - 2));
    label.setAttribute("class", "axis-label");
    label.textContent = buckets[i].start.replace("T", " ").slice(0, 19);
    svg.append(label);
  }
  document.getElementById("histogram").prepend(svg);
  narrowing(svg, buckets, data.step_ns);
}

function rect(x, y, w, h, cls) {
  const r = document.createElementNS(SVG, "rect");
  r.setAttribute("x", String(x)); r.setAttribute("y", String(y));
  r.setAttribute("width", String(w)); r.setAttribute("height", String(h));
  r.setAttribute("class", cls);
  return r;
}

function narrowing(svg, buckets, stepNs) {
  let from = null;
  const index = (event) => {
    const target = event.target.closest ? event.target.closest("rect.bar-hit") : null;
    return target ? Number(target.dataset.index) : null;
  };
  svg.addEventListener("mousedown", (event) => { from = index(event); event.preventDefault(); });
  svg.addEventListener("mouseover", (event) => {
    if (from === null) return;
    const to = index(event);
    svg.querySelectorAll("rect.bar-hit").forEach((r) => {
      const i = Number(r.dataset.index);
      r.classList.toggle("selecting", to !== null && i >= Math.min(from, to) && i <= Math.max(from, to));
    });
  });
  svg.addEventListener("mouseup", (event) => {
    const to = index(event);
    if (from === null || to === null) { from = null; return; }
    const first = buckets[Math.min(from, to)], last = buckets[Math.max(from, to)];
    from = null;
    const endNs = BigInt(last.start_unix_nano) + BigInt(stepNs);
    narrowTo(first.start, isoFromNs(endNs));
  });
}

function isoFromNs(ns) {
  return new Date(Number(ns / 1000000n)).toISOString().replace(".000Z", "Z");
}

function narrowTo(start, end) {
  const form = document.getElementById("logs-form");
  form.elements.start.value = start;
  form.elements.end.value = end;
  form.submit();
}

// Live tail: new lines at the top as they arrive; the button pauses and resumes.
function liveTail() {
  const button = document.getElementById("tail-toggle");
  if (!button) return;
  const status = document.getElementById("tail-status");
  let source = null, received = 0;
  button.addEventListener("click", () => {
    if (source) {
      source.close(); source = null;
      button.textContent = "Follow live"; status.textContent = "paused";
      return;
    }
    source = new EventSource("/api/logs/tail?" + button.dataset.query);
    button.textContent = "Pause";
    status.textContent = "following…";
    source.addEventListener("logs", (event) => {
      const batch = JSON.parse(event.data);
      for (const log of batch.logs) {
        const line = renderLine(log, batch.stored_traces, terms(), keys());
        line.classList.add("fresh");
        lines().prepend(line);
        received += 1;
      }
      status.textContent = "following: " + received + " new line" + (received === 1 ? "" : "s") +
        (batch.limits.length ? " (" + batch.limits.join("; ") + ")" : "");
    });
    source.addEventListener("error", () => { if (source) status.textContent = "reconnecting…"; });
  });
}

// Context: the lines of the same service around a line, and of its trace.
function contextViews() {
  document.addEventListener("click", async (event) => {
    const button = event.target.closest ? event.target.closest(".context-button") : null;
    if (!button) return;
    const line = button.closest(".logline");
    const open = line.nextElementSibling;
    if (open && open.classList.contains("context")) { open.remove(); return; }
    const params = new URLSearchParams({ at: line.dataset.time, service: line.dataset.service,
      trace_id: line.dataset.trace || "" });
    const response = await fetch("/api/logs/context?" + params);
    const data = await response.json();
    const panel = el("div", "context");
    if (!response.ok) { panel.append(el("p", "error", data.detail || "failed")); line.after(panel); return; }
    for (const [title, list] of [["Same service: " + line.dataset.service, data.service],
                                 ["Same trace", data.trace]]) {
      if (title === "Same trace" && !line.dataset.trace) continue;
      panel.append(el("h3", "", title));
      if (!list.length) panel.append(el("p", "empty", "no lines"));
      for (const log of list) {
        const shown = renderLine(log, data.stored_traces, [], keys());
        if (nanos(log.time) === line.dataset.time) shown.classList.add("anchor");
        panel.append(shown);
      }
    }
    line.after(panel);
  });
}

drawHistogram();
liveTail();
contextViews();
