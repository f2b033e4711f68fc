// clew: the search page's scatter plot (duration over time, failed in red; click a dot to open
// its trace, drag a box to narrow the search to it) and "tick two traces to compare them".
"use strict";

(() => {
  const PAD = { left: 56, right: 12, top: 10, bottom: 22 };
  const OK = "#4e79a7";
  const FAILED = "#c62828";

  const human = window.clewDuration;  // duration.js

  function points() {
    return [...document.querySelectorAll("#results tbody tr[data-trace]")].map((tr) => ({
      trace: tr.dataset.trace,
      t: Number(tr.dataset.startMs),
      d: Number(tr.dataset.durationNs),
      failed: tr.dataset.failed === "1",
    }));
  }

  class Scatter {
    constructor(canvas, pts) {
      this.canvas = canvas;
      this.pts = pts;
      const ts = pts.map((p) => p.t);
      const ds = pts.map((p) => p.d);
      // A little room either side, so the first and last dots are not on the frame.
      const spread = (lo, hi, min) => {
        const room = Math.max(hi - lo, min) * 0.04;
        return hi - lo < min ? [lo - min / 2 - room, hi + min / 2 + room] : [lo - room, hi + room];
      };
      [this.t0, this.t1] = spread(Math.min(...ts), Math.max(...ts), 1000);
      this.d1 = Math.max(...ds) * 1.1 || 1;
      this.drag = null;
      canvas.addEventListener("mousedown", (e) => { this.drag = { x0: this.x(e), y0: this.y(e), x1: this.x(e), y1: this.y(e) }; });
      canvas.addEventListener("mousemove", (e) => this.move(e));
      canvas.addEventListener("mouseup", (e) => this.up(e));
      window.addEventListener("resize", () => this.draw());
    }

    x(e) { return e.clientX - this.canvas.getBoundingClientRect().left; }
    y(e) { return e.clientY - this.canvas.getBoundingClientRect().top; }
    width() { return this.canvas.clientWidth; }
    height() { return this.canvas.clientHeight; }
    px(t) { return PAD.left + ((t - this.t0) / (this.t1 - this.t0)) * (this.width() - PAD.left - PAD.right); }
    py(d) { return this.height() - PAD.bottom - (d / this.d1) * (this.height() - PAD.top - PAD.bottom); }
    tAt(x) { return this.t0 + ((x - PAD.left) / (this.width() - PAD.left - PAD.right)) * (this.t1 - this.t0); }
    dAt(y) { return ((this.height() - PAD.bottom - y) / (this.height() - PAD.top - PAD.bottom)) * this.d1; }

    draw() {
      const ratio = window.devicePixelRatio || 1;
      const c = this.canvas;
      c.width = Math.floor(this.width() * ratio);
      c.height = Math.floor(this.height() * ratio);
      const ctx = c.getContext("2d");
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      ctx.clearRect(0, 0, this.width(), this.height());
      ctx.fillStyle = "#66707a";
      ctx.font = "11px system-ui, sans-serif";
      ctx.fillText(human(this.d1), 4, PAD.top + 8);
      ctx.fillText("0", 4, this.height() - PAD.bottom);
      ctx.fillText(new Date(this.t0).toISOString().slice(11, 19), PAD.left, this.height() - 6);
      const right = new Date(this.t1).toISOString().slice(11, 19) + " UTC";
      ctx.fillText(right, this.width() - PAD.right - ctx.measureText(right).width, this.height() - 6);
      ctx.strokeStyle = "#dde2e7";
      ctx.strokeRect(PAD.left, PAD.top, this.width() - PAD.left - PAD.right, this.height() - PAD.top - PAD.bottom);
      for (const p of this.pts) {  // failed ones last, so they stay visible on top
        if (!p.failed) this.dot(ctx, p);
      }
      for (const p of this.pts) if (p.failed) this.dot(ctx, p);
      if (this.drag) {
        const { x0, y0, x1, y1 } = this.drag;
        ctx.fillStyle = "rgba(21, 88, 176, 0.15)";
        ctx.fillRect(Math.min(x0, x1), Math.min(y0, y1), Math.abs(x1 - x0), Math.abs(y1 - y0));
      }
    }

    dot(ctx, p) {
      ctx.fillStyle = p.failed ? FAILED : OK;
      ctx.beginPath();
      ctx.arc(this.px(p.t), this.py(p.d), p.failed ? 5 : 4, 0, 2 * Math.PI);
      ctx.fill();
    }

    nearest(x, y) {
      let best = null;
      let bestDistance = 8 * 8;  // within 8 px
      for (const p of this.pts) {
        const dx = this.px(p.t) - x;
        const dy = this.py(p.d) - y;
        if (dx * dx + dy * dy <= bestDistance) { best = p; bestDistance = dx * dx + dy * dy; }
      }
      return best;
    }

    move(e) {
      const near = this.nearest(this.x(e), this.y(e));
      this.canvas.title = near ? `${human(near.d)} · ${new Date(near.t).toISOString()}${near.failed ? " · failed" : ""}` : "";
      if (!this.drag) return;
      this.drag.x1 = this.x(e);
      this.drag.y1 = this.y(e);
      this.draw();
    }

    up(e) {
      const drag = this.drag;
      this.drag = null;
      if (!drag) return;
      if (Math.abs(drag.x1 - drag.x0) < 4 && Math.abs(drag.y1 - drag.y0) < 4) {
        const near = this.nearest(this.x(e), this.y(e));
        if (near) window.location.assign(`/traces/${encodeURIComponent(near.trace)}`);
        this.draw();
        return;
      }
      this.narrow(drag);
    }

    // The search form's own filters, with the time range and durations of the box.
    narrow({ x0, y0, x1, y1 }) {
      const form = document.getElementById("search-form");
      const params = new URLSearchParams(new FormData(form));
      const start = Math.floor(this.tAt(Math.min(x0, x1)));
      const end = Math.ceil(this.tAt(Math.max(x0, x1))) + 1;
      params.set("start", new Date(start).toISOString());
      params.set("end", new Date(end).toISOString());
      params.set("min_duration", Math.max(Math.floor(this.dAt(Math.max(y0, y1))), 0) + "ns");
      params.set("max_duration", Math.ceil(this.dAt(Math.min(y0, y1))) + "ns");
      params.delete("offset");
      for (const [k, v] of [...params.entries()]) if (v === "") params.delete(k);
      window.location.assign("/search?" + params.toString());
    }
  }

  function picks() {
    const button = document.getElementById("compare-picked");
    const update = () => {
      const ticked = [...document.querySelectorAll("input.pick:checked")];
      button.disabled = ticked.length !== 2;
      button.textContent = ticked.length === 2 ? "compare these two" : `compare them (${ticked.length}/2 ticked)`;
    };
    document.addEventListener("change", (e) => { if (e.target.matches("input.pick")) update(); });
    button.addEventListener("click", () => {
      const [a, b] = [...document.querySelectorAll("input.pick:checked")].map((i) => i.value);
      window.location.assign(`/compare?a=${encodeURIComponent(a)}&b=${encodeURIComponent(b)}`);
    });
    update();
  }

  document.addEventListener("DOMContentLoaded", () => {
    const canvas = document.getElementById("scatter");
    if (!canvas) return;
    picks();
    const pts = points();
    if (!pts.length) { document.getElementById("scatter-box").hidden = true; return; }
    const plot = new Scatter(canvas, pts);
    plot.draw();
    window.clewScatter = plot;
  });
})();
