// clew: the few interactions the server-rendered pages need.
"use strict";

function showSpan(spanId) {
  const detail = document.getElementById("detail-" + spanId);
  if (!detail) return;
  document.querySelectorAll(".span-detail").forEach((d) => { d.hidden = d !== detail; });
  document.querySelectorAll(".row.selected").forEach((r) => r.classList.remove("selected"));
  const row = document.getElementById("row-" + spanId);
  if (row) row.classList.add("selected");
  detail.scrollIntoView({ block: "nearest" });
}

function toggleSubtree(button) {
  const spanId = button.dataset.toggle;
  const collapsed = button.textContent === "▸";
  button.textContent = collapsed ? "▾" : "▸";
  button.setAttribute("aria-label", collapsed ? "collapse" : "expand");
  // The rows come depth first, each followed by its hops and log lines: a span's subtree is
  // everything after its row up to the next row no deeper than it. (Each row listing its
  // ancestors made a 2,500-span chain's page 56 MB.)
  const row = document.getElementById("row-" + spanId);
  const depth = Number(row.dataset.depth);
  for (let el = row.nextElementSibling; el; el = el.nextElementSibling) {
    if (el.classList.contains("row") && Number(el.dataset.depth) <= depth) break;
    el.classList.toggle("hidden-by-collapse", !collapsed);
  }
}

document.addEventListener("click", (event) => {
  const toggle = event.target.closest("button.toggle");
  if (toggle) { toggleSubtree(toggle); event.stopPropagation(); return; }
  if (event.target.closest("a")) return;
  const row = event.target.closest(".row[data-span]");
  if (row && document.getElementById("detail-" + row.dataset.span)) {
    history.replaceState(null, "", "#span-" + row.dataset.span);
    showSpan(row.dataset.span);
  }
});

document.addEventListener("change", (event) => {
  const radio = event.target;
  if (!radio.name || !radio.name.startsWith("scope-")) return;
  const detail = radio.closest(".span-detail");
  detail.querySelector(".logs.own").hidden = radio.value !== "own";
  detail.querySelector(".logs.subtree").hidden = radio.value !== "subtree";
});

document.addEventListener("DOMContentLoaded", () => {
  const match = location.hash.match(/^#span-([0-9a-fA-F]+)$/);
  if (match) showSpan(match[1]);
});
