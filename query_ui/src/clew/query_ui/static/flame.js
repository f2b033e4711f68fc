// clew: the trace page's tabs: the flame graph (canvas) and the statistics table.
//
// The flame graph stays responsive on 10,000-span traces because it is drawn on one <canvas>
// (no DOM node per span), from compact data (/api/traces/{id}/flame), and a frame narrower than
// half a pixel is skipped with its whole subtree (a child is never wider than its parent).
"use strict";

(() => {
  const PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2", "#edc948",
    "#9c755f", "#bab0ac", "#ff9da7", "#17becf", "#8c564b", "#7f7f7f"];
  const ROW = 18;
  const FAILED = "#c62828";

  const human = window.clewDuration;  // duration.js

  // The tree with each frame's width: its duration, or its children's sum when they overlap
  // (parallel children may add up to more than their parent, as in Jaeger's flame graph).
  function tree(data) {
    const spans = data.spans;
    const n = spans.length;
    const kids = Array.from({ length: n }, () => []);
    const roots = [];
    for (let i = 0; i < n; i++) (spans[i][1] < 0 ? roots : kids[spans[i][1]]).push(i);
    const value = new Float64Array(n);
    const depth = new Int32Array(n);
    for (let i = n - 1; i >= 0; i--) {  // waterfall order: children come after their parent
      let sum = 0;
      for (const k of kids[i]) sum += value[k];
      value[i] = Math.max(spans[i][5], sum, 1);
    }
    for (let i = 0; i < n; i++) depth[i] = spans[i][1] < 0 ? 0 : depth[spans[i][1]] + 1;
    let total = 0;
    for (const r of roots) total += value[r];
    return { spans, kids, roots, value, depth, total, services: data.services };
  }

  class Flame {
    constructor(box, data) {
      this.box = box;
      this.t = tree(data);
      this.canvas = box.querySelector("canvas");
      this.tip = box.querySelector(".flame-tip");
      this.zoom = -1;  // -1: the whole trace
      this.rects = [];
      this.canvas.addEventListener("click", (e) => this.click(e));
      this.canvas.addEventListener("mousemove", (e) => this.hover(e));
      this.canvas.addEventListener("mouseleave", () => { this.tip.hidden = true; });
      document.querySelector(".flame-reset").addEventListener("click", () => this.zoomTo(-1));
      window.addEventListener("resize", () => this.draw());
    }

    zoomTo(index) {
      this.zoom = index;
      this.box.dataset.zoom = index < 0 ? "" : this.t.spans[index][0];
      this.draw();
    }

    ancestors(index) {
      const out = [];
      for (let p = this.t.spans[index][1]; p >= 0; p = this.t.spans[p][1]) out.unshift(p);
      return out;
    }

    draw() {
      const began = performance.now();
      const t = this.t;
      const width = this.box.clientWidth;
      const top = this.zoom < 0 ? [] : this.ancestors(this.zoom);
      let maxDepth = 0;
      for (let i = 0; i < t.depth.length; i++) maxDepth = Math.max(maxDepth, t.depth[i]);
      const ratio = window.devicePixelRatio || 1;
      this.canvas.width = Math.floor(width * ratio);
      this.canvas.height = Math.floor((maxDepth + 1) * ROW * ratio);
      this.canvas.style.width = width + "px";
      this.canvas.style.height = (maxDepth + 1) * ROW + "px";
      const ctx = this.canvas.getContext("2d");
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      ctx.font = "11px system-ui, sans-serif";
      ctx.textBaseline = "middle";
      this.rects = [];
      // Ancestors of the zoomed frame stay on top, full width, faded: click one to zoom out.
      for (const a of top) this.frame(ctx, a, 0, width, true);
      if (this.zoom < 0) {
        let x = 0;
        for (const r of t.roots) {
          const w = (t.value[r] / t.total) * width;
          this.layout(ctx, r, x, w);
          x += w;
        }
      } else {
        this.layout(ctx, this.zoom, 0, width);
      }
      this.renderMs = performance.now() - began;
      this.box.dataset.renderMs = this.renderMs.toFixed(1);
      this.box.dataset.frames = String(this.rects.length);
    }

    layout(ctx, root, x0, w0) {
      const t = this.t;
      const stack = [[root, x0, w0]];
      while (stack.length) {
        const [i, x, w] = stack.pop();
        if (w < 0.5) continue;  // too narrow to see, and so is everything under it
        this.frame(ctx, i, x, w, false);
        const scale = w / t.value[i];
        let cx = x;
        for (const k of t.kids[i]) {
          const kw = t.value[k] * scale;
          stack.push([k, cx, kw]);
          cx += kw;
        }
      }
    }

    frame(ctx, i, x, w, faded) {
      const s = this.t.spans[i];
      const y = this.t.depth[i] * ROW;
      ctx.globalAlpha = faded ? 0.45 : 1;
      ctx.fillStyle = PALETTE[this.t.services[s[2]][1] % PALETTE.length];
      ctx.fillRect(x, y, Math.max(w - 1, 0.5), ROW - 1);
      if (s[6]) {  // failed: a red frame inside the box
        ctx.strokeStyle = FAILED;
        ctx.lineWidth = 2;
        ctx.strokeRect(x + 1, y + 1, Math.max(w - 3, 0.5), ROW - 3);
      }
      if (w > 30) {
        ctx.fillStyle = "#1d232a";
        const label = (s[6] ? "✖ " : "") + this.t.services[s[2]][0] + " " + s[3];
        ctx.save();
        ctx.beginPath();
        ctx.rect(x, y, w - 2, ROW);
        ctx.clip();
        ctx.fillText(label, x + 3, y + ROW / 2);
        ctx.restore();
      }
      ctx.globalAlpha = 1;
      this.rects.push([i, x, y, w]);
    }

    at(e) {
      const box = this.canvas.getBoundingClientRect();
      const px = e.clientX - box.left;
      const py = e.clientY - box.top;
      for (let j = this.rects.length - 1; j >= 0; j--) {
        const [i, x, y, w] = this.rects[j];
        if (px >= x && px < x + w && py >= y && py < y + ROW) return i;
      }
      return -1;
    }

    click(e) {
      const i = this.at(e);
      if (i >= 0) this.zoomTo(i === this.zoom ? this.t.spans[i][1] : i);
    }

    hover(e) {
      const i = this.at(e);
      if (i < 0) { this.tip.hidden = true; return; }
      const s = this.t.spans[i];
      this.tip.textContent = `${this.t.services[s[2]][0]} · ${s[3]} · ${human(s[5])}` +
        ` · starts at +${human(s[4])}${s[6] ? " · failed" : ""}${s[7] ? " · critical path" : ""}`;
      this.tip.hidden = false;
      this.tip.style.left = (e.offsetX + 12) + "px";
      this.tip.style.top = (e.offsetY + 12) + "px";
    }

    // For tests and for curious users: where a span's frame is drawn now.
    rectOf(spanId) {
      const r = this.rects.find(([i]) => this.t.spans[i][0] === spanId);
      return r ? { x: r[1], y: r[2], w: r[3], h: ROW } : null;
    }
  }

  async function getJSON(url) {
    const response = await fetch(url, { credentials: "same-origin" });
    const body = await response.json();
    if (!response.ok) throw new Error(body.detail || response.status);
    return body;
  }

  async function showFlame(box) {
    if (window.clewFlame) return;
    const began = performance.now();
    const data = await getJSON(`/api/traces/${encodeURIComponent(box.dataset.trace)}/flame`);
    const fetched = performance.now();
    const flame = new Flame(box, data);
    flame.draw();
    flame.fetchMs = fetched - began;
    flame.totalMs = performance.now() - began;
    window.clewFlame = flame;
    box.dataset.ready = "1";
  }

  const COLUMNS = [["service", "Service"], ["operation", "Operation"], ["count", "Count"],
    ["total_ns", "Total"], ["self_ns", "Self"], ["min_ns", "Min"], ["avg_ns", "Avg"],
    ["max_ns", "Max"]];

  function statsTable(box, rows) {
    let sortKey = "self_ns";
    let descending = true;
    const table = document.createElement("table");
    table.className = "stats";
    const head = table.createTHead().insertRow();
    const body = table.createTBody();
    for (const [key, title] of COLUMNS) {
      const th = document.createElement("th");
      const button = document.createElement("button");
      button.type = "button";
      button.dataset.sort = key;
      button.textContent = title;
      button.addEventListener("click", () => {
        descending = sortKey === key ? !descending : key.endsWith("_ns") || key === "count";
        sortKey = key;
        fill();
      });
      th.appendChild(button);
      head.appendChild(th);
    }
    function fill() {
      const sorted = [...rows].sort((a, b) => {
        const x = a[sortKey];
        const y = b[sortKey];
        const order = typeof x === "number" ? x - y : String(x).localeCompare(String(y));
        return descending ? -order : order;
      });
      body.replaceChildren();
      for (const row of sorted) {
        const tr = body.insertRow();
        for (const [key] of COLUMNS) {
          const td = tr.insertCell();
          const value = row[key];
          td.textContent = key.endsWith("_ns") ? human(value) : String(value);
          if (key.endsWith("_ns") || key === "count") td.className = "num";
        }
      }
      table.dataset.sort = sortKey + (descending ? " desc" : " asc");
    }
    fill();
    box.replaceChildren(table);
  }

  async function showStats(box) {
    if (box.dataset.ready) return;
    const data = await getJSON(`/api/traces/${encodeURIComponent(box.dataset.trace)}/stats`);
    statsTable(box, data.rows);
    box.dataset.ready = "1";
  }

  function select(tab) {
    document.querySelectorAll("[data-tab]").forEach((b) => {
      b.setAttribute("aria-selected", String(b.dataset.tab === tab));
    });
    document.querySelectorAll("[data-panel]").forEach((p) => { p.hidden = p.dataset.panel !== tab; });
    const panel = document.querySelector(`[data-panel="${tab}"]`);
    const fail = (err) => { panel.textContent = "Could not load: " + err.message; };
    if (tab === "flame") showFlame(panel.querySelector(".flame")).catch(fail);
    if (tab === "stats") showStats(panel.querySelector(".stats-box")).catch(fail);
  }

  document.addEventListener("DOMContentLoaded", () => {
    const tabs = document.querySelectorAll("[data-tab]");
    tabs.forEach((b) => b.addEventListener("click", () => select(b.dataset.tab)));
  });
})();
