// What every admin page needs, sections (a) to (l): the theme toggle, CSRF on htmx requests,
// toasts, failed requests, list selection and navigation, unsaved forms, conflicts, live
// lists, the filter panel.
// One of several hand-written scripts in static/, each a file of its own (the CSP allows no
// inline script): theme.js (the theme before first paint), fk_picker.js, inline_edit.js,
// keep_input.js, palette.js, shortcuts.js, prefetch.js. Loaded with `defer` after htmx, so
// the document is parsed and `htmx` exists when this runs.
(function () {
  "use strict";
  var THEME_KEY = "hyper-admin-theme";
  var TOAST_MS = 5000;
  var root = document.documentElement;

  // Words: the layout renders them in the user's language into #hyper-admin-i18n (JSON);
  // the English here is the fallback for a page without that block (an app's own layout).
  var strings = null;
  function t(key, english, values) {
    if (strings === null) {
      var block = document.getElementById("hyper-admin-i18n");
      try { strings = block ? JSON.parse(block.textContent) : {}; } catch (e) { strings = {}; }
    }
    return (strings[key] || english).replace(/%\((\w+)\)s/g, function (whole, name) {
      return values && name in values ? values[name] : whole;
    });
  }
  function plural(count) {
    try { return new Intl.PluralRules(root.lang || "en").select(count); } catch (e) { return count === 1 ? "one" : "other"; }
  }

  // (a) Theme: theme.js applies the stored choice before paint; the toggle flips and stores it.
  function currentTheme() {
    return root.dataset.theme || (matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light");
  }
  function syncToggles() {
    // A label, not aria-pressed: daisyUI styles pressed buttons as active.
    var label = currentTheme() === "dark" ? t("switch_to_light", "Switch to light theme") : t("switch_to_dark", "Switch to dark theme");
    document.querySelectorAll("[data-theme-toggle]").forEach(function (button) {
      button.setAttribute("aria-label", label);
      button.title = label;
    });
  }

  // (b) CSRF: every htmx request carries the token from <meta name="csrf-token">.
  document.addEventListener("htmx:configRequest", function (event) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) event.detail.headers["X-CSRFToken"] = meta.content;
  });

  // (c) Toasts: alerts in #toasts leave after 5 s (arriving with the page or by an
  // out-of-band swap); a [data-dismiss] button removes one at once.
  function scheduleDismiss(alert) {
    if (alert.dataset.toastTimer) return;
    alert.dataset.toastTimer = "1";
    setTimeout(function () { alert.remove(); }, TOAST_MS);
  }
  function watchToasts() {
    var region = document.getElementById("toasts");
    if (!region) return;
    region.querySelectorAll(".alert").forEach(scheduleDismiss);
    new MutationObserver(function () {
      region.querySelectorAll(".alert").forEach(scheduleDismiss);
    }).observe(region, { childList: true, subtree: true });
  }

  // (d) Failed htmx requests: a toast built from <template id="toast-error">, text set
  // with textContent only.
  function showError(text) {
    var template = document.getElementById("toast-error");
    var region = document.getElementById("toasts");
    if (!template || !region) return;
    var alert = template.content.firstElementChild.cloneNode(true);
    alert.querySelector("[data-toast-text]").textContent = text;
    region.appendChild(alert);
  }
  // A panel whose query failed answers 500/503 with an error card to show in its place
  // (marked X-Hyper-Admin-Panel: error); other 5xx answers are not swapped (htmx-config).
  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    if (xhr.status >= 500 && xhr.getResponseHeader("X-Hyper-Admin-Panel") === "error") {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
  document.addEventListener("htmx:responseError", function (event) {
    showError(t("request_failed", "Request failed (%(status)s)", { status: event.detail.xhr.status }));
  });
  document.addEventListener("htmx:sendError", function () {
    showError(t("network_error", "Network error"));
  });

  document.addEventListener("click", function (event) {
    var toggle = event.target.closest("[data-theme-toggle]");
    if (toggle) {
      var next = currentTheme() === "dark" ? "light" : "dark";
      root.dataset.theme = next;
      try { localStorage.setItem(THEME_KEY, next); } catch (e) { /* private mode: not remembered */ }
      syncToggles();
      return;
    }
    var dismiss = event.target.closest("[data-dismiss]");
    if (dismiss && dismiss.closest(".alert")) dismiss.closest(".alert").remove();
    // Boosted links swap only #main, so close the phone drawer by hand.
    var drawer = document.getElementById("admin-drawer");
    if (drawer && event.target.closest("#nav a")) drawer.checked = false;
  });

  // (e) Lists: the header checkbox selects every row checkbox of its table.
  document.addEventListener("change", function (event) {
    var all = event.target.closest("[data-select-all]");
    if (!all) return;
    var table = all.closest("table");
    if (!table) return;
    table.querySelectorAll('tbody input[type=checkbox][name=pk]').forEach(function (box) {
      box.checked = all.checked;
    });
  });

  // (f) Forms marked data-warn-unsaved ask before the user leaves them with changes, whether
  // by closing the tab or by an htmx navigation; saving clears the mark.
  var dirtyForm = null;
  document.addEventListener("input", function (event) {
    var form = event.target.closest && event.target.closest("form[data-warn-unsaved]");
    if (form && event.target.name && event.target.name !== "q") dirtyForm = form;
  });
  document.addEventListener("submit", function (event) {
    if (event.target === dirtyForm) dirtyForm = null;
  }, true);
  // Session expired: keep_input.js kept the form's input for after sign-in; leave without asking.
  document.addEventListener("hyper-admin:input-kept", function (event) {
    if (event.target === dirtyForm) dirtyForm = null;
  });
  window.addEventListener("beforeunload", function (event) {
    if (dirtyForm && document.body.contains(dirtyForm)) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (!dirtyForm || !document.body.contains(dirtyForm)) { dirtyForm = null; return; }
    var source = event.detail.elt;
    if (dirtyForm.contains(source)) return;  // the form itself (or its pickers)
    if (!confirm(t("leave_page", "Leave this page? Your changes are not saved."))) {
      event.preventDefault();
    } else {
      dirtyForm = null;
    }
  });

  // (g) Controls outside the swapped list (export links, "save this view") act on the list as
  // the address bar shows it now, not as it was when the page loaded.
  document.addEventListener("submit", function (event) {
    event.target.querySelectorAll("[data-current-query]").forEach(function (input) {
      input.value = location.search.replace(/^\?/, "");
    });
  }, true);
  document.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-export-format]");
    if (!link) return;
    var query = location.search.replace(/^\?/, "");
    link.href = link.pathname + "?" + (query ? query + "&" : "") + "format=" + link.dataset.exportFormat;
  }, true);

  // (h) A conflict (409 on save): "Take theirs" puts the value someone else saved into that
  // field of the form (which otherwise keeps the user's input); saving again applies it.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-take-theirs]");
    if (!button) return;
    var field = document.getElementById(button.dataset.takeTheirs);
    if (!field) return;
    if (field.type === "checkbox") {
      field.checked = button.dataset.value === "y";
    } else {
      field.value = button.dataset.value;
      var picker = field.closest("[data-fk-picker]");
      var search = picker && picker.querySelector("[data-fk-search]");
      if (search) search.value = button.dataset.label;
    }
    field.dispatchEvent(new Event("change", { bubbles: true }));
    button.textContent = t("taken", "Taken");
    button.disabled = true;
    button.closest("tr").dataset.resolved = "theirs";
  });

  // (i) Live lists: [data-live-stream] holds an EventSource on the list's live URL while it
  // is in the page; "rows" events show the pill (N new rows); clicking it prepends them and
  // the stream starts again from the newest row shown. htmx's cleanup closes a stream whose
  // list was replaced (new filters bring a new one).
  function liveStart(el) {
    if (el._liveSource || !window.EventSource) return;
    var source = new EventSource(el.dataset.url);
    el._liveSource = source;
    source.addEventListener("rows", function (event) {
      var pill = document.getElementById("live-pill");
      if (!pill) return;
      pill.hidden = event.data === "0";
      // "1,234" or "10,000+", written in the user's locale by the server.
      var count = parseInt(event.data.replace(/\D/g, ""), 10) || 0;
      pill.querySelector("[data-live-count]").textContent = event.data;
      pill.querySelector("[data-live-noun]").textContent = plural(count) === "one" ? t("new_row", "new row") : t("new_rows", "new rows");
    });
  }
  function liveStop(el) {
    if (el._liveSource) el._liveSource.close();
    el._liveSource = null;
  }
  function liveScan(root) {
    (root.querySelectorAll ? root : document).querySelectorAll("[data-live-stream]").forEach(liveStart);
  }
  document.addEventListener("htmx:load", function (event) { liveScan(event.target.parentNode || document); });
  document.addEventListener("htmx:beforeCleanupElement", function (event) {
    if (event.target.matches && event.target.matches("[data-live-stream]")) liveStop(event.target);
  });
  document.addEventListener("click", function (event) {
    var pill = event.target.closest("#live-pill");
    var stream = document.querySelector("[data-live-stream]");
    if (!pill || !stream) return;
    var body = document.querySelector("#list-results tbody.ha-rows");
    pill.hidden = true;
    if (!body) {  // the list was empty: load it again
      htmx.ajax("GET", location.pathname + location.search, { target: "#list-results", swap: "outerHTML" });
      return;
    }
    // The rows above the old first one are the new ones: tinted for a moment (.ha-new).
    var first = body.firstElementChild;
    htmx.ajax("GET", stream.dataset.rows, { target: body, swap: "afterbegin" }).then(function () {
      for (var row = body.firstElementChild; row && row !== first; row = row.nextElementSibling) {
        row.classList.add("ha-new");
        row.addEventListener("animationend", function (e) { e.currentTarget.classList.remove("ha-new"); }, { once: true });
      }
      if (body.getBoundingClientRect().top < 0) window.scrollTo({ top: 0, behavior: "smooth" });
    });
  });
  document.addEventListener("hyper-admin-live", function (event) {
    var stream = document.querySelector("[data-live-stream]");
    if (!stream || !event.detail || !event.detail.since) return;
    ["url", "rows"].forEach(function (key) {
      var url = new URL(stream.dataset[key], location.href);
      url.searchParams.set("since", event.detail.since);
      stream.dataset[key] = url.pathname + url.search;
    });
    liveStop(stream);
    liveStart(stream);
  });

  // After a page swap (a boosted link or form), focus moves to the new page's heading, as a
  // page load would start at the top: keyboard and screen-reader users go on from there, not
  // from the link that is gone. Focus the page itself set (a dialog, autofocus) is kept.
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.target;
    if (!target || target.id !== "main" || document.querySelector("dialog[open]")) return;
    var main = document.getElementById("main");
    var active = document.activeElement;
    if (!main || (active && active !== document.body && main.contains(active))) return;
    var heading = main.querySelector("h1");
    if (!heading) return;
    heading.setAttribute("tabindex", "-1");
    heading.focus({ preventScroll: true });
  });

  // A list swap (sort, next page, a filter chip) replaces the link that had focus: focus goes
  // to its counterpart in the new list (same id, same rel, else same place among the
  // controls), else to the results, never back to the top of the document.
  var FOCUSABLE = "a[href], button, input, select, textarea, [tabindex]";
  var focusWas = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    var active = document.activeElement;
    if (!target || target.id !== "list-results" || !active || !target.contains(active)) return;
    focusWas = {
      id: active.id, rel: active.getAttribute("rel"), tag: active.tagName,
      text: active.textContent.trim(),
      index: Array.prototype.indexOf.call(target.querySelectorAll(FOCUSABLE), active),
    };
  });
  document.addEventListener("htmx:afterSettle", function () {
    var was = focusWas;
    if (!was) return;
    focusWas = null;
    var results = document.getElementById("list-results");
    if (!results || (document.activeElement && document.activeElement !== document.body)) return;
    var controls = Array.prototype.slice.call(results.querySelectorAll(FOCUSABLE));
    var alike = controls.filter(function (el) {
      return el.tagName === was.tag && el.textContent.trim() === was.text;
    });
    var next = (was.id && document.getElementById(was.id)) ||
      (was.rel && results.querySelector('[rel="' + was.rel + '"]')) ||
      (alike.length === 1 ? alike[0] : controls[was.index]);
    if (!next) {
      next = results;
      results.setAttribute("tabindex", "-1");
    }
    next.focus({ preventScroll: true });
  });

  // Phone cards (admin.css): each value gets its column's name, read from the table's own
  // headers, so that "EUR" or "Nov 25" says what it is. Only at phone width: the desktop
  // table and the page's bytes stay as they are.
  var phone = matchMedia("(max-width: 39.99rem)");
  function labelCells() {
    var table = phone.matches && document.querySelector("#list-results table");
    if (!table || !table.tHead) return;
    var names = Array.prototype.map.call(table.tHead.rows[0].cells, function (th) {
      return th.textContent.trim();
    });
    table.querySelectorAll("tbody.ha-rows > tr").forEach(function (row) {
      Array.prototype.forEach.call(row.cells, function (cell, i) {
        if (names[i] && !cell.dataset.label) cell.dataset.label = names[i];
      });
    });
  }
  document.addEventListener("htmx:afterSettle", labelCells);
  phone.addEventListener("change", labelCells);
  labelCells();

  // Links styled as buttons (role=button, e.g. the Live toggle) answer Space as buttons do.
  document.addEventListener("keydown", function (event) {
    var link = event.target.closest && event.target.closest('a[role="button"]');
    if (!link || event.key !== " " || event.altKey || event.ctrlKey || event.metaKey) return;
    event.preventDefault();
    link.click();
  });

  // (j) Lists: where the user is. Previous and Next bring the list's top into view when it has
  // scrolled away (the new page's first rows are there), under the sticky top bar (the
  // section's scroll-margin-top).
  document.addEventListener("htmx:afterSettle", function (event) {
    var link = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (!link || !link.matches || !link.matches('a[rel="next"], a[rel="prev"]')) return;
    var results = document.getElementById("list-results");
    if (!results) return;
    var margin = parseFloat(getComputedStyle(results).scrollMarginTop) || 0;
    if (results.getBoundingClientRect().top < margin) results.scrollIntoView({ block: "start" });
  });

  // Back to a list comes back to where it was left. htmx keeps no copy of pages
  // (historyCacheSize 0): Back reloads the address. So the scroll position of each address is
  // kept for the tab when the user leaves it (a link, an htmx navigation) and put back when
  // that address loads again by Back/Forward or a reload. The browser's own restoration is off:
  // it would apply the position of the page that was on screen when Back was pressed.
  var SCROLL_KEY = "hyper-admin-scroll";
  var SCROLL_KEPT = 50;  // addresses remembered per tab
  function scrollMemory() {
    try { return JSON.parse(sessionStorage.getItem(SCROLL_KEY) || "{}") || {}; } catch (e) { return {}; }
  }
  function rememberScroll() {
    var memory = scrollMemory();
    var here = location.pathname + location.search;
    delete memory[here];  // newest last: the oldest go first
    memory[here] = Math.round(window.scrollY);
    var addresses = Object.keys(memory);
    addresses.slice(0, Math.max(0, addresses.length - SCROLL_KEPT)).forEach(function (old) { delete memory[old]; });
    try { sessionStorage.setItem(SCROLL_KEY, JSON.stringify(memory)); } catch (e) { /* storage off: not kept */ }
  }
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("a[href]")) rememberScroll();
  }, true);
  // htmx also saves the page it leaves on Back, when the address already is the one it goes
  // back to: not a position to keep (a capturing listener runs before htmx's own).
  var goingBack = false;
  window.addEventListener("popstate", function () {
    goingBack = true;
    setTimeout(function () { goingBack = false; }, 0);
  }, true);
  document.addEventListener("htmx:beforeHistorySave", function () {
    if (!goingBack) rememberScroll();
  });
  function restoreScroll() {
    var entries = performance.getEntriesByType ? performance.getEntriesByType("navigation") : [];
    var how = entries.length ? entries[0].type : "";
    if (how !== "back_forward" && how !== "reload") return;
    var y = scrollMemory()[location.pathname + location.search];
    if (typeof y === "number" && y > 0) window.scrollTo(0, y);
  }
  if ("scrollRestoration" in history) history.scrollRestoration = "manual";

  // (k) The filter panel starts closed where it folds above the list (below the desktop's
  // sidebar layout), so that the first rows are on the first screen; its summary says how many
  // filters are on. Each panel is set once: list swaps keep it as the user left it.
  var sidebar = matchMedia("(min-width: 64rem)");
  function foldFilters(root) {
    root.querySelectorAll("details[data-filter-panel]:not([data-filters-ready])").forEach(function (panel) {
      if (!sidebar.matches) panel.open = false;
      panel.setAttribute("data-filters-ready", "");
    });
  }
  document.addEventListener("htmx:load", function (event) {
    if (event.target.querySelectorAll) foldFilters(event.target);
  });

  // (l) Ctrl+S (Cmd+S on a Mac) on a form page: "Save and continue editing" (views/
  // save_buttons.py). A click, not requestSubmit(): htmx posts the name of the button it saw
  // clicked, so the server learns which button it was.
  document.addEventListener("keydown", function (event) {
    if (!(event.ctrlKey || event.metaKey) || event.altKey || event.shiftKey) return;
    if ((event.key || "").toLowerCase() !== "s") return;
    var button = document.querySelector("#main form [data-save-continue]");
    if (!button || document.querySelector("dialog[open]")) return;
    event.preventDefault();  // never the browser's "Save page as"
    if (!button.disabled) button.click();
  });

  // (m) Prepopulated fields (ModelAdmin.prepopulated_fields): a slug filled from other fields
  // while the user types in them, until they type in the slug itself (emptying it hands it
  // back). On an edit form only a slug that still matches its sources follows them.
  function slugify(text, max) {
    var slug = String(text).normalize("NFKD").replace(/[\u0300-\u036f]/g, "")
      .toLowerCase().replace(/[^\p{L}\p{N}\s_-]+/gu, "").trim()
      .replace(/[\s_-]+/g, "-").replace(/^-+|-+$/g, "");
    if (max > 0 && slug.length > max) slug = slug.slice(0, max).replace(/-+$/, "");
    return slug;
  }
  function prepopulateSources(target) {
    var names = [];
    try { names = JSON.parse(target.getAttribute("data-prepopulate-from")) || []; } catch (e) { names = []; }
    return names.map(function (name) { return target.form && target.form.elements.namedItem(name); })
      .filter(function (el) { return el && typeof el.value === "string"; });
  }
  function prepopulatedValue(target) {
    var text = prepopulateSources(target).map(function (el) { return el.value; }).join(" ");
    return slugify(text, parseInt(target.getAttribute("data-prepopulate-max"), 10) || 0);
  }
  function prepareTargets(root) {
    root.querySelectorAll("[data-prepopulate-from]:not([data-prepopulate-ready])").forEach(function (target) {
      target.setAttribute("data-prepopulate-ready", "");
      var follows = !target.hasAttribute("data-prepopulate-edit") || target.value === ""
        || target.value === prepopulatedValue(target);
      if (!follows) target.setAttribute("data-prepopulate-touched", "");
    });
  }
  document.addEventListener("input", function (event) {
    var el = event.target;
    if (!el || !el.form) return;
    if (el.hasAttribute("data-prepopulate-from")) {
      if (el.value === "") el.removeAttribute("data-prepopulate-touched");
      else el.setAttribute("data-prepopulate-touched", "");
      return;
    }
    prepareTargets(el.form);
    el.form.querySelectorAll("[data-prepopulate-from]:not([data-prepopulate-touched])").forEach(function (target) {
      if (prepopulateSources(target).indexOf(el) >= 0) target.value = prepopulatedValue(target);
    });
  });
  document.addEventListener("htmx:load", function (event) {
    if (event.target.querySelectorAll) prepareTargets(event.target);
  });

  // (l) A list's row menus: one popover (#row-menu) that each row's "⋯" opens and fills with
  // that row's menu (hx-get). It shows the loading dots again each time it opens, not the
  // menu of the row it was last opened on; a link or action chosen in it closes it.
  document.addEventListener("beforetoggle", function (event) {
    var menu = event.target;
    if (!menu.matches || !menu.matches("[data-row-menu]") || event.newState !== "open") return;
    if (!menu.dataset.placeholder) menu.dataset.placeholder = menu.innerHTML;
    else menu.innerHTML = menu.dataset.placeholder;
  }, true);
  document.addEventListener("htmx:beforeRequest", function (event) {
    var menu = event.target.closest && event.target.closest("[data-row-menu]");
    if (menu && menu.matches(":popover-open")) menu.hidePopover();
  });

  syncToggles();
  watchToasts();
  liveScan(document);
  prepareTargets(document);
  foldFilters(document);
  restoreScroll();  // after folding: the page has its final height
})();
