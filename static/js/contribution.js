// A contribution's public page: a small map with its point, line or area among the buurten
// and the open layers the resident has switched on.

import { categoryIcon, config, createMap, focusOn, readJSON, request, shapeStyle } from "./common.js";
import { addTileLayers } from "./layers/tiles.js";

const feature = readJSON("kaart-feature");
const { category } = feature.properties;
const container = document.getElementById("detail-map");
const map = createMap(container, { zoom: 17, leaflet: { scrollWheelZoom: false } });
window.kaartMap = map;

const layer = L.geoJSON(feature, {
  style: () => shapeStyle(category),
  interactive: false,
  pointToLayer: (_feature, latlng) =>
    L.marker(latlng, { icon: categoryIcon(category, "point"), interactive: false, keyboard: false }),
}).addTo(map);

focusOn(map, layer);
addTileLayers(map);

// Near a home the point is the centre of a grid cell (location privacy): a dashed ring of the
// same "± 50 m" the page states shows that the place is approximate.
if (feature.properties.location === "approximate" && feature.geometry.type === "Point") {
  const [lng, lat] = feature.geometry.coordinates;
  L.circle([lat, lng], {
    radius: config.privacy.cell_m,
    color: "#154273",
    weight: 2,
    dashArray: "6 6",
    fillOpacity: 0.06,
    interactive: false,
  }).addTo(map);
}

// The open-data object the contribution is about (a BAG pand, a green area): drawn under it as
// a dashed outline, or a ring for a point object. The page reads fine without it.
const about = feature.properties.object;
if (about && about.layer && about.id) {
  const url = `/api/v1/layers/${encodeURIComponent(about.layer)}/features/${encodeURIComponent(about.id)}`;
  request(url).then((result) => {
    if (!result.ok || !result.data || !result.data.geometry) return;
    const outline = L.geoJSON(result.data, {
      style: () => ({ color: "#154273", weight: 3, dashArray: "6 4", fill: true, fillOpacity: 0.08 }),
      pointToLayer: (_f, latlng) =>
        L.circleMarker(latlng, { radius: 12, color: "#154273", weight: 3, dashArray: "4 3", fill: false }),
      interactive: false,
    }).addTo(map);
    outline.bringToBack();
    container.dataset.objectShown = "true";
  });
}
