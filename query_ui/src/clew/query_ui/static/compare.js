// clew: the comparison page: show only the rows where the two differ.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const box = document.getElementById("only-differences");
  const table = document.getElementById("compare");
  if (!box || !table) return;
  box.addEventListener("change", () => table.classList.toggle("compare-only", box.checked));
});
