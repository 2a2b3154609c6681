// A patrol under way: the position every data-interval seconds (and on #ping), sent in batches
// to data-url; a batch that fails is sent with the next point.
(function(){
  var st=document.getElementById('tracking');
  if(!st)return;
  var url=st.dataset.url,csrf=st.dataset.csrf,interval=Number(st.dataset.interval),pending=[];
  function post(){
    if(!pending.length)return;var batch=pending.slice(0);
    fetch(url,{method:'POST',credentials:'same-origin',headers:{'Content-Type':'application/json','Accept':'application/json'},
      body:JSON.stringify({csrf:csrf,datum:'wgs84',points:batch})}).then(function(r){return r.ok?r.json():Promise.reject(r.status);}).then(function(d){
      pending=pending.slice(batch.length);
      document.getElementById('length').textContent=Math.round(d.length_m);document.getElementById('points').textContent=d.points;
    }).catch(function(){/* kept; sent with the next point */});
  }
  function tick(){
    if(!navigator.geolocation){st.textContent=st.dataset.tNone;return;}
    navigator.geolocation.getCurrentPosition(function(p){
      pending.push({lon:p.coords.longitude,lat:p.coords.latitude,accuracy:p.coords.accuracy,at:new Date().toISOString()});post();
    },function(){},{enableHighAccuracy:true,timeout:20000,maximumAge:5000});
  }
  document.getElementById('ping').addEventListener('click',tick);
  tick();setInterval(tick,interval*1000);
})();
