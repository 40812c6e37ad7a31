// Inlines on the add and edit forms (templates/hyper_admin/partials/inline_formset.html).
// "Add another" is htmx's (a blank row, and the new <prefix>-TOTAL_FORMS out of band); this
// script removes rows: a new row is dropped from the page (its index stays unused, which the
// server reads as no row), an existing row's DELETE box marks it struck out, restorable by
// unticking it. It also keeps "Add another" disabled while max_num rows are kept (the server
// refuses more whatever the button says). Loaded with `defer`; no inline script (the CSP
// allows none).
(function () {
  "use strict";

  function limit(section) {
    if (!section) return;
    var add = section.querySelector("[data-inline-add]");
    var max = section.querySelector("input[name$='-MAX_NUM_FORMS']");
    if (!add || !max) return;
    var kept = section.querySelectorAll("[data-inline-row]:not([data-removed])").length;
    add.disabled = kept >= parseInt(max.value, 10);
  }

  function mark(box) {
    var row = box.closest("[data-inline-row]");
    if (!row) return;
    row.toggleAttribute("data-removed", box.checked);
    row.classList.toggle("opacity-50", box.checked);
    limit(row.closest("[data-inline]"));
  }

  document.addEventListener("click", function (event) {
    var drop = event.target.closest("[data-inline-drop]");
    if (!drop) return;
    var row = drop.closest("[data-inline-row]");
    var section = drop.closest("[data-inline]");
    if (row) row.remove();
    limit(section);
    // Focus stays in the section: its "Add another" button, else its heading.
    var add = section && section.querySelector("[data-inline-add]");
    var next = add && !add.disabled ? add : section && section.querySelector("h2");
    if (next && next.focus) next.focus();
  });

  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("[data-inline-delete]")) mark(event.target);
  });

  // A row added: count again, and put the cursor in its first field.
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    var section = target && target.closest && target.closest("[data-inline]");
    if (!section || !target.matches("[id$='-rows']")) return;
    limit(section);
    var empty = section.querySelector("[data-inline-empty]");
    if (empty) empty.remove();
    var rows = target.querySelectorAll("[data-inline-row]");
    var last = rows[rows.length - 1];
    var field = last && last.querySelector("input:not([type=hidden]), select, textarea");
    if (field) field.focus();
  });
})();
