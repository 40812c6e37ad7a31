/* Upload forms (templates/hyper_admin/partials/file_field.html): the progress of a form's
   upload while htmx sends it, on the form's <progress data-upload-progress>. Only the form's
   own POST carrying a file moves the bar: a lookup or a row added inside the form does not.
   No inline script: the CSP forbids it. */
(function () {
  "use strict";

  var sending = new WeakMap(); // form -> its progress bar, while its upload is on the way

  function uploadForm(event) {
    var target = event.target;
    var form = target && target.closest ? target.closest("form[data-uploads]") : null;
    if (!form) return null;
    var config = (event.detail && event.detail.requestConfig) || {};
    var verb = (config.verb || "").toLowerCase();
    // The form itself, or one of its submit buttons, posting it.
    var own = target === form || (target.matches && target.matches("button[type=submit], input[type=submit]"));
    return own && verb === "post" ? form : null;
  }

  function hasFile(form) {
    var inputs = form.querySelectorAll("input[type=file]");
    for (var i = 0; i < inputs.length; i++) {
      if (inputs[i].files && inputs[i].files.length) return true;
    }
    return false;
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = uploadForm(event);
    if (!form || !hasFile(form)) return; // a save without a new file shows nothing
    var progress = form.querySelector("progress[data-upload-progress]");
    if (!progress) return;
    progress.value = 0;
    progress.removeAttribute("data-done");
    progress.classList.remove("hidden");
    sending.set(form, progress);
  });

  function tracked(event) {
    var target = event.target;
    var form = target && target.closest ? target.closest("form[data-uploads]") : null;
    return form && sending.has(form) ? form : null;
  }

  document.addEventListener("htmx:xhr:progress", function (event) {
    var form = tracked(event);
    var detail = event.detail || {};
    if (!form || !detail.lengthComputable || !detail.total) return;
    sending.get(form).value = Math.round((detail.loaded / detail.total) * 100);
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var form = tracked(event);
    if (!form || !uploadForm(event)) return;
    sending.get(form).setAttribute("data-done", "");
    sending.delete(form);
  });
})();
