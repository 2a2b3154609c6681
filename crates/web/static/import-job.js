// Polls the job's progress (JSON) twice a second; when it ends, the page reloads to show the outcome.
(function () {
  var bar = document.getElementById("bar"), line = document.getElementById("line");
  function poll() {
    fetch(location.pathname + ".json", {headers: {"Accept": "application/json"}})
      .then(function (r) { return r.json(); })
      .then(function (j) {
        bar.value = j.progress.percent; line.textContent = j.line;
        if (j.finished) { location.reload(); } else { setTimeout(poll, 500); }
      })
      .catch(function () { setTimeout(poll, 2000); });
  }
  setTimeout(poll, 300);
})();
