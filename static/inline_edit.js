// Inline cell editing (ModelAdmin.list_editable; templates/hyper_admin/partials/inline_cell.html).
// htmx does the requests; this adds the keys: Esc puts the cell's value back, Enter saves a
// select too (inputs submit on Enter by themselves). Errors other than 409/422, which come with
// the editor, are not swapped into the cell: admin.js shows them as a toast.
(function () {
  "use strict";
  document.addEventListener("keydown", function (event) {
    var form = event.target.closest && event.target.closest("form[data-inline-edit]");
    if (!form) return;
    if (event.key === "Escape") {
      event.preventDefault();
      htmx.ajax("GET", form.dataset.cancelUrl, { source: form, target: form.closest("td"), swap: "innerHTML" });
    } else if (event.key === "Enter" && event.target.tagName === "SELECT") {
      event.preventDefault();
      // An Enter as soon as the editor arrives may come before htmx has processed its form
      // (it does so once the swap settles): processing it again is a no-op otherwise.
      htmx.process(form);
      htmx.trigger(form, "submit");
    }
  });
  document.addEventListener("htmx:beforeSwap", function (event) {
    var elt = event.detail.elt;
    if (!elt || !elt.closest || !elt.closest("[data-inline-edit], [data-cell-edit]")) return;
    var status = event.detail.xhr.status;
    if (status >= 400 && status !== 409 && status !== 422) {
      event.detail.shouldSwap = false;
      event.detail.isError = true;
    }
  });
  // The column keeps its width while a cell is edited: the cell is held at the width it had
  // (the editor fills it, inline_cell.html) and let go once the value is back, so that opening
  // an editor does not shift every column of the table.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var elt = event.detail.elt;
    var cell = event.detail.target;
    if (!elt || !elt.matches || !elt.matches("[data-cell-edit]") || !cell || cell.tagName !== "TD") return;
    if (!cell.style.width) cell.style.width = cell.getBoundingClientRect().width + "px";
  });
  // After a save or a cancel, focus goes back to the cell's button.
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (target && target.tagName === "TD" && target.querySelector("[data-cell-edit]")) {
      target.style.width = "";  // the value is back: the column sizes to its values again
    }
    if (target && target.tagName === "TD" && event.detail.requestConfig &&
        event.detail.requestConfig.elt && event.detail.requestConfig.elt.matches &&
        event.detail.requestConfig.elt.matches("form[data-inline-edit]")) {
      var button = target.querySelector("[data-cell-edit]");
      if (button) button.focus();
    }
  });
})();
