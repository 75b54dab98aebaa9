// /initiatieven/nieuw: put the initiative on the map with a click (or a tap); the latitude and
// longitude fields below the map are filled in, and typing in them moves the marker (keyboard).

import { byId, createMap } from "./common.js";

const DECIMALS = 6;
const holder = byId("initiative-map");
const lat = byId("lat");
const lon = byId("lon");

if (holder && lat && lon) {
  const [centreLon, centreLat] = JSON.parse(holder.dataset.center);
  const start = lat.value && lon.value ? [Number(lat.value), Number(lon.value)] : null;
  const map = createMap(holder, {
    center: start || [centreLat, centreLon],
    zoom: 16,
    leaflet: { keyboard: true, scrollWheelZoom: false },
  });
  let marker = start ? L.marker(start).addTo(map) : null;

  function place(latlng) {
    if (marker) marker.setLatLng(latlng);
    else marker = L.marker(latlng).addTo(map);
  }

  map.on("click", (event) => {
    place(event.latlng);
    lat.value = event.latlng.lat.toFixed(DECIMALS);
    lon.value = event.latlng.lng.toFixed(DECIMALS);
  });
  for (const input of [lat, lon]) {
    input.addEventListener("change", () => {
      const ll = [Number(lat.value), Number(lon.value)];
      if (ll.every(Number.isFinite) && lat.value && lon.value) place(ll);
    });
  }
}
