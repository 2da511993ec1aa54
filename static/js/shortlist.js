/* The shortlist, kept in this browser (localStorage): progressive enhancement only.
   Without this file "Save" is a plain GET form and the list lives in the page address
   (/shortlist/?ids=12,45); facilities/shortlist.py renders it either way.
   - "Save" toggles a program in the list (up to 10): "Saved ✓" and "Remove".
   - A "Shortlist (3)" link appears in the header while something is saved.
   - On the shortlist page: "Copy link", "Print", "Keep this list on this device", and
     "Remove" also forgets the program here. Nothing is ever sent to the server. */
(function () {
  "use strict";

  var KEY = "iop-finder-shortlist";
  var MAX = 10;
  var script = document.currentScript;
  var listPath = (script && script.getAttribute("data-shortlist-url")) || "/shortlist/";

  function isId(value) { return /^[1-9][0-9]{0,9}$/.test(String(value)); }

  function storageWorks() {
    try {
      window.localStorage.setItem(KEY + "-test", "1");
      window.localStorage.removeItem(KEY + "-test");
      return true;
    } catch (error) {
      return false;  // private modes, disabled storage: the address-based list still works
    }
  }
  if (!storageWorks()) { return; }

  function load() {
    var ids;
    try { ids = JSON.parse(window.localStorage.getItem(KEY) || "[]"); } catch (error) { ids = []; }
    if (!Array.isArray(ids)) { return []; }
    var seen = {};
    return ids.map(String).filter(function (id) {
      if (!isId(id) || seen[id]) { return false; }
      seen[id] = true;
      return true;
    }).slice(0, MAX);
  }

  function save(ids) {
    try { window.localStorage.setItem(KEY, JSON.stringify(ids)); } catch (error) { /* full */ }
  }

  function listUrl(ids) { return listPath + (ids.length ? "?ids=" + ids.join(",") : ""); }

  // One polite status line for what a button did (inside <main>: every landmark holds it).
  var main = document.getElementById("main") || document.body;
  var status = document.createElement("p");
  status.className = "visually-hidden";
  status.setAttribute("role", "status");
  main.appendChild(status);
  function say(text) { status.textContent = text; }

  // The header link, made here: without JavaScript there is no list to count.
  var headerLink = null;
  var nav = document.querySelector(".site-nav ul");
  if (nav) {
    var item = document.createElement("li");
    headerLink = document.createElement("a");
    headerLink.className = "shortlist-link";
    item.appendChild(headerLink);
    nav.appendChild(item);
  }

  function setText(element, text) {
    if (element && element.textContent !== text) { element.textContent = text; }
  }

  function render() {
    var ids = load();
    if (headerLink) {
      headerLink.parentNode.hidden = ids.length === 0;
      headerLink.setAttribute("href", listUrl(ids));
      setText(headerLink, "Shortlist (" + ids.length + ")");
    }
    var forms = document.querySelectorAll("form.save-form[data-shortlist-id]");
    for (var i = 0; i < forms.length; i++) {
      var saved = ids.indexOf(forms[i].getAttribute("data-shortlist-id")) !== -1;
      var mark = forms[i].querySelector(".saved-mark");
      if (mark && mark.hidden === saved) { mark.hidden = !saved; }
      setText(forms[i].querySelector(".save-label"), saved ? "Remove" : "Save");
      setText(forms[i].querySelector(".save-tail"), saved ? "from your shortlist" : "to your shortlist");
    }
    var page = document.querySelector("[data-shortlist-page]");
    var keep = document.querySelector("[data-shortlist-keep]");
    if (page && keep) {
      var shown = page.getAttribute("data-ids");
      var same = shown === ids.join(",");
      if (keep.hidden !== same) { keep.hidden = same; }
    }
  }

  function nameOf(form) {
    var heading = form.querySelector(".visually-hidden");
    var tail = form.querySelector(".save-tail");
    var text = heading ? heading.textContent : "";
    if (tail) { text = text.replace(tail.textContent, ""); }
    return text.trim() || "This program";
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form.save-form[data-shortlist-id]")) { return; }
    event.preventDefault();
    var id = form.getAttribute("data-shortlist-id");
    var ids = load();
    var at = ids.indexOf(id);
    if (at !== -1) {
      ids.splice(at, 1);
      save(ids);
      say(nameOf(form) + " removed from your shortlist. " + ids.length + " saved.");
    } else if (ids.length >= MAX) {
      say("Your shortlist is full (" + MAX + " programs). Remove one to save another.");
      return;
    } else {
      ids.push(id);
      save(ids);
      say(nameOf(form) + " saved. " + ids.length + " on your shortlist.");
    }
    render();
  });

  document.addEventListener("click", function (event) {
    var target = event.target.closest ? event.target.closest("a, button") : null;
    if (!target) { return; }
    if (target.matches("a.shortlist-remove[data-shortlist-id]")) {
      // The link goes on to the list without it; forget it here as well.
      var ids = load();
      var at = ids.indexOf(target.getAttribute("data-shortlist-id"));
      if (at !== -1) { ids.splice(at, 1); save(ids); }
    } else if (target.matches("[data-shortlist-keep]")) {
      var page = document.querySelector("[data-shortlist-page]");
      var shown = (page.getAttribute("data-ids") || "").split(",").filter(isId);
      save(shown.slice(0, MAX));
      render();
      say("This list is now saved on this device.");
    } else if (target.matches("[data-shortlist-copy]")) {
      copy(document.getElementById(target.getAttribute("data-shortlist-copy")));
    } else if (target.matches("[data-shortlist-print]")) {
      window.print();
    }
  });

  function copy(field) {
    if (!field) { return; }
    var done = function () { say("Link copied. Paste it in a message or an email."); };
    var fallback = function () {
      field.focus();
      field.select();
      try {
        if (document.execCommand("copy")) { done(); return; }
      } catch (error) { /* not allowed here */ }
      say("Select the link and copy it.");
    };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(field.value).then(done, fallback);
    } else {
      fallback();
    }
  }

  var controls = document.querySelectorAll("[data-shortlist-copy], [data-shortlist-print]");
  for (var i = 0; i < controls.length; i++) { controls[i].hidden = false; }

  // /shortlist/ without ids: show what this browser saved.
  var page = document.querySelector("[data-shortlist-page]");
  if (page && !page.getAttribute("data-ids") && !/[?&]ids=/.test(window.location.search)) {
    var stored = load();
    if (stored.length) { window.location.replace(listUrl(stored)); return; }
  }

  render();
  window.addEventListener("storage", function (event) { if (event.key === KEY) { render(); } });
  // finder.js replaces the results in place: give the new cards their state.
  var results = document.getElementById("results");
  if (results && window.MutationObserver) {
    new MutationObserver(render).observe(results, { childList: true, subtree: true });
  }
})();
