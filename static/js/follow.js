// /volgen (templates/follow/follow.html): follow an area on the map — a circle of the chosen
// radius around the map's centre, placed by moving the map with the mouse, a finger or the
// arrow keys — or a buurt from the list. The form sends near_lon/near_lat only while "Volg dit
// gebied" is ticked, and the server takes one target, so choosing the one clears the other.

import { byId, createMap } from "./common.js";

const DECIMALS = 6; // about 10 cm: plenty for a circle of 100 m or more
const STILL_PX = 2; // a resize keeps the centre only to the pixel: that is not a move
const CIRCLE = { color: "#154273", weight: 3, fillOpacity: 0.12, interactive: false };

function setupFollowMap(area) {
  const use = byId("use-area");
  const radius = byId("radius");
  const buurt = byId("buurt");
  const near = { lon: byId("near_lon"), lat: byId("near_lat") };
  // Back from the server with an error: the map where the resident had put it.
  const [lon, lat] = near.lon.value
    ? [near.lon.value, near.lat.value].map(Number)
    : JSON.parse(area.dataset.center);
  const map = createMap(byId("follow-map"), {
    center: [lat, lon],
    zoom: 15,
    // Arrow keys pan the focused map; the wheel scrolls the page, not the map.
    leaflet: { keyboard: true, scrollWheelZoom: false },
  });
  const circle = L.circle(map.getCenter(), { ...CIRCLE, radius: Number(radius.value) }).addTo(map);
  let placed = map.getCenter();

  function fitCircle() {
    const zoom = map.getBoundsZoom(circle.getBounds());
    if (zoom < map.getZoom()) map.setZoom(zoom, { animate: false });
  }

  function fill() {
    const centre = map.getCenter().wrap();
    near.lon.value = centre.lng.toFixed(DECIMALS);
    near.lat.value = centre.lat.toFixed(DECIMALS);
  }

  /** The area is what to follow: tick it, fill in its centre, forget a chosen buurt. */
  function chooseArea() {
    use.checked = true;
    fill();
    if (buurt) buurt.value = "";
  }

  function forgetArea() {
    use.checked = false;
    near.lon.value = "";
    near.lat.value = "";
  }

  map.on("move", () => circle.setLatLng(map.getCenter()));
  map.on("moveend", () => {
    const moved = map.latLngToContainerPoint(placed).distanceTo(map.getSize().divideBy(2));
    if (moved < STILL_PX) return;
    placed = map.getCenter();
    chooseArea();
  });
  radius.addEventListener("change", () => {
    circle.setRadius(Number(radius.value));
    fitCircle();
    chooseArea();
  });
  use.addEventListener("change", () => (use.checked ? chooseArea() : forgetArea()));
  buurt?.addEventListener("change", () => {
    if (buurt.value) forgetArea();
  });
  fitCircle();
  if (use.checked) fill();
}

const area = byId("follow-area");
if (area) setupFollowMap(area);
