// Input kept across a sign-in (docs/pipeline.md, "When the session has expired").
//
// A request that finds the session expired answers 401 with HX-Redirect to the sign-in page,
// and htmx follows it with a full page load: the open form would be lost. Just before that,
// the fields of the form the request came from, and of any other open form that holds unsaved
// input (an add or edit form, an inline cell editor), go into sessionStorage (this tab only),
// keyed by the URL the form posts to. Sign-in sends the user back to the page they were on;
// when a form with that URL is in it again, the values are put back (the page brings a fresh
// CSRF token), the draft is removed and a notice says so. An inline cell editor is opened
// again first. Never kept: passwords, the CSRF token, files, names that look secret (as the
// server's SECRET_NAME). A draft older than an hour, or whose page has no such form, is dropped;
// signing out drops them all. Loaded with `defer` after htmx.
(function () {
  "use strict";
  var PREFIX = "hyper-admin-input:";
  var MAX_AGE_MS = 60 * 60 * 1000;
  var FORMS = "form[data-warn-unsaved], form[data-inline-edit]";
  var SECRET = /^(password.*|.*_hash|.*token.*|secret.*|api_key.*)$/i;
  var SKIPPED_TYPES = ["password", "file", "submit", "button", "reset", "image"];

  function urlKey(url) {
    var parsed = new URL(url, location.href);
    return parsed.pathname + parsed.search;
  }
  function formKey(form) {
    return urlKey(form.getAttribute("hx-post") || form.getAttribute("action") || location.href);
  }
  function store() {
    try { return window.sessionStorage; } catch (e) { return null; }  // storage disabled
  }

  function kept(el) {
    if (!el.name || el.disabled || el.tagName === "BUTTON" || el.tagName === "FIELDSET") return false;
    if (el.matches("[data-fk-search]")) return false;  // the picker's search box: its label is kept
    if (SKIPPED_TYPES.indexOf((el.type || "").toLowerCase()) >= 0) return false;
    if (el.name === "csrf_token" || SECRET.test(el.name)) return false;
    return String(el.getAttribute("autocomplete") || "").indexOf("password") < 0;
  }
  function fields(form) {
    return Array.prototype.filter.call(form.elements, kept);
  }
  function defaultIndex(select) {
    for (var i = 0; i < select.options.length; i++) if (select.options[i].defaultSelected) return i;
    return 0;
  }
  function changed(el) {
    if (el.type === "checkbox" || el.type === "radio") return el.checked !== el.defaultChecked;
    if (el.tagName === "SELECT") {
      if (!el.multiple) return el.selectedIndex !== defaultIndex(el);
      return Array.prototype.some.call(el.options, function (o) { return o.selected !== o.defaultSelected; });
    }
    if (el.type === "hidden") return false;  // a hidden input's default follows its value
    return el.value !== el.defaultValue;
  }
  function pickers(form) {
    return Array.prototype.filter.call(form.querySelectorAll("[data-fk-picker]"), function (picker) {
      return picker.querySelector("[data-fk-value]");
    });
  }
  // Unsaved input: changed since the page came, or a form that came back with errors (its
  // fields hold input that was never saved, as their defaults).
  function unsaved(form) {
    if (fields(form).some(changed)) return true;
    if (pickers(form).some(function (p) {
      var search = p.querySelector("[data-fk-search]");
      return search && (p.dataset.label || "") !== search.defaultValue;
    })) return true;
    return !!form.querySelector('[aria-invalid="true"], [role="alert"], [data-conflict-field]');
  }

  function snapshot(form) {
    var draft = { at: Date.now(), page: urlKey(location.href), fields: [], labels: {} };
    fields(form).forEach(function (el) {
      if (el.type === "checkbox" || el.type === "radio") {
        draft.fields.push({ n: el.name, c: el.checked });
      } else if (el.tagName === "SELECT" && el.multiple) {
        draft.fields.push({ n: el.name, m: Array.prototype.filter.call(el.options, function (o) { return o.selected; })
          .map(function (o) { return o.value; }) });
      } else {
        draft.fields.push({ n: el.name, v: el.value });
      }
    });
    pickers(form).forEach(function (p) {
      draft.labels[p.querySelector("[data-fk-value]").name] = p.dataset.label || "";
    });
    return draft;
  }

  // Before htmx follows the 401's HX-Redirect (it does so right after this event).
  document.addEventListener("htmx:beforeOnLoad", function (event) {
    var xhr = event.detail.xhr;
    if (!xhr || xhr.status !== 401 || !xhr.getResponseHeader("HX-Redirect")) return;
    var storage = store();
    if (!storage) return;
    var source = event.detail.elt && event.detail.elt.closest ? event.detail.elt.closest(FORMS) : null;
    document.querySelectorAll(FORMS).forEach(function (form) {
      if (form !== source && !unsaved(form)) return;
      try { storage.setItem(PREFIX + formKey(form), JSON.stringify(snapshot(form))); } catch (e) { return; }
      // Not "Leave this page?": the input is kept (admin.js, forms marked data-warn-unsaved).
      form.dispatchEvent(new CustomEvent("hyper-admin:input-kept", { bubbles: true }));
    });
  });

  function fill(form, draft) {
    var byName = {};
    fields(form).forEach(function (el) { (byName[el.name] = byName[el.name] || []).push(el); });
    var seen = {};
    draft.fields.forEach(function (saved) {
      var index = seen[saved.n] || 0;
      seen[saved.n] = index + 1;
      var el = (byName[saved.n] || [])[index];
      if (!el) return;
      if ("c" in saved) {
        el.checked = saved.c;
      } else if (saved.m) {
        Array.prototype.forEach.call(el.options, function (o) { o.selected = saved.m.indexOf(o.value) >= 0; });
      } else {
        el.value = saved.v;
      }
      // Marks the form as changed (admin.js asks before leaving it unsaved).
      el.dispatchEvent(new Event("input", { bubbles: true }));
      el.dispatchEvent(new Event("change", { bubbles: true }));
    });
    pickers(form).forEach(function (p) {
      var name = p.querySelector("[data-fk-value]").name;
      if (!Object.prototype.hasOwnProperty.call(draft.labels || {}, name)) return;
      p.dataset.label = draft.labels[name];
      var search = p.querySelector("[data-fk-search]");
      if (search) search.value = draft.labels[name];
    });
    announce(form);
  }
  function announce(form) {
    var template = document.getElementById("input-restored");
    if (!template) return;
    var notice = template.content.firstElementChild.cloneNode(true);
    if (form.matches("[data-inline-edit]")) {
      var region = document.getElementById("toasts");  // a cell has no room: a toast
      if (region) region.appendChild(notice);
    } else {
      notice.setAttribute("data-input-restored", "");
      form.insertBefore(notice, form.firstChild);
    }
  }

  function cellButton(key) {
    return Array.prototype.find.call(document.querySelectorAll("[data-cell-edit][hx-get]"), function (button) {
      return urlKey(button.getAttribute("hx-get")) === key;
    });
  }
  function restore() {
    var storage = store();
    if (!storage) return;
    var here = urlKey(location.href);
    var forms = {};
    document.querySelectorAll(FORMS).forEach(function (form) { forms[formKey(form)] = form; });
    var keys = [];
    for (var i = 0; i < storage.length; i++) {
      if (storage.key(i).indexOf(PREFIX) === 0) keys.push(storage.key(i));
    }
    keys.forEach(function (storageKey) {
      var key = storageKey.slice(PREFIX.length), draft = null;
      try { draft = JSON.parse(storage.getItem(storageKey)); } catch (e) { /* dropped below */ }
      if (!draft || !draft.fields || Date.now() - draft.at > MAX_AGE_MS) {
        storage.removeItem(storageKey);
      } else if (forms[key]) {
        storage.removeItem(storageKey);
        fill(forms[key], draft);
      } else if (draft.page === here) {
        var button = cellButton(key);
        if (button && !button.hasAttribute("data-reopening")) {
          // The cell's editor comes back, then the next settle fills it.
          button.setAttribute("data-reopening", "");
          htmx.ajax("GET", button.getAttribute("hx-get"),
                    { source: button, target: button.closest("td"), swap: "innerHTML" });
        } else if (!button) {
          storage.removeItem(storageKey);  // back on its page, and the form is gone
        }
      }
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.getAttribute("action") || !/\/logout$/.test(urlKey(form.getAttribute("action")).split("?")[0])) return;
    var storage = store();
    if (!storage) return;
    for (var i = storage.length - 1; i >= 0; i--) {
      if (storage.key(i).indexOf(PREFIX) === 0) storage.removeItem(storage.key(i));
    }
  }, true);
  document.addEventListener("htmx:afterSettle", restore);
  // After htmx's own start (DOMContentLoaded, registered before this script ran): an inline
  // editor is reopened through htmx.
  if (document.readyState === "complete") restore();
  else document.addEventListener("DOMContentLoaded", restore);
})();
