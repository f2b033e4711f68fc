// clew overview: choosing a range in the list shows it at once (the form works without this).
"use strict";

document.addEventListener("change", (event) => {
  const select = event.target.closest("select.autosubmit");
  if (!select) return;
  const form = select.form;
  form.querySelectorAll("input[name=start], input[name=end]").forEach((i) => { i.value = ""; });
  form.submit();
});
