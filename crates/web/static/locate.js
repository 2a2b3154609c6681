// "Use my location" (button #locate): puts the phone's position (WGS-84) into #lon and #lat and
// says so in #where; with data-submit, sends that form at once. The words shown come from the
// button's data-t-* attributes, in the page's language.
(function () {
  var b = document.getElementById('locate'), w = document.getElementById('where');
  if (!b) return;
  var t = b.dataset;
  b.addEventListener('click', function () {
    if (!navigator.geolocation) { w.textContent = t.tNone; return; }
    w.textContent = t.tBusy;
    navigator.geolocation.getCurrentPosition(function (p) {
      document.getElementById('lon').value = p.coords.longitude.toFixed(6);
      document.getElementById('lat').value = p.coords.latitude.toFixed(6);
      if (t.submit) { document.getElementById(t.submit).submit(); return; }
      w.textContent = t.tDone + ' ' + p.coords.latitude.toFixed(5) + ', ' + p.coords.longitude.toFixed(5);
    }, function () { w.textContent = t.tFail; }, {enableHighAccuracy: true, timeout: 15000});
  });
})();
