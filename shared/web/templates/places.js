(function(){
"use strict";
var r=document.getElementById("f-regency_code"),d=document.getElementById("f-district_code"),v=document.getElementById("f-village_code");
var refresh=document.getElementById("places-refresh");
if(r&&d&&v&&window.fetch&&window.JSON){
  var base=d.getAttribute("data-places"),loaded=r.value,districts=null;
  // The selects follow the regency by themselves: the no-JS button is not needed.
  if(refresh)refresh.hidden=true;
  function reset(s){while(s.options.length>1)s.remove(1);s.value="";}
  function fill(s,items){var i,o;reset(s);for(i=0;i<items.length;i++){o=document.createElement("option");o.value=items[i].code;o.textContent=items[i].name;s.appendChild(o);}}
  function villages(){var i,code=d.value;reset(v);if(!districts||!code)return;for(i=0;i<districts.length;i++){if(districts[i].code===code){fill(v,districts[i].villages);return;}}}
  function load(keep){
    var code=r.value;
    if(code===loaded&&districts)return;
    loaded=code;districts=null;
    if(!keep){reset(d);reset(v);}
    if(!code)return;
    fetch(base+encodeURIComponent(code),{headers:{"Accept":"application/json"}}).then(function(answer){
      if(!answer.ok)throw new Error(answer.status);
      return answer.json();
    }).then(function(data){
      if(r.value!==code)return;
      var chosen=d.value,village=v.value;
      districts=data.districts;
      fill(d,districts);d.value=chosen;if(d.value!==chosen)d.value="";
      villages();v.value=village;if(v.value!==village)v.value="";
    }).catch(function(){if(refresh)refresh.hidden=false;});
  }
  r.addEventListener("change",function(){load(false);});
  document.getElementById("f-province_code").addEventListener("change",function(){load(false);});
  d.addEventListener("change",villages);
  // A page shown again (errors) keeps its chosen district: load its villages list quietly.
  if(r.value){loaded="";load(true);}
}
var geo=document.getElementById("geo-button"),lat=document.getElementById("f-latitude"),lon=document.getElementById("f-longitude"),say=document.getElementById("geo-status");
if(geo&&lat&&lon&&say&&navigator.geolocation){
  geo.hidden=false;
  geo.addEventListener("click",function(){
    say.textContent=geo.getAttribute("data-busy");
    geo.disabled=true;
    navigator.geolocation.getCurrentPosition(function(at){
      geo.disabled=false;
      lat.value=at.coords.latitude.toFixed(6);
      lon.value=at.coords.longitude.toFixed(6);
      say.textContent=geo.getAttribute("data-done").replace("{m}",String(Math.round(at.coords.accuracy)));
    },function(failed){
      geo.disabled=false;
      say.textContent=geo.getAttribute(failed.code===1?"data-denied":failed.code===3?"data-timeout":"data-unavailable");
    },{enableHighAccuracy:false,timeout:15000,maximumAge:60000});
  });
}
})();
