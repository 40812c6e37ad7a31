// Hover prefetch of row pages: resting on a list row's link (or any a[data-prefetch]), or
// focusing it (j/k), for 65 ms fetches the page's htmx fragment once; a click then shows that answer
// instead of asking again. A click that comes while the prefetch is still on its way waits
// for it (one request, never two). Only plain GET links to row pages are prefetched (never
// a link with side effects), and nothing is prefetched with Save-Data on or on a 2G link.
(function () {
  "use strict";
  var DELAY_MS = 65;
  var FRESH_MS = 15000;   // an answer older than this is not used (the row may have changed)
  var SELECTOR = "#list-results .ha-rows a.r, a[data-prefetch]";
  var cache = new Map();  // URL -> {promise: Promise<{text, url}|null>, at: time}
  var timer = null;

  function disabled() {
    var connection = navigator.connection;
    return !!(connection && (connection.saveData || /(^|-)2g$/.test(connection.effectiveType || "")));
  }

  function candidate(target) {
    var link = target && target.closest && target.closest(SELECTOR);
    if (!link || link.target || link.hasAttribute("download") || link.origin !== location.origin) return null;
    if (link.closest('[hx-boost="false"]')) return null;
    if (/\/(delete|logout|action|restore|revert)(\/|$)/.test(link.pathname)) return null;
    return link;
  }

  function prefetch(link) {
    if (!link.isConnected) return;
    var url = link.pathname + link.search;
    var entry = cache.get(url);
    if (entry && Date.now() - entry.at < FRESH_MS) return;
    var headers = {
      "HX-Request": "true", "HX-Boosted": "true", "HX-Target": "main",
      "HX-Current-URL": location.href, "X-Hyper-Admin-Prefetch": "1",
    };
    cache.set(url, {
      at: Date.now(),
      promise: fetch(url, { headers: headers, credentials: "same-origin" }).then(function (response) {
        // Anything but a plain page (an error, a redirect, an HX-* instruction) is not used:
        // the click asks again and htmx handles it as usual.
        var plain = response.status === 200 && !response.redirected
          && !response.headers.get("HX-Location") && !response.headers.get("HX-Redirect")
          && !response.headers.get("HX-Retarget");
        return plain ? response.text().then(function (text) { return { text: text, url: url }; }) : null;
      }).catch(function () { return null; }),
    });
  }

  function schedule(event) {
    if (disabled()) return;
    var link = candidate(event.target);
    if (!link) return;
    clearTimeout(timer);
    timer = setTimeout(function () { prefetch(link); }, DELAY_MS);
  }
  document.addEventListener("mouseover", schedule);
  document.addEventListener("focusin", schedule);
  document.addEventListener("mouseout", function (event) {
    var link = candidate(event.target);
    if (link && !link.contains(event.relatedTarget)) clearTimeout(timer);
  });

  // The click: htmx asks for confirmation before each request; a prefetched link answers it.
  document.addEventListener("htmx:confirm", function (event) {
    var detail = event.detail;
    if (detail.verb !== "get" || !detail.elt || detail.elt.tagName !== "A") return;
    var url = detail.elt.pathname + detail.elt.search;
    var entry = cache.get(url);
    clearTimeout(timer);  // the click's own focus must not prefetch again
    if (!entry) return;
    cache.delete(url);
    if (Date.now() - entry.at > FRESH_MS) return;
    event.preventDefault();
    var loading = document.getElementById("loading");
    if (loading) loading.classList.add("htmx-request");
    entry.promise.then(function (answer) {
      if (loading) loading.classList.remove("htmx-request");
      if (!answer) { detail.issueRequest(true); return; }
      // As htmx does for its own navigations, so that Back restores (here: reloads) the list.
      history.replaceState({ htmx: true }, document.title, location.href);
      history.pushState({ htmx: true }, "", answer.url);
      htmx.swap("#main", answer.text, {
        swapStyle: "outerHTML", swapDelay: 0, settleDelay: 20, show: "top", showTarget: "window",
      });
    });
  });
  // A write may change any page: forget what was fetched before it.
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (event.detail.requestConfig && event.detail.requestConfig.verb !== "get") cache.clear();
  });
})();
