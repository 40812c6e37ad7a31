// Many-to-many pickers (templates/hyper_admin/partials/m2m_picker.html). htmx fills the listbox
// from the field's lookup endpoint; this script turns a chosen option into a chip (a hidden
// input named after the field, its label, a remove button) and removes chips. Keyboard: type to
// search, ArrowDown/ArrowUp through the options, Enter adds (the highlighted option, or the
// first), Backspace in the empty box removes the last chip, Escape closes the list.
// Loaded with `defer` after htmx.
(function () {
  "use strict";

  function parts(el) {
    var root = el && el.closest && el.closest("[data-m2m-picker]");
    if (!root) return null;
    return {
      root: root,
      chips: root.querySelector("[data-m2m-chips]"),
      search: root.querySelector("[data-m2m-search]"),
      list: root.querySelector("[role=listbox]"),
      template: root.querySelector("template[data-m2m-chip-template]"),
      status: root.querySelector("[data-m2m-status]")
    };
  }
  function options(p) {
    return Array.prototype.slice.call(p.list.querySelectorAll("button[role=option][data-value]"))
      .filter(function (b) { return !b.closest("li").hidden; });
  }
  function chosen(p) {
    return Array.prototype.map.call(p.chips.querySelectorAll("[data-m2m-chip]"),
      function (chip) { return chip.dataset.value; });
  }
  function setOpen(p, open) {
    p.list.hidden = !open;
    p.search.setAttribute("aria-expanded", open ? "true" : "false");
    if (!open) p.search.removeAttribute("aria-activedescendant");
  }
  function say(p, text) {
    if (p.status) p.status.textContent = text;
  }
  function changed(p) {
    // The form's unsaved-changes guard (admin.js) listens for input events.
    p.root.dispatchEvent(new Event("input", { bubbles: true }));
    p.root.dispatchEvent(new Event("change", { bubbles: true }));
  }
  function add(p, value, label) {
    if (chosen(p).indexOf(value) < 0) {
      var chip = p.template.content.firstElementChild.cloneNode(true);
      chip.dataset.value = value;
      var input = chip.querySelector("input");
      input.name = p.root.dataset.name;
      input.value = value;
      chip.querySelector("span").textContent = label;
      var button = chip.querySelector("[data-m2m-remove]");
      button.setAttribute("aria-label", (button.getAttribute("title") || "") + " " + label);
      p.chips.appendChild(chip);
      say(p, label + " +");
      changed(p);
    }
    p.search.value = "";
    setOpen(p, false);
    p.search.focus();
  }
  function remove(p, chip) {
    var label = chip.querySelector("span").textContent;
    chip.remove();
    say(p, label + " −");
    changed(p);
    p.search.focus();
  }
  // Options already chosen are not offered again.
  function hideChosen(p) {
    var have = chosen(p);
    Array.prototype.forEach.call(p.list.querySelectorAll("button[role=option][data-value]"),
      function (b) { b.closest("li").hidden = have.indexOf(b.dataset.value) >= 0; });
  }

  document.addEventListener("click", function (event) {
    var option = event.target.closest("[data-m2m-picker] button[role=option][data-value]");
    if (option) {
      add(parts(option), option.dataset.value || "", option.dataset.label || "");
      return;
    }
    var removeButton = event.target.closest("[data-m2m-remove]");
    if (removeButton) remove(parts(removeButton), removeButton.closest("[data-m2m-chip]"));
  });

  document.addEventListener("mousedown", function (event) {
    if (event.target.closest("[data-m2m-picker] [role=listbox] button")) event.preventDefault();
  });

  document.addEventListener("keydown", function (event) {
    var p = parts(event.target);
    if (!p || !p.search) return;
    var all = options(p);
    var at = all.indexOf(event.target);
    if (event.key === "Escape" && !p.list.hidden) {
      event.preventDefault();
      setOpen(p, false);
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
      event.preventDefault(); // Enter in the box would submit the whole form
      if (all.length && !p.list.hidden) all[0].click();
    } else if (event.key === "Backspace" && event.target === p.search && p.search.value === "") {
      var chips = p.chips.querySelectorAll("[data-m2m-chip]");
      if (chips.length) {
        event.preventDefault();
        remove(p, chips[chips.length - 1]);
      }
    }
  });

  document.addEventListener("focusout", function (event) {
    var p = parts(event.target);
    if (p && p.list && !p.root.contains(event.relatedTarget)) setOpen(p, false);
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var list = event.detail.target;
    if (!list || list.getAttribute("role") !== "listbox") return;
    var p = parts(list);
    if (!p) return;
    hideChosen(p);
    setOpen(p, options(p).length > 0 && p.root.contains(document.activeElement));
  });
})();
