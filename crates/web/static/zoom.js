// Pan (drag, arrow keys), zoom (wheel, + and −, the buttons) and reset (0) for every
// `svg.map[data-zoom]`, by moving its viewBox; a click that ended a drag does not follow the link.
document.querySelectorAll('svg.map[data-zoom]').forEach(function (svg) {
  var b = svg.viewBox.baseVal, home = [b.x, b.y, b.width, b.height], v = home.slice(), drag = null, moved = false;
  function set() { svg.setAttribute('viewBox', v.join(' ')); svg.style.setProperty('--zoom', home[2] / v[2]); }
  function zoom(f, cx, cy) {
    if (cx === undefined) { cx = v[0] + v[2] / 2; cy = v[1] + v[3] / 2; }
    var w = Math.min(home[2], Math.max(home[2] / 50, v[2] * f)), k = w / v[2];
    v = [cx - (cx - v[0]) * k, cy - (cy - v[1]) * k, w, v[3] * k]; set();
  }
  function pan(dx, dy) { v[0] += dx * v[2]; v[1] += dy * v[3]; set(); }
  function at(e) { var r = svg.getBoundingClientRect(); return [v[0] + (e.clientX - r.left) / r.width * v[2], v[1] + (e.clientY - r.top) / r.height * v[3]]; }
  svg.addEventListener('wheel', function (e) { e.preventDefault(); var p = at(e); zoom(e.deltaY < 0 ? 0.8 : 1.25, p[0], p[1]); }, {passive: false});
  svg.addEventListener('pointerdown', function (e) { drag = [e.clientX, e.clientY, v[0], v[1]]; moved = false; });
  window.addEventListener('pointermove', function (e) {
    if (!drag) return;
    var r = svg.getBoundingClientRect(), dx = e.clientX - drag[0], dy = e.clientY - drag[1];
    if (Math.abs(dx) + Math.abs(dy) > 4) moved = true;
    if (moved) { v[0] = drag[2] - dx / r.width * v[2]; v[1] = drag[3] - dy / r.height * v[3]; set(); }
  });
  window.addEventListener('pointerup', function () { drag = null; });
  svg.addEventListener('click', function (e) { if (moved) { e.preventDefault(); moved = false; } }, true);
  svg.addEventListener('keydown', function (e) {
    var keys = {'+': function () { zoom(0.8); }, '=': function () { zoom(0.8); }, '-': function () { zoom(1.25); },
      '0': function () { v = home.slice(); set(); }, ArrowLeft: function () { pan(-0.1, 0); }, ArrowRight: function () { pan(0.1, 0); },
      ArrowUp: function () { pan(0, -0.1); }, ArrowDown: function () { pan(0, 0.1); }};
    if (keys[e.key]) { e.preventDefault(); keys[e.key](); }
  });
  document.querySelectorAll('[data-map="' + svg.id + '"] button').forEach(function (btn) {
    btn.hidden = false;
    btn.addEventListener('click', function () {
      if (btn.dataset.act === 'in') zoom(0.8); else if (btn.dataset.act === 'out') zoom(1.25); else { v = home.slice(); set(); }
    });
  });
});
