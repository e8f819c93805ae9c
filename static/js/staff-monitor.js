/* Live monitor: polls the campaign's JSON every 15 s and updates the numbers in place.
   The page is complete without this file; the container is aria-live="polite", so changes are announced. */
(function () {
  "use strict";
  var root = document.getElementById("monitor");
  if (!root || !window.fetch) { return; }
  var url = root.getAttribute("data-url");
  var seconds = parseInt(root.getAttribute("data-interval"), 10) || 15;

  function show(element, value) {
    var text = (value === null || value === undefined) ? "\u2013" : String(value) + (element.getAttribute("data-suffix") || "");
    if (element.textContent !== text) { element.textContent = text; }
  }

  function update(data) {
    root.querySelectorAll("[data-field]").forEach(function (element) {
      show(element, data[element.getAttribute("data-field")]);
    });
    root.querySelectorAll("[data-progress]").forEach(function (element) {
      var value = data[element.getAttribute("data-progress")];
      if (value !== null && value !== undefined) { element.value = value; }
    });
    (data.steps || []).forEach(function (step) {
      root.querySelectorAll('[data-step="' + step.key + '"]').forEach(function (element) {
        show(element, step[element.getAttribute("data-key")]);
      });
    });
    (data.quotas || []).forEach(function (quota) {
      var element = root.querySelector('[data-quota="' + quota.key + '"]');
      if (element) { show(element, quota.shown); }
    });
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) { if (data) { update(data); } })
      .catch(function () { /* try again at the next tick */ });
  }

  var note = root.querySelector("[data-updated]");
  if (note) { note.hidden = false; }
  window.setInterval(poll, seconds * 1000);
}());
