/* Progressive enhancement only: every page works without this file.
   - On wide screens the search-and-filters panel starts open.
   - Ticking a filter or changing the sort updates the results without a reload
     (the server renders the same HTML it would for the full page), and the new
     count is announced to screen readers. Typed fields still wait for the button. */
(function () {
  "use strict";

  var panel = document.getElementById("filters");
  if (panel && panel.hasAttribute("data-open-wide") &&
      window.matchMedia && window.matchMedia("(min-width: 60em)").matches) {
    panel.open = true;
  }

  var form = document.getElementById("filter-form");
  var results = document.getElementById("results");
  if (!form || !results || !window.fetch || !window.DOMParser || !window.URLSearchParams) {
    return;
  }

  var status = document.createElement("p");
  status.className = "visually-hidden";
  status.setAttribute("role", "status");
  form.appendChild(status);

  var controller = null;
  var timer = null;

  function urlFor(someForm) {
    var params = new URLSearchParams(new FormData(someForm));
    return someForm.getAttribute("action") + "?" + params.toString();
  }

  function load(url) {
    if (controller) { controller.abort(); }
    controller = window.AbortController ? new AbortController() : null;
    results.setAttribute("aria-busy", "true");
    fetch(url, {
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" },
      signal: controller ? controller.signal : undefined
    }).then(function (response) {
      return response.text();
    }).then(function (html) {
      var page = new DOMParser().parseFromString(html, "text/html");
      var fresh = page.getElementById("results");
      if (!fresh) { window.location.assign(url); return; }
      results.innerHTML = fresh.innerHTML;
      document.title = page.title;
      window.history.replaceState(null, "", url);
      var heading = results.querySelector(".result-count, .error-summary h2");
      status.textContent = heading ? heading.textContent.replace(/\s+/g, " ").trim() : "";
      results.removeAttribute("aria-busy");
    }).catch(function (error) {
      if (error && error.name === "AbortError") { return; }
      window.location.assign(url);
    });
  }

  form.addEventListener("change", function (event) {
    var target = event.target;
    if (!target || target.type === "text") { return; }
    window.clearTimeout(timer);
    timer = window.setTimeout(function () { load(urlFor(form)); }, 350);
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
