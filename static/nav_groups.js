// The sidebar's groups (partials/nav.html): which ones the user collapsed is kept in the
// hyper_admin_nav_closed cookie, which the server reads to render each group open or closed,
// so that the state holds across reloads and htmx swaps without a flash. The group of the
// current page is always rendered open; closing it closes it until the next page. A file, not
// an inline script: the admin's Content-Security-Policy allows none.
(function () {
  "use strict";
  var COOKIE = "hyper_admin_nav_closed";

  function closedKeys() {
    var match = document.cookie.match(/(?:^|;\s*)hyper_admin_nav_closed=([^;]*)/);
    return match && match[1] ? match[1].split(",").filter(Boolean) : [];
  }

  function save(keys, path) {
    var value = keys.filter(function (key) { return /^[a-z0-9-]{1,80}$/.test(key); }).join(",");
    document.cookie = COOKIE + "=" + value + "; path=" + (path || "/") +
      "; max-age=31536000; SameSite=Lax";
  }

  document.addEventListener("toggle", function (event) {
    var details = event.target;
    if (!(details instanceof HTMLDetailsElement) || !details.dataset.navGroup) return;
    var list = details.closest("[data-nav-groups]");
    var key = details.dataset.navGroup;
    var keys = closedKeys().filter(function (k) { return k !== key; });
    if (!details.open) keys.push(key);
    save(keys, list && list.dataset.cookiePath);
  }, true); // toggle does not bubble: listened to while it goes down
})();
