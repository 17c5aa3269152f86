// Small conveniences on every page; everything works without them.
(function () {
  "use strict";
  document.addEventListener("click", function (e) {
    var t = e.target;
    if (t && t.hasAttribute && t.hasAttribute("data-print")) {
      e.preventDefault();
      window.print();
    }
  });
  // Ctrl+Enter submits the form the cursor is in.
  document.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      var el = document.activeElement;
      var form = el && el.form;
      if (form) {
        e.preventDefault();
        if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
      }
    }
    if (e.key === "Escape") {
      var open = document.querySelectorAll("details[open].action");
      if (open.length > 1) { open[open.length - 1].removeAttribute("open"); }
    }
  });
  // A form submits once, however often the button is pressed on a slow network.
  document.addEventListener("submit", function (e) {
    var f = e.target;
    if (f.method && f.method.toLowerCase() === "post") {
      if (f.dataset.sent) { e.preventDefault(); return; }
      f.dataset.sent = "1";
      setTimeout(function () { delete f.dataset.sent; }, 8000);
    }
  }, true);
})();
