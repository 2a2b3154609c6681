// "Something else" (#matter_other): the matters whose name matches what is typed, offered in
// the #matter-list datalist.
(function () {
  var q = document.getElementById('matter_other'), l = document.getElementById('matter-list'), t;
  if (!q || !l) return;
  q.addEventListener('input', function () {
    clearTimeout(t);
    t = setTimeout(function () {
      if (!q.value.trim()) return;
      fetch('/api/v1/taxonomy/matters?limit=10&q=' + encodeURIComponent(q.value.trim()))
        .then(function (r) { return r.json(); })
        .then(function (d) {
          l.innerHTML = '';
          (d.matters || d.results || d || []).forEach(function (m) {
            var o = document.createElement('option'); o.value = m.code + ' ' + m.name; l.appendChild(o);
          });
        }).catch(function () {});
    }, 250);
  });
})();
