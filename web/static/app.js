// Small conveniences on every page; everything works without them.
(function () {
  "use strict";
  // Intake drafts hold a caller's data: they belong to one session of one user. Any draft
  // saved under another key (someone else, an ended session) is erased on every page, and
  // all of them when nobody is signed in; a registered order's draft goes at once.
  (function drafts() {
    var body = document.body;
    var mine = body.getAttribute("data-draft-key");
    var keep = mine ? "hotline-draft:" + mine : null;
    [window.sessionStorage, window.localStorage].forEach(function (store) {
      try {
        for (var i = store.length - 1; i >= 0; i--) {
          var k = store.key(i);
          if (k && (k.indexOf("hotline-draft") === 0 || k === "hotline-intake-draft") && k !== keep) {
            store.removeItem(k);
          }
        }
        if (keep && body.getAttribute("data-flash") === "registered") { store.removeItem(keep); }
      } catch (e) { /* storage disabled: nothing is kept either */ }
    });
  })();
  // The top bar's work counters (待派单 3 …), asked every 30 s while the page is in view.
  // The server does not count these requests as the person's activity.
  (function counters() {
    var box = document.querySelector("[data-counters]");
    if (!box || !window.fetch) { return; }
    function draw(items) {
      while (box.firstChild) { box.removeChild(box.firstChild); }
      items.forEach(function (c) {
        var a = document.createElement("a");
        a.href = c.href;
        a.className = "counter" + (c.count > 0 ? " some" : "");
        a.setAttribute("data-key", c.key);
        a.textContent = c.label + " " + (c.more ? "≥" : "") + c.count;
        box.appendChild(a);
      });
    }
    function poll() {
      if (document.hidden) { return; }
      window.fetch("/api/v1/me/counters", { credentials: "same-origin", headers: { "accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (v) { if (v && v.items) { draw(v.items); } })
        .catch(function () { /* offline for a moment: the next poll tries again */ });
    }
    poll();
    window.setInterval(poll, 30000);
    document.addEventListener("visibilitychange", poll);
  })();
  // The phone system's screen-pop: a call ringing at this session's seat opens the intake
  // form with the number filled in — unless a form is being filled in here already, which
  // keeps its words and gets a link to the new call instead.
  (function screenPop() {
    var url = document.body.getAttribute("data-events");
    if (!url || !window.EventSource) { return; }
    var source = new window.EventSource(url);
    source.addEventListener("call", function (e) {
      var d;
      try { d = JSON.parse(e.data); } catch (x) { return; }
      if (!d || !d.href || d.href.indexOf("/orders/new?call=") !== 0) { return; }
      var here = document.getElementById("call-banner");
      if (here && here.getAttribute("data-call") === d.call_id) { return; }
      var form = document.getElementById("intake");
      var busy = form && ["content", "title", "caller_name"].some(function (n) {
        return form.elements[n] && form.elements[n].value.trim() !== "";
      });
      if (!busy) { window.location.assign(d.href); return; }
      var box = document.getElementById("call-pop");
      if (!box) {
        box = document.createElement("p");
        box.id = "call-pop";
        box.className = "call-pop";
        box.setAttribute("role", "alert");
        document.body.insertBefore(box, document.body.firstChild);
      }
      while (box.firstChild) { box.removeChild(box.firstChild); }
      box.appendChild(document.createTextNode("新来电 " + (d.caller || "未显示号码") + "（" + d.seat + " 号席）"));
      var a = document.createElement("a");
      a.href = d.href;
      a.textContent = "登记这通来电";
      box.appendChild(document.createTextNode(" "));
      box.appendChild(a);
    });
    window.addEventListener("pagehide", function () { source.close(); });
  })();
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
    // Esc closes the action panel the cursor is in (else the last one opened) and puts
    // the cursor on its title, so the panel opens again with Enter.
    if (e.key === "Escape") {
      var at = document.activeElement;
      var panel = at && at.closest ? at.closest("details[open].action") : null;
      if (!panel) {
        var open = document.querySelectorAll("details[open].action");
        panel = open.length ? open[open.length - 1] : null;
      }
      if (panel) {
        panel.removeAttribute("open");
        var title = panel.querySelector("summary");
        if (title) { title.focus(); }
      }
    }
  });
  // A form submits once, however often the button is pressed on a slow network.
  document.addEventListener("submit", function (e) {
    var f = e.target;
    // Irreversible actions (不予受理, 撤单, 审结) ask once.
    var ask = f.getAttribute && f.getAttribute("data-confirm");
    if (ask && !f.dataset.sent && !window.confirm(ask)) { e.preventDefault(); return; }
    if (f.method && f.method.toLowerCase() === "post") {
      if (f.dataset.sent) { e.preventDefault(); return; }
      f.dataset.sent = "1";
      setTimeout(function () { delete f.dataset.sent; }, 8000);
    }
  }, true);
})();
