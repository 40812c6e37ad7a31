// The command palette: <dialog id="palette"> of the layout (partials/dialogs.html). Ctrl/Cmd+K
// or the top bar's button opens it; its input asks GET /-/palette?q= (htmx, 200 ms after the
// last keystroke, an older request replaced by a newer one) for a listbox of results. Arrow
// keys move the selection (aria-activedescendant: focus stays in the input), Enter opens the
// selected result through the page's boosted link handling, Esc closes (native <dialog>), and
// focus goes back to where it was.
(function () {
  "use strict";
  var dialog, input, opener = null, loaded = false;

  function options() {
    return Array.prototype.slice.call(dialog.querySelectorAll("[data-palette-option]"));
  }
  function selected() {
    return dialog.querySelector('[data-palette-option][aria-selected="true"]');
  }
  function select(option) {
    var current = selected();
    if (current) current.setAttribute("aria-selected", "false");
    if (!option) {
      input.removeAttribute("aria-activedescendant");
      return;
    }
    option.setAttribute("aria-selected", "true");
    input.setAttribute("aria-activedescendant", option.id);
    option.scrollIntoView({ block: "nearest" });
  }
  function move(step) {
    var all = options();
    if (!all.length) return;
    var at = all.indexOf(selected());
    at = at < 0 ? (step > 0 ? 0 : all.length - 1) : (at + step + all.length) % all.length;
    select(all[at]);
  }

  function open() {
    if (dialog.open) { input.select(); return; }
    opener = document.activeElement;
    dialog.showModal();
    input.focus();
    input.select();
    // The first opening loads what an empty query shows (models, saved views, recent rows).
    if (!loaded) { loaded = true; htmx.trigger(input, "palette-load"); }
  }

  function init() {
    dialog = document.getElementById("palette");
    input = document.getElementById("palette-input");
    if (!dialog || !input) return;

    document.addEventListener("keydown", function (event) {
      if ((event.ctrlKey || event.metaKey) && !event.altKey && !event.shiftKey
          && (event.key === "k" || event.key === "K")) {
        event.preventDefault();
        if (dialog.open) dialog.close(); else open();
      }
    });
    document.addEventListener("click", function (event) {
      var button = event.target.closest("[data-palette-open]");
      if (!button) return;
      event.preventDefault();
      open();
    });
    document.addEventListener("hyper-admin:palette", open);

    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown") { event.preventDefault(); move(1); }
      else if (event.key === "ArrowUp") { event.preventDefault(); move(-1); }
      else if (event.key === "Home" && event.ctrlKey) { event.preventDefault(); select(options()[0]); }
      else if (event.key === "End" && event.ctrlKey) { event.preventDefault(); select(options().slice(-1)[0]); }
      else if (event.key === "Enter") {
        event.preventDefault();
        var option = selected();
        if (option) option.click();
      }
    });
    document.addEventListener("htmx:configRequest", function (event) {
      if (event.detail.elt === input) event.detail.parameters.q = input.value;
    });
    // New results: select the first one, so that typing then Enter opens the best match.
    document.addEventListener("htmx:afterSwap", function (event) {
      if (event.target.id === "palette-results") select(options()[0]);
    });
    dialog.addEventListener("mousemove", function (event) {
      var option = event.target.closest("[data-palette-option]");
      if (option && option !== selected()) select(option);
    });
    // A result is a boosted link: htmx loads it into #main; the dialog makes way.
    dialog.addEventListener("click", function (event) {
      if (event.target.closest("[data-palette-option]")) {
        opener = null;  // focus goes to the new page, not back to the old one's button
        dialog.close();
      }
    });
    dialog.addEventListener("close", function () {
      if (opener && document.body.contains(opener) && opener.focus) opener.focus();
      opener = null;
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
