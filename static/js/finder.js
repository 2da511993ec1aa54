/* Progressive enhancement only: every page works without this file.
   - Marks the page as scripted (html.js): what only the page without it needs (the
     Sort button) is hidden by the stylesheet.
   - On wide screens the search-and-filters panel starts open.
   - Ticking a filter or changing the sort updates the results without a reload: the
     server renders the same HTML it would for the full page. The request follows the
     server's redirect to the search's one address (search/page.py canonical_query), so
     the address bar shows exactly what the form without JavaScript ends at, and a
     reload or a shared link shows the same page. The heading, the panel's summary and
     the count on its sticky "Show N programs" button follow; the count is announced.
   - Typed fields (a place, a name) still wait for the button, which then sends the
     form; otherwise the button closes the panel on a phone and moves to the results. */
(function () {
  "use strict";

  document.documentElement.classList.add("js");

  var panel = document.getElementById("filters");
  var wide = window.matchMedia && window.matchMedia("(min-width: 60em)").matches;
  if (panel && panel.hasAttribute("data-open-wide") && wide) {
    panel.open = true;
  }

  var form = document.getElementById("filter-form");
  var results = document.getElementById("results");
  if (!form || !results || !window.fetch || !window.DOMParser || !window.URLSearchParams) {
    return;
  }

  var showButton = document.getElementById("show-results");
  var status = document.createElement("p");
  status.className = "visually-hidden";
  status.setAttribute("role", "status");
  (document.getElementById("filter-actions") || form).appendChild(status);

  var controller = null;
  var timer = null;
  var loading = false;
  var typed = false;  // a text field changed: only sending the form reads it
  var flashTimer = null;

  function urlFor(someForm) {
    var params = new URLSearchParams(new FormData(someForm));
    return someForm.getAttribute("action") + "?" + params.toString();
  }

  function showCount() {
    if (!showButton) { return; }
    var heading = results.querySelector(".result-count[data-count]");
    var count = heading ? parseInt(heading.getAttribute("data-count"), 10) : NaN;
    if (isNaN(count)) {
      showButton.textContent = "Show programs";
    } else if (count === 0) {
      showButton.textContent = "No programs match: see other options";
    } else {
      showButton.textContent = "Show " + count + " program" + (count === 1 ? "" : "s");
    }
  }

  function flash() {
    if (!showButton) { return; }
    showButton.classList.remove("is-updating");
    showButton.classList.add("just-updated");
    window.clearTimeout(flashTimer);
    flashTimer = window.setTimeout(function () {
      showButton.classList.remove("just-updated");
    }, 1200);
  }

  // Text (not markup) of the parts outside #results that say what the search is.
  function copyText(page, id) {
    var fresh = page.getElementById(id);
    var current = document.getElementById(id);
    if (fresh && current) { current.textContent = fresh.textContent; }
  }

  function load(url) {
    if (controller) { controller.abort(); }
    controller = window.AbortController ? new AbortController() : null;
    loading = true;
    results.setAttribute("aria-busy", "true");
    if (showButton) { showButton.classList.add("is-updating"); }
    var focusedId = results.contains(document.activeElement) ? document.activeElement.id : "";
    var finalUrl = url;
    fetch(url, {
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" },
      signal: controller ? controller.signal : undefined
    }).then(function (response) {
      finalUrl = response.url || url;  // where the server's redirect ended: the address
      return response.text();
    }).then(function (html) {
      var page = new DOMParser().parseFromString(html, "text/html");
      var fresh = page.getElementById("results");
      if (!fresh) { window.location.assign(finalUrl); return; }
      results.innerHTML = fresh.innerHTML;
      copyText(page, "results-title");
      copyText(page, "filters-summary");
      var skip = document.getElementById("skip-results");
      var freshSkip = page.getElementById("skip-results");
      if (skip && freshSkip) { skip.setAttribute("href", freshSkip.getAttribute("href")); }
      document.title = page.title;
      window.history.replaceState(null, "", finalUrl);
      var heading = results.querySelector(".result-count, .error-summary h2");
      status.textContent = heading ? heading.textContent.replace(/\s+/g, " ").trim() : "";
      results.removeAttribute("aria-busy");
      loading = false;
      showCount();
      flash();
      var refocus = focusedId && document.getElementById(focusedId);
      if (refocus) { refocus.focus(); }
    }).catch(function (error) {
      if (error && error.name === "AbortError") { return; }
      window.location.assign(finalUrl);
    });
  }

  showCount();

  form.addEventListener("input", function (event) {
    if (event.target && event.target.type === "text") { typed = true; }
  });

  form.addEventListener("change", function (event) {
    var target = event.target;
    if (!target || target.type === "text") { return; }
    window.clearTimeout(timer);
    if (showButton) { showButton.classList.add("is-updating"); }
    timer = window.setTimeout(function () { timer = null; load(urlFor(form)); }, 350);
  });

  form.addEventListener("submit", function (event) {
    // Something typed, or results still on their way: send the form (a full page).
    if (typed || timer || loading) { return; }
    event.preventDefault();
    if (!wide && panel) { panel.open = false; }
    results.focus();
  });

  // The sort control lives in the results and is replaced with them: listen on the container.
  results.addEventListener("change", function (event) {
    var target = event.target;
    if (!target || !target.hasAttribute("data-autosubmit")) { return; }
    var hidden = form.querySelector("input[type=hidden][name=ordering]");
    if (!hidden) {
      hidden = document.createElement("input");
      hidden.type = "hidden";
      hidden.name = "ordering";
      form.appendChild(hidden);
    }
    hidden.value = target.value;
    load(urlFor(target.form));
  });
})();
