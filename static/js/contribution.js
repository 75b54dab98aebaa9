// A contribution's public page: a small map with its point, line or area among the buurten
// and the open layers the resident has switched on.

import { categoryIcon, createMap, focusOn, readJSON, shapeStyle } from "./common.js";
import { addTileLayers } from "./layers.js";

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
