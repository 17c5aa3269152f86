// Intake help while the operator types: caller history, duplicates, emergencies (no reload);
// the draft survives a refresh. Without JavaScript the form still works in full.
(function () {
  "use strict";
  var form = document.getElementById("intake");
  if (!form) { return; }
  document.documentElement.classList.add("js");
  // This session's draft (see app.js): kept for a refresh, never for the next user.
  var DRAFT = "hotline-draft:" + (document.body.getAttribute("data-draft-key") || "none");
  var store = window.sessionStorage;
  var skip = { csrf: 1, form_token: 1 };

  function save() {
    var data = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || skip[el.name]) { return; }
      if (el.type === "checkbox" || el.type === "radio") {
        if (el.checked) { (data[el.name] = data[el.name] || []).push(el.value); }
      } else { data[el.name] = el.value; }
    });
    try { store.setItem(DRAFT, JSON.stringify(data)); } catch (e) { /* private mode */ }
  }
  function restore() {
    var raw;
    try { raw = store.getItem(DRAFT); } catch (e) { return; }
    if (!raw) { return; }
    var data;
    try { data = JSON.parse(raw); } catch (e) { return; }
    // Values the server sent back (after an error) win over the draft.
    if (document.querySelector(".form-error, .field-error")) { return; }
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || skip[el.name] || !(el.name in data)) { return; }
      if (el.type === "checkbox" || el.type === "radio") {
        el.checked = data[el.name].indexOf(el.value) >= 0;
      } else { el.value = data[el.name]; }
    });
  }

  function show(selector, attr, value) {
    Array.prototype.forEach.call(document.querySelectorAll(selector), function (el) {
      el.hidden = el.getAttribute(attr) !== value;
    });
  }
  function outcome() {
    var c = form.querySelector("input[name=outcome]:checked");
    show(".outcome", "data-outcome", c ? c.value : "register");
  }
  function line() {
    show(".line-extra", "data-line", form.elements.line.value);
  }
  function script() {
    var sel = document.getElementById("reject_code");
    var opt = sel && sel.options[sel.selectedIndex];
    if (opt) { document.getElementById("reject_script").textContent = opt.getAttribute("data-script"); }
  }

  function text(tag, s, cls) {
    var el = document.createElement(tag);
    el.textContent = s;
    if (cls) { el.className = cls; }
    return el;
  }
  var timer = null, seq = 0;
  function hints() {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var q = new URLSearchParams({
        phone: form.elements.caller_phone.value,
        content: form.elements.title.value + " " + form.elements.content.value,
        town: form.elements.town.value,
        detail: form.elements.detail.value
      });
      var mine = ++seq;
      fetch(form.getAttribute("data-hints") + "?" + q.toString(), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (h) { if (h && mine === seq) { render(h); } })
        .catch(function () { /* hints are help, never a blocker */ });
    }, 300);
  }
  function render(h) {
    var hist = document.getElementById("history");
    hist.textContent = "";
    if (h.history && h.history.length) {
      hist.appendChild(text("h3", "历史来电 " + h.history.length + " 次"));
      var ul = document.createElement("ul");
      h.history.forEach(function (o) {
        var li = document.createElement("li");
        var a = text("a", o.created_at.slice(0, 10) + " " + o.title);
        a.href = "/orders/" + o.id;
        a.target = "_blank";
        li.appendChild(a);
        li.appendChild(text("span", " · " + o.state_label, "muted"));
        ul.appendChild(li);
      });
      hist.appendChild(ul);
    }
    var em = document.getElementById("emergency");
    var dup = document.getElementById("duplicates");
    em.hidden = true;
    em.textContent = "";
    dup.textContent = "";
    (h.warnings || []).forEach(function (w) {
      if (w.code === "emergency") {
        em.hidden = false;
        em.appendChild(text("strong", "紧急情况：" + w.words.join("、")));
        em.appendChild(text("p", "请告知来电人立即拨打 " + w.numbers.join(" / ") + "，必要时转接。"));
      }
      if (w.code === "blacklisted" || w.code === "repeat_harasser") {
        var band = text("p", w.code === "blacklisted"
          ? "黑名单号码：" + w.reason + "（复核日期 " + w.review_date + "）"
          : "反复骚扰：" + w.days + " 天内 " + w.incidents + " 次", "warning-band");
        hist.insertBefore(band, hist.firstChild);
      }
      if (w.code === "possible_duplicate") {
        dup.appendChild(text("h3", "疑似重复件"));
        w.orders.forEach(function (o) {
          var p = document.createElement("p");
          var a = text("a", o.number + " " + o.title);
          a.href = "/orders/" + o.id;
          a.target = "_blank";
          p.appendChild(a);
          p.appendChild(text("span", " 相似度 " + Math.round(o.score * 100) + "%", "muted"));
          var merge = text("button", "合并");
          merge.type = "button";
          merge.title = "登记本次来电并并入该工单";
          merge.addEventListener("click", function () {
            document.getElementById("merge_into").value = o.number;
            form.querySelector("input[name=outcome][value=merge]").checked = true;
            outcome();
            save();
          });
          var repeat = document.createElement("form");
          repeat.method = "post";
          repeat.action = "/orders/" + o.id + "/repeat_call";
          repeat.className = "inline";
          var csrf = document.createElement("input");
          csrf.type = "hidden";
          csrf.name = "csrf";
          csrf.value = form.elements.csrf.value;
          var note = document.createElement("input");
          note.type = "hidden";
          note.name = "note";
          note.value = form.elements.content.value.slice(0, 500);
          var btn = text("button", "作为重复来电追加");
          btn.type = "submit";
          repeat.appendChild(csrf);
          repeat.appendChild(note);
          repeat.appendChild(btn);
          repeat.addEventListener("submit", function () {
            try { store.removeItem(DRAFT); } catch (e) { /* ignore */ }
          });
          p.appendChild(merge);
          p.appendChild(repeat);
          dup.appendChild(p);
        });
      }
    });
    var arts = document.getElementById("articles");
    arts.textContent = "";
    if (h.articles && h.articles.length) {
      arts.appendChild(text("h3", "知识库"));
      h.articles.forEach(function (a) {
        var box = document.createElement("div");
        box.className = "article-hint";
        box.appendChild(text("strong", a.title + (a.doc_no ? "（" + a.doc_no + "）" : "")));
        box.appendChild(text("p", a.body.length > 120 ? a.body.slice(0, 120) + "…" : a.body));
        var btn = text("button", "引用答复");
        btn.type = "button";
        btn.addEventListener("click", function () {
          var answer = document.getElementById("answer_reply");
          answer.value = a.body;
          var ids = document.getElementById("answer_articles");
          var list = ids.value ? ids.value.split(",") : [];
          if (list.indexOf(String(a.id)) < 0) { list.push(String(a.id)); }
          ids.value = list.join(",");
          form.querySelector("input[name=outcome][value=answer]").checked = true;
          outcome();
          save();
          answer.focus();
        });
        box.appendChild(btn);
        arts.appendChild(box);
      });
    }
    document.getElementById("hint-idle").hidden = !!(hist.textContent || dup.textContent || arts.textContent || !em.hidden);
  }

  // When the session's idle time passes, the draft and the form are erased and the page
  // goes to the sign-in form, so a caller's data does not wait on an unattended screen.
  var idle = parseInt(document.body.getAttribute("data-idle-secs"), 10) || 0;
  var idleTimer = null;
  function touch() {
    if (!idle) { return; }
    clearTimeout(idleTimer);
    idleTimer = setTimeout(function () {
      try { store.removeItem(DRAFT); } catch (e) { /* ignore */ }
      form.reset();
      window.location.href = "/login";
    }, idle * 1000);
  }
  ["input", "keydown", "mousedown"].forEach(function (ev) { document.addEventListener(ev, touch, true); });
  touch();

  restore();
  outcome();
  line();
  script();
  form.addEventListener("input", function (e) {
    save();
    var n = e.target.name;
    if (n === "caller_phone" || n === "content" || n === "title" || n === "detail" || n === "town") { hints(); }
  });
  form.addEventListener("change", function (e) {
    save();
    if (e.target.name === "outcome") { outcome(); }
    if (e.target.name === "line") { line(); }
    if (e.target.name === "reject_code") { script(); }
  });
  form.addEventListener("submit", function () {
    try { store.removeItem(DRAFT); } catch (e) { /* ignore */ }
  });
  if (form.elements.caller_phone.value || form.elements.content.value) { hints(); }
})();
