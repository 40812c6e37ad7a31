// Foreign-key pickers (templates/hyper_admin/partials/fk_picker.html). htmx fills the listbox
// from the lookup endpoint; this script puts a chosen option into the hidden input (the key)
// and the search box (its label). Loaded with `defer` after htmx.
(function () {
  "use strict";

  function parts(el) {
    var root = el && el.closest("[data-fk-picker]");
    if (!root) return null;
    return {
      root: root,
      value: root.querySelector("[data-fk-value]"),
      search: root.querySelector("[data-fk-search]"),
      list: root.querySelector("[role=listbox]")
    };
  }
  function options(p) {
    return Array.prototype.slice.call(p.list.querySelectorAll("button[role=option]"));
  }
  function setOpen(p, open) {
    p.list.hidden = !open;
    p.search.setAttribute("aria-expanded", open ? "true" : "false");
  }
  function choose(p, value, label) {
    p.value.value = value;
    p.search.value = label;
    p.root.dataset.label = label;
    setOpen(p, false);
    p.value.dispatchEvent(new Event("change", { bubbles: true }));
    p.search.focus();
  }
  // The box shows the chosen row's label again when the user leaves without choosing.
  function restore(p) {
    setOpen(p, false);
    p.search.value = p.root.dataset.label || "";
  }

  document.addEventListener("click", function (event) {
    // Only a button with data-value is a row; others (the lookup's "More…") are htmx's.
    var button = event.target.closest("[data-fk-picker] button[role=option][data-value]");
    if (button) {
      choose(parts(button), button.dataset.value || "", button.dataset.label || "");
      return;
    }
    var clear = event.target.closest("[data-fk-clear]");
    if (clear) choose(parts(clear), "", "");
  });

  // Keep focus in the search box while an option is clicked: Safari does not focus buttons,
  // so focusout would close the list before the click lands.
  document.addEventListener("mousedown", function (event) {
    if (event.target.closest("[data-fk-picker] [role=listbox] button")) event.preventDefault();
  });

  document.addEventListener("keydown", function (event) {
    var p = parts(event.target);
    if (!p) return;
    var all = options(p);
    var at = all.indexOf(event.target);
    if (event.key === "Escape" && !p.list.hidden) {
      event.preventDefault();
      restore(p);
      p.search.focus();
    } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!all.length) return;
      event.preventDefault();
      setOpen(p, true);
      var step = event.key === "ArrowDown" ? 1 : -1;
      var next = at < 0 ? (step > 0 ? 0 : all.length - 1) : at + step;
      if (next < 0 || next >= all.length) p.search.focus();
      else all[next].focus();
    } else if (event.key === "Enter" && event.target === p.search) {
      // Enter in the search box would submit the whole form.
      event.preventDefault();
      if (all.length === 1) all[0].click();
    }
  });

  document.addEventListener("focusout", function (event) {
    var p = parts(event.target);
    if (p && !p.root.contains(event.relatedTarget)) restore(p);
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var list = event.detail.target;
    if (!list || list.getAttribute("role") !== "listbox") return;
    var p = parts(list);
    if (p) setOpen(p, options(p).length > 0 && p.root.contains(document.activeElement));
  });
})();
