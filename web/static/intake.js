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
    // A form the phone system opened for a call is that call's: no older draft fills it.
    if (document.getElementById("call-banner")) {
      try { store.removeItem(DRAFT); } catch (e) { /* ignore */ }
      return;
    }
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

  function checked(name) {
    var c = form.querySelector("input[name=" + name + "]:checked");
    return c ? c.value : "";
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
        detail: form.elements.detail.value,
        kind: checked("kind"),
        urgency: form.elements.urgency.value,
        line: form.elements.line.value
      });
      var mine = ++seq;
      fetch(form.getAttribute("data-hints") + "?" + q.toString(), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (h) { if (h && mine === seq) { render(h); } })
        .catch(function () { /* hints are help, never a blocker */ });
    }, 300);
  }
  // Every action in the hints is out of the Tab order (phone → Tab → name must always work)
  // and has a shortcut shown beside it: Alt+1 … Alt+9, in the order shown.
  var actions = [];
  function action(el) {
    el.tabIndex = -1;
    if (actions.length < 9) {
      actions.push(el);
      var k = text("kbd", "Alt+" + actions.length);
      k.setAttribute("aria-hidden", "true");
      el.appendChild(document.createTextNode(" "));
      el.appendChild(k);
      el.setAttribute("aria-keyshortcuts", "Alt+" + actions.length);
    }
    return el;
  }
  document.addEventListener("keydown", function (e) {
    if (!e.altKey || e.ctrlKey || e.metaKey || !/^[1-9]$/.test(e.key)) { return; }
    var el = actions[parseInt(e.key, 10) - 1];
    if (el) { e.preventDefault(); el.click(); }
  });
  function render(h) {
    actions = [];
    var historyLinks = [];
    deadline(h.deadline);
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
        a.tabIndex = -1;
        historyLinks.push(a);
        li.appendChild(a);
        li.appendChild(text("span", " · " + o.state_label + (o.unit_name ? " · " + o.unit_name : ""), "muted"));
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
          p.appendChild(text("small", (o.created_on || o.created_at.slice(0, 10)) + " · " + (o.state_label || "") +
            " · " + (o.unit_name || "未派单"), "dup-meta"));
          a.tabIndex = -1;
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
          action(merge);
          action(btn);
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
        action(btn);
        box.appendChild(btn);
        arts.appendChild(box);
      });
    }
    historyLinks.forEach(function (a) { action(a); });
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

  // The deadlines a dispatch now would give, before 派单 is pressed.
  function deadline(d) {
    var el = document.getElementById("deadline");
    if (!el) { return; }
    if (!d) { el.textContent = "选择诉求类型后，这里显示派单后的签收和办理时限。"; return; }
    el.textContent = "";
    el.appendChild(document.createTextNode("派单后：签收时限 "));
    el.appendChild(text("strong", d.sign_due.slice(5, 16)));
    el.appendChild(document.createTextNode("（" + d.sign_span + "）；按时签收则办理时限约 "));
    el.appendChild(text("strong", d.handle_due.slice(5, 16)));
    el.appendChild(document.createTextNode("（签收后 " + d.handle_span + "）。"));
  }

  // Unit pickers: a name, a code, or 拼音 initials (msz → 洣水镇) finds a unit; co-units
  // become tags removed with × or Backspace. Without JavaScript the inputs take names or
  // codes from the browser's own list.
  var units = Array.prototype.map.call(document.querySelectorAll("#unit-list option"), function (o) {
    var py = (o.getAttribute("data-py") || "").split(" ");
    return { name: o.value, code: o.getAttribute("data-code") || "", ini: py[0] || "", full: py[1] || "" };
  });
  function rank(u, q) {
    if (!q) { return 1; }
    if (u.name.indexOf(q) === 0 || u.ini.indexOf(q) === 0 || u.full.indexOf(q) === 0 || u.code.toLowerCase() === q) { return 3; }
    if (u.name.indexOf(q) >= 0 || u.code.toLowerCase().indexOf(q) === 0) { return 2; }
    var i = 0;
    for (var k = 0; k < u.ini.length && i < q.length; k++) { if (u.ini.charAt(k) === q.charAt(i)) { i++; } }
    return i === q.length ? 1 : 0;
  }
  function find(q) {
    q = q.trim().toLowerCase();
    return units.map(function (u) { return { u: u, r: rank(u, q) }; })
      .filter(function (x) { return x.r > 0; })
      .sort(function (a, b) { return b.r - a.r; })
      .slice(0, 8).map(function (x) { return x.u; });
  }
  function byToken(t) {
    t = t.trim();
    for (var i = 0; i < units.length; i++) {
      if (units[i].name === t || units[i].code === t) { return units[i]; }
    }
    return null;
  }
  var pickers = 0;
  function picker(input, onPick) {
    var list = document.createElement("ul");
    list.className = "picker-list";
    list.id = "picker-" + (++pickers);
    list.setAttribute("role", "listbox");
    list.hidden = true;
    input.removeAttribute("list");
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-controls", list.id);
    input.setAttribute("aria-expanded", "false");
    input.parentNode.insertBefore(list, input.nextSibling);
    var found = [], active = 0;
    function close() { list.hidden = true; input.setAttribute("aria-expanded", "false"); }
    function paint() {
      list.textContent = "";
      found.forEach(function (u, i) {
        var li = text("li", u.name);
        li.id = list.id + "-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", i === active ? "true" : "false");
        li.appendChild(text("small", u.code));
        li.addEventListener("mousedown", function (e) { e.preventDefault(); choose(i); });
        list.appendChild(li);
      });
      list.hidden = !found.length;
      input.setAttribute("aria-expanded", found.length ? "true" : "false");
      if (found.length) { input.setAttribute("aria-activedescendant", list.id + "-" + active); }
    }
    function choose(i) { var u = found[i]; close(); if (u) { onPick(u); } }
    input.addEventListener("input", function () {
      var q = input.value.trim();
      found = q ? find(q) : [];
      active = 0;
      paint();
    });
    input.addEventListener("keydown", function (e) {
      if (list.hidden) { return; }
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        active = (active + (e.key === "ArrowDown" ? 1 : found.length - 1)) % found.length;
        paint();
      } else if (e.key === "Enter") {
        e.preventDefault();
        choose(active);
      } else if (e.key === "Tab") {
        choose(active);
      } else if (e.key === "Escape") {
        e.stopPropagation();
        close();
      }
    });
    input.addEventListener("blur", close);
  }
  function unitPickers() {
    var main = document.getElementById("dispatch_unit");
    if (main) {
      picker(main, function (u) { main.value = u.name; save(); });
    }
    var co = document.getElementById("dispatch_co_units");
    if (!co) { return; }
    // The typed box finds units; the chosen ones are tags; a hidden field carries them.
    var carry = document.createElement("input");
    carry.type = "hidden";
    carry.name = co.name;
    co.removeAttribute("name");
    var box = document.createElement("div");
    box.className = "tags-box";
    box.setAttribute("aria-label", "已选协办单位");
    co.parentNode.insertBefore(box, co);
    co.parentNode.insertBefore(carry, co);
    var chosen = co.value.split(/[,，\s]+/).filter(function (t) { return t; })
      .map(function (t) { var u = byToken(t); return u ? u.name : t; });
    co.value = "";
    function paintTags() {
      box.textContent = "";
      chosen.forEach(function (t, i) {
        var tag = text("span", t, "tag");
        var x = text("button", "×");
        x.type = "button";
        x.tabIndex = -1;
        x.setAttribute("aria-label", "移除 " + t);
        x.addEventListener("click", function () { chosen.splice(i, 1); paintTags(); save(); });
        tag.appendChild(x);
        box.appendChild(tag);
      });
      carry.value = chosen.map(function (t) { var u = byToken(t); return u ? u.code : t; }).join(",");
    }
    picker(co, function (u) {
      if (chosen.indexOf(u.name) < 0) { chosen.push(u.name); }
      co.value = "";
      paintTags();
      save();
    });
    co.addEventListener("keydown", function (e) {
      if (e.key === "Backspace" && !co.value && chosen.length) { chosen.pop(); paintTags(); save(); }
    });
    paintTags();
  }

  // Phone and ID are checked as the operator leaves them, with the message beside the field.
  var checks = {};
  function check(input) {
    var msg = document.getElementById(input.id + "-msg");
    if (!msg) { return; }
    var mine = checks[input.id] = (checks[input.id] || 0) + 1;
    var q = new URLSearchParams({ field: input.name, value: input.value });
    fetch("/api/v1/intake/check?" + q.toString(), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (v) {
        if (!v || checks[input.id] !== mine) { return; }
        msg.textContent = "";
        if (v.ok) {
          input.removeAttribute("aria-invalid");
        } else {
          input.setAttribute("aria-invalid", "true");
          var e = text("span", v.message, "field-error");
          e.setAttribute("role", "alert");
          msg.appendChild(e);
        }
      })
      .catch(function () { /* the server checks again on 提交 */ });
  }
  Array.prototype.forEach.call(form.querySelectorAll("[data-check]"), function (input) {
    input.addEventListener("blur", function () { check(input); });
    input.addEventListener("input", function () {
      var msg = document.getElementById(input.id + "-msg");
      if (msg && input.getAttribute("aria-invalid")) { msg.textContent = ""; input.removeAttribute("aria-invalid"); }
    });
  });

  // The category shows its name as soon as a code is chosen.
  function categoryName() {
    var input = document.getElementById("category");
    var out = document.getElementById("category_name");
    if (!input || !out) { return; }
    var v = input.value.trim();
    var hit = null;
    Array.prototype.forEach.call(document.querySelectorAll("#category-list option"), function (o) {
      if (o.value === v || o.textContent === v) { hit = o; }
    });
    if (hit && hit.value !== v) { input.value = hit.value; }
    out.textContent = hit ? hit.textContent : (v ? "没有这个分类编码" : "");
  }

  // The three likeliest units for this category, town and words (from the county's closed
  // orders); a click puts one in 承办单位.
  var suggestBox = document.getElementById("suggest");
  var suggestTimer = null, suggestSeq = 0;
  function suggest() {
    if (!suggestBox) { return; }
    clearTimeout(suggestTimer);
    suggestTimer = setTimeout(function () {
      var q = new URLSearchParams({
        category: form.elements.category.value.trim(),
        town: form.elements.town.value.trim(),
        text: (form.elements.title.value + " " + form.elements.content.value).trim().slice(0, 400)
      });
      var mine = ++suggestSeq;
      fetch(suggestBox.getAttribute("data-suggest") + "?" + q.toString(), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (v) {
          if (!v || mine !== suggestSeq) { return; }
          while (suggestBox.firstChild) { suggestBox.removeChild(suggestBox.firstChild); }
          if (!v.items || !v.items.length) { return; }
          suggestBox.appendChild(text("span", "推荐：", "muted"));
          v.items.forEach(function (s) {
            var b = text("button", s.unit.name + " " + Math.round(s.confidence * 100) + "%", "chip");
            b.type = "button";
            b.tabIndex = -1;
            b.setAttribute("data-unit", s.unit.name);
            b.addEventListener("click", function () {
              var main = document.getElementById("dispatch_unit");
              if (main) { main.value = s.unit.name; save(); main.focus(); }
            });
            suggestBox.appendChild(b);
          });
        })
        .catch(function () { /* a suggestion is help, never a blocker */ });
    }, 500);
  }

  restore();
  unitPickers();
  categoryName();
  outcome();
  line();
  script();
  form.addEventListener("input", function (e) {
    save();
    var n = e.target.name;
    if (n === "caller_phone" || n === "content" || n === "title" || n === "detail" || n === "town") { hints(); }
    if (n === "category") { categoryName(); }
    if (n === "category" || n === "town" || n === "title" || n === "content") { suggest(); }
  });
  form.addEventListener("change", function (e) {
    save();
    if (e.target.name === "outcome") { outcome(); }
    if (e.target.name === "line") { line(); }
    if (e.target.name === "reject_code") { script(); }
    if (e.target.name === "kind" || e.target.name === "urgency" || e.target.name === "line") { hints(); }
  });
  form.addEventListener("submit", function () {
    try { store.removeItem(DRAFT); } catch (e) { /* ignore */ }
  });
  if (form.elements.caller_phone.value || form.elements.content.value || checked("kind")) { hints(); }
  if (form.elements.category.value || form.elements.content.value) { suggest(); }
})();
