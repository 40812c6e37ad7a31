// Keyboard shortcuts and the layout's modal dialogs (partials/dialogs.html).
//
//   ?      the shortcuts dialog          /      search the list (elsewhere: the palette)
//   j / k  next / previous row           Enter  open the highlighted row
//   e      edit (a row's page, or the highlighted row)
//   g d    the dashboard                 Esc    close a dialog (native <dialog>)
//
// Single keys never fire while the user types (an input, textarea, select or contenteditable
// has focus), with Ctrl, Cmd or Alt held, or while a dialog is open. Ctrl/Cmd+K is palette.js's.
//
// Confirmations (delete, bulk actions) asked for by htmx come back retargeted into
// #confirm-dialog-body (render_page(dialog=True)): shown here with showModal().
(function () {
  "use strict";
  var pendingG = 0;  // the time "g" was pressed, waiting for its second key

  function typing(target) {
    if (!target || !target.closest) return false;
    return !!target.closest("input, textarea, select, [contenteditable]:not([contenteditable=false])");
  }
  function openDialog() {
    return document.querySelector("dialog[open]");
  }

  // A boosted navigation to url (history, #main, the loading bar), as if a link was clicked.
  function go(url) {
    var link = document.createElement("a");
    link.href = url;
    link.hidden = true;
    document.getElementById("main").appendChild(link);  // replaced with #main by the swap
    htmx.process(link);
    link.click();
  }

  // (a) The list's row cursor: j/k move it, the row's link takes focus (so Enter opens it).
  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("#list-results tbody.ha-rows > tr"));
  }
  function cursorRow() {
    return document.querySelector("#list-results tbody.ha-rows > tr[data-row-cursor]");
  }
  function moveCursor(step) {
    var all = rows();
    if (!all.length) return false;
    var current = cursorRow();
    var at = all.indexOf(current);
    at = at < 0 ? (step > 0 ? 0 : all.length - 1) : Math.min(all.length - 1, Math.max(0, at + step));
    if (current) current.removeAttribute("data-row-cursor");
    var row = all[at];
    row.setAttribute("data-row-cursor", "");
    var link = row.querySelector("a.r");
    if (link) link.focus({ preventScroll: true });
    row.scrollIntoView({ block: "nearest" });
    return true;
  }
  function rowLink() {
    var row = cursorRow();
    return row && row.querySelector("a.r");
  }

  var keys = {
    "?": function () { toggleHelp(); return true; },
    "/": function () {
      var search = document.querySelector('#main form[role=search] input[name=q]');
      if (search) { search.focus(); search.select(); return true; }
      document.dispatchEvent(new CustomEvent("hyper-admin:palette"));
      return true;
    },
    "j": function () { return moveCursor(1); },
    "k": function () { return moveCursor(-1); },
    "Enter": function () {
      var link = rowLink();
      if (!link || document.activeElement === link) return false;  // a focused link opens itself
      link.click();
      return true;
    },
    "e": function () {
      var edit = document.querySelector('#main [data-shortcut="e"]');
      if (edit) { edit.click(); return true; }
      // A highlighted row opens its edit form only where the list says the user may change rows.
      var link = rowLink();
      if (link && link.closest("#list-results[data-can-change]")) {
        go(link.pathname.replace(/\/?$/, "/") + "edit");
        return true;
      }
      return false;
    },
    "g d": function () {
      var help = document.getElementById("shortcuts-help");
      if (help) go(help.dataset.dashboardUrl);
      return !!help;
    },
  };

  function toggleHelp() {
    var help = document.getElementById("shortcuts-help");
    if (!help) return;
    if (help.open) { help.close(); return; }
    var content = help.querySelector(":scope > template");
    if (content) content.replaceWith(content.content.cloneNode(true));
    help.showModal();
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.isComposing || event.ctrlKey || event.metaKey || event.altKey) return;
    var dialog = openDialog();
    if (dialog) {
      if (event.key === "?" && dialog.id === "shortcuts-help" && !typing(event.target)) {
        event.preventDefault();
        dialog.close();
      }
      return;
    }
    if (typing(event.target)) return;
    var key = event.key;
    if (pendingG && Date.now() - pendingG < 1200) {
      pendingG = 0;
      key = "g " + key;
    } else if (key === "g") {
      pendingG = Date.now();
      return;
    }
    pendingG = 0;
    if (key === "Escape") {
      var row = cursorRow();
      if (row) row.removeAttribute("data-row-cursor");
      return;
    }
    var handler = keys[key];
    if (handler && handler()) event.preventDefault();
  });

  // (b) The modal dialogs.
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-shortcuts-open]")) { toggleHelp(); return; }
    var close = event.target.closest("[data-close-dialog]");
    if (close && close.closest("dialog")) close.closest("dialog").close();
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (!target || target.id !== "confirm-dialog-body") return;
    var dialog = target.closest("dialog");
    if (!dialog.open) dialog.showModal();
    var first = target.querySelector("[autofocus]");
    if (first) first.focus();
  });
  // Whatever loads into #main (the action done, an error page) closes the confirmation.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    var dialog = document.getElementById("confirm-dialog");
    if (target && target.id === "main" && dialog && dialog.open) dialog.close();
  });
  document.addEventListener("close", function (event) {
    if (event.target.id === "confirm-dialog") {
      document.getElementById("confirm-dialog-body").replaceChildren();
    }
  }, true);

  // Ctrl on the key hints, ⌘ on Apple's keyboards.
  if (/Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent)) {
    document.querySelectorAll("[data-mod-key]").forEach(function (kbd) { kbd.textContent = "⌘"; });
  }
})();
