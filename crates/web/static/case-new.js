// The new-case form: matter search, possible duplicates nearby, and the point picked on the map.
(function () {
  var matter = document.getElementById('matter'), list = document.getElementById('matters'),
      hits = document.getElementById('matter-hits'), lon = document.getElementById('lon'),
      lat = document.getElementById('lat'), picked = document.getElementById('picked'),
      dup = document.getElementById('duplicates'), dupList = document.getElementById('duplicate-list'),
      zh = document.documentElement.lang !== 'en', timer = null;
  function code() { var m = /^\s*(\d{5,6})/.exec(matter.value); return m ? m[1] : ''; }
  function text(el, s) { el.textContent = s; return el; }
  matter.addEventListener('input', function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var q = matter.value.trim();
      if (!q) { hits.innerHTML = ''; return; }
      fetch('/api/v1/taxonomy/matters?limit=8&q=' + encodeURIComponent(q)).then(function (r) { return r.json(); }).then(function (j) {
        list.innerHTML = ''; hits.innerHTML = '';
        (j.matters || []).forEach(function (m) {
          var o = document.createElement('option'); o.value = m.code; o.label = m.name; list.appendChild(o);
          var li = document.createElement('li'), b = document.createElement('button');
          b.type = 'button'; b.className = 'matter-hit'; b.dataset.code = m.code;
          text(b, m.code + ' ' + m.name + ' · ' + m.major_name);
          b.addEventListener('click', function () {
            matter.value = m.code; hits.innerHTML = '';
            text(document.getElementById('matter-chosen'), m.code + ' ' + m.name + ' · ' + m.major_name);
            duplicates();
          });
          li.appendChild(b); hits.appendChild(li);
        });
      });
    }, 150);
  });
  matter.addEventListener('change', duplicates);
  function duplicates() {
    if (!code() || !lon.value || !lat.value) { dup.hidden = true; return; }
    fetch('/api/v1/cases/duplicates?matter=' + code() + '&lon=' + lon.value + '&lat=' + lat.value).then(function (r) { return r.json(); }).then(function (j) {
      dupList.innerHTML = '';
      (j.duplicates || []).forEach(function (d) {
        var li = document.createElement('li'), a = document.createElement('a');
        a.href = '/cases/' + d.id; text(a, d.number); li.appendChild(a);
        li.appendChild(document.createTextNode(' · ' + d.distance_m + ' m · ' + d.description));
        dupList.appendChild(li);
      });
      dup.hidden = !(j.duplicates || []).length;
    });
  }
  var svg = document.getElementById('pick-map');
  if (!svg) return;
  var p = svg.dataset.proj.split(' ').map(Number), NS = 'http://www.w3.org/2000/svg', pin = null, down = null;
  // A drag pans the map (the zoom script); only a click without one picks the point.
  svg.addEventListener('pointerdown', function (e) { down = [e.clientX, e.clientY]; });
  svg.addEventListener('click', function (e) {
    e.preventDefault();
    if (down && Math.abs(e.clientX - down[0]) + Math.abs(e.clientY - down[1]) > 4) return;
    var pt = svg.createSVGPoint(); pt.x = e.clientX; pt.y = e.clientY;
    var v = pt.matrixTransform(svg.getScreenCTM().inverse());
    var x = p[0] + (v.x - p[4]) / (p[2] * p[3]), y = p[1] - (v.y - p[4]) / p[3];
    lon.value = x.toFixed(6); lat.value = y.toFixed(6);
    if (!pin) { pin = document.createElementNS(NS, 'circle'); pin.setAttribute('class', 'pin'); pin.setAttribute('r', '5'); svg.appendChild(pin); }
    pin.setAttribute('cx', v.x); pin.setAttribute('cy', v.y);
    fetch('/api/v1/territory/locate?lon=' + lon.value + '&lat=' + lat.value).then(function (r) { return r.json(); }).then(function (j) {
      picked.textContent = j.grid ? (j.district.name + ' ' + j.street.name + ' ' + j.community.name + ' ' + j.grid.name + ' (' + j.grid.code + ')')
        : (zh ? '该点不在任何网格内' : 'this point is in no grid');
      if (j.grid) document.getElementById('grid_code').value = '';
    });
    duplicates();
  }, true);
})();
