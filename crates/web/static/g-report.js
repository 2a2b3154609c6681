// The grid worker's report: kept in the phone (localStorage) until sent, each with its own
// Idempotency-Key, sent oldest first whenever the network is there.
(function(){
  var QK='gz_g_queue',f=document.getElementById('report'),busy=false;
  // The words shown, in the page's language, from the form's data-t-* attributes.
  var d=f.dataset,T={wait:d.tWait,sent:d.tSent,fixed:d.tFixed,full:d.tFull,bad:d.tBad,login:d.tLogin};
  function newKey(){var a=new Uint8Array(16);crypto.getRandomValues(a);return Array.prototype.map.call(a,function(b){return('0'+b.toString(16)).slice(-2);}).join('');}
  function load(){var q;try{q=JSON.parse(localStorage.getItem(QK)||'[]');}catch(e){q=[];}return q.concat(mem);}
  // Reports that did not fit in storage wait in memory (the page must stay open for them).
  var mem=[];
  function save(q){
    var keep=q.filter(function(r){return !r.mem;});
    try{localStorage.setItem(QK,JSON.stringify(keep));return true;}
    catch(e){var fl=document.getElementById('fail');fl.hidden=false;fl.textContent=T.full;return false;}
  }
  function show(){
    var q=load(),ul=document.getElementById('queue');ul.innerHTML='';
    document.getElementById('queue-title').hidden=!q.length;
    q.forEach(function(r){var li=document.createElement('li');li.className='waiting';li.setAttribute('data-key',r.key);
      li.textContent=T.wait+' · '+r.fields.description;ul.appendChild(li);});
  }
  function sentRow(r,d){var li=document.createElement('li');li.className='done';li.setAttribute('data-number',d.number);
    li.textContent=T.sent+' '+d.number+(d.self_handled?' · '+T.fixed:'')+' · '+r.fields.description;document.getElementById('sent').appendChild(li);}
  function toBlob(u){var p=u.split(','),m=/:(.*?);/.exec(p[0])[1],b=atob(p[1]),a=new Uint8Array(b.length);
    for(var i=0;i<b.length;i++)a[i]=b.charCodeAt(i);return new Blob([a],{type:m});}
  // One report over the network: resolves {ok, data} or {ok:false, refused}; rejects when offline.
  function send(r){
    if(!navigator.onLine)return Promise.reject(new Error('offline'));
    var fd=new FormData();
    Object.keys(r.fields).forEach(function(k){fd.append(k,r.fields[k]);});
    fd.set('csrf',f.elements.csrf.value);
    (r.files||[]).forEach(function(p){fd.append(p.field,toBlob(p.url),p.name||'photo.jpg');});
    return fetch('/g/report',{method:'POST',body:fd,credentials:'same-origin',
      headers:{'Accept':'application/json','Idempotency-Key':r.key}}).then(function(res){
      if(res.status>=500)throw new Error('server '+res.status);
      // Not signed in (or the session's token changed): keep the report and say so.
      if(res.status===401||res.status===403||res.status===429||res.redirected)return res.text().then(function(){return {keep:true,status:res.status};});
      return res.json().then(function(d){return {ok:res.ok,data:d};});
    });
  }
  // Sends what waits, oldest first, each with its own key; stops at the first network failure.
  function flush(){
    if(busy)return;var q=load();if(!q.length)return;busy=true;
    send(q[0]).then(function(a){
      if(a.keep){busy=false;var k=document.getElementById('fail');k.hidden=false;k.textContent=T.login+' ('+a.status+')';show();return;}
      mem=mem.filter(function(x){return x.key!==q[0].key;});
      var rest=load().filter(function(x){return x.key!==q[0].key;});save(rest);
      if(a.ok)sentRow(q[0],a.data);else{var e=document.getElementById('fail');e.hidden=false;e.textContent=T.bad+': '+((a.data.error&&a.data.error.message)||'');
        // Refused (e.g. no matter chosen): the fields go back into the form, to be corrected.
        Object.keys(q[0].fields).forEach(function(k){if(f.elements[k]&&!f.elements[k].value)f.elements[k].value=q[0].fields[k];});}
      busy=false;show();flush();
    },function(){busy=false;show();});
  }
  // The chosen photos as data URLs, kept with the report while it waits.
  function readPhotos(){
    return Promise.all(['photos','after_photos'].map(function(field){
      var file=f.elements[field].files[0];
      if(!file)return null;
      return new Promise(function(ok,no){var rd=new FileReader();rd.onload=function(){
        // A big camera photo is scaled to 1600 px (JPEG) so that waiting reports fit in storage.
        if(file.size<600*1024||!window.createImageBitmap){ok({field:field,url:rd.result,name:file.name});return;}
        createImageBitmap(file).then(function(img){
          var k=Math.min(1,1600/Math.max(img.width,img.height)),cv=document.createElement('canvas');
          cv.width=Math.round(img.width*k);cv.height=Math.round(img.height*k);cv.getContext('2d').drawImage(img,0,0,cv.width,cv.height);
          ok({field:field,url:cv.toDataURL('image/jpeg',0.82),name:file.name.replace(/\.[^.]*$/,'')+'.jpg'});
        },function(){ok({field:field,url:rd.result,name:file.name});});
      };rd.onerror=no;rd.readAsDataURL(file);});
    })).then(function(l){return l.filter(Boolean);});
  }
  f.addEventListener('submit',function(ev){
    ev.preventDefault();
    var fields={};['matter','matter_other','description','lon','lat','datum','handle_note'].forEach(function(k){fields[k]=f.elements[k].value;});
    fields.self_handle=f.elements.self_handle.checked?'1':'';
    var key=f.elements.idempotency_key.value;
    readPhotos().then(function(files){
      var r={key:key,fields:fields,files:files,at:Date.now()};
      var q=load();q.push(r);if(!save(q)){r.mem=true;mem.push(r);}
      f.reset();document.getElementById('where').textContent='';
      f.elements.idempotency_key.value=newKey();
      show();document.getElementById('queue').scrollIntoView({block:'center'});flush();
    });
  });
  window.addEventListener('online',flush);
  // Phones do not always say when the network is back: try again now and then too.
  setInterval(flush,20000);
  show();flush();
})();
