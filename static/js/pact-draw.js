// /beheer wijkpact forms: draw a pact's area (one polygon) or a commitment's places (any number of
// points, lines and areas) on the map, with the mouse or the keyboard (keyboard-draw.js). What is
// drawn travels as GeoJSON in the form's `geometry` field: a polygon, or a FeatureCollection.

import { areaAttribution, bboxParam, buurtStyle, config, createMap, request, t } from "./common.js";
import { KeyboardDraw } from "./keyboard-draw.js";

const $ = (id) => document.getElementById(id);
const container = $("pact-draw-map");
const mode = container.dataset.mode; // "area" or "places"
const field = $("geometry");
const map = createMap(container, { draw: true, zoom: 15 });
window.kaartMap = map;
new KeyboardDraw(map, $("pact-keyboard-draw"));
const style = { color: "#154273", weight: 3, fillOpacity: 0.1 };
const drawn = L.featureGroup().addTo(map);

if (config.pactArea) {
  const area = L.geoJSON(config.pactArea, {
    style: { color: "#154273", weight: 2, fillOpacity: 0.03, dashArray: "8 6" },
    interactive: false,
  }).addTo(map);
  map.fitBounds(area.getBounds(), { padding: [16, 16], animate: false });
}
request(`/api/v1/buurten?bbox=${bboxParam(map.getBounds().pad(2))}`).then((result) => {
  if (!result.ok || !result.data) return;
  L.geoJSON(result.data, { interactive: false, style: buurtStyle(), attribution: areaAttribution() }).addTo(map);
});

function write() {
  const layers = drawn.getLayers();
  if (!layers.length) {
    field.value = "";
    $("draw-status").textContent = "";
    return;
  }
  if (mode === "area") {
    field.value = JSON.stringify(layers[layers.length - 1].toGeoJSON().geometry);
    const choice = $("area-kind-polygon");
    if (choice) choice.checked = true;
  } else {
    field.value = JSON.stringify(drawn.toGeoJSON());
  }
  $("draw-status").textContent = t("pact.draw.count", { count: layers.length });
}

function add(layer) {
  if (mode === "area") drawn.clearLayers();
  layer.options.pmIgnore = false;
  L.PM.reInitLayer(layer);
  drawn.addLayer(layer);
  layer.setStyle && layer.setStyle(style);
  if (layer.pm) {
    layer.pm.enable({ allowSelfIntersection: false, snappable: false });
    layer.on("pm:edit", write);
  }
  write();
}

map.on("pm:create", ({ layer }) => {
  map.removeLayer(layer);
  add(layer);
});

for (const button of document.querySelectorAll("[data-shape], #draw-area")) {
  button.addEventListener("click", () => {
    const shape = button.dataset.shape || "Polygon";
    map.pm.enableDraw(shape, { allowSelfIntersection: false, pathOptions: style });
    $("draw-status").textContent = t("pact.draw.drawing");
  });
}
const clear = $("draw-clear");
if (clear) clear.addEventListener("click", () => {
  drawn.clearLayers();
  write();
});

// A value sent back with a refused form: show it again.
if (field.value.trim()) {
  try {
    L.geoJSON(JSON.parse(field.value), { pmIgnore: false }).eachLayer((layer) => add(layer));
  } catch {
    // not valid GeoJSON: the server said what is wrong
  }
}
