// The inbox count beside 待办 follows case changes live: each event (server-sent) reloads the counts.
(function () {
  var total = document.getElementById("nav-inbox-count");
  if (!total || !window.EventSource) return;
  var timer = null;
  function reload() {
    fetch("/inbox/counts.json", {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (j) {
        if (!j) return;
        total.textContent = j.total;
        document.querySelectorAll("[data-inbox-total]").forEach(function (e) { e.textContent = j.total; });
        document.querySelectorAll("[data-inbox-count]").forEach(function (e) {
          var n = j.inboxes[e.getAttribute("data-inbox-count")];
          if (n !== undefined) e.textContent = n;
        });
      });
  }
  // Only a visible page listens: a browser keeps six connections to a server, and each open tab
  // or page kept for the back button would otherwise hold one.
  var events = null;
  function listen() {
    if (events) return;
    events = new EventSource("/api/v1/events");
    events.onmessage = function () { clearTimeout(timer); timer = setTimeout(reload, 300); };
  }
  function stop() { if (events) { events.close(); events = null; } }
  document.addEventListener("visibilitychange", function () {
    if (document.hidden) { stop(); } else { listen(); reload(); }
  });
  window.addEventListener("pagehide", stop);
  window.addEventListener("pageshow", function (e) { if (e.persisted && !document.hidden) { listen(); reload(); } });
  if (!document.hidden) listen();
})();
