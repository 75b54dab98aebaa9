// /beheer process form: draw the process's area on the map (Leaflet-Geoman), or take the buurt
// at the map's centre; the area travels as GeoJSON in the form's `geometry` field.

import { areaAttribution, bboxParam, buurtStyle, config, createMap, request, t } from "./common.js";
import { KeyboardDraw } from "./keyboard-draw.js";

const $ = (id) => document.getElementById(id);
const field = $("geometry");
const map = createMap($("process-map"), { draw: true, zoom: 15 });
window.kaartMap = map;
new KeyboardDraw(map, $("area-keyboard-draw"));
const style = { color: "#154273", weight: 3, fillOpacity: 0.1 };

// The buurten around, for orientation (and the outline of the buurt a planner may take).
request(`/api/v1/buurten?bbox=${bboxParam(map.getBounds().pad(2))}`).then((result) => {
  if (!result.ok || !result.data) return;
  L.geoJSON(result.data, { interactive: false, style: buurtStyle(), attribution: areaAttribution() }).addTo(map);
});
let areaLayer = null;

function setArea(layer) {
  if (areaLayer && areaLayer !== layer) map.removeLayer(areaLayer);
  areaLayer = layer;
  layer.setStyle && layer.setStyle(style);
  write();
  if (layer.pm) {
    layer.pm.enable({ allowSelfIntersection: false, snappable: false });
    layer.on("pm:edit", write);
  }
}

function write() {
  if (!areaLayer) return;
  const geojson = areaLayer.toGeoJSON();
  field.value = JSON.stringify(geojson.type === "FeatureCollection" ? geojson.features[0].geometry : geojson.geometry);
  $("area-status").textContent = t("dialogue.process.area_drawn");
}

function load(text) {
  try {
    const geometry = JSON.parse(text);
    const layer = L.geoJSON(geometry, { style, pmIgnore: false }).getLayers()[0];
    if (!layer) return;
    layer.addTo(map);
    areaLayer = layer;
    map.fitBounds(layer.getBounds(), { padding: [16, 16], animate: false });
    layer.pm.enable({ allowSelfIntersection: false, snappable: false });
    layer.on("pm:edit", write);
    $("area-status").textContent = t("dialogue.process.area_drawn");
  } catch {
    // not (yet) valid GeoJSON: the server says what is wrong when the form is sent
  }
}

if (field.value.trim()) load(field.value);
else if (config.processArea) load(JSON.stringify(config.processArea));

map.on("pm:create", ({ layer }) => {
  layer.options.pmIgnore = false;
  L.PM.reInitLayer(layer);
  setArea(layer);
});

$("area-draw").addEventListener("click", () => {
  map.pm.enableDraw("Polygon", { allowSelfIntersection: false, pathOptions: style });
  $("area-status").textContent = t("dialogue.process.area_drawing");
});

$("area-buurt").addEventListener("click", async () => {
  const c = map.getCenter();
  const d = 0.00001;
  const bbox = [c.lng - d, c.lat - d, c.lng + d, c.lat + d].map((v) => v.toFixed(6)).join(",");
  const result = await request(`/api/v1/buurten?bbox=${bbox}`);
  const feature = result.ok && result.data && result.data.features[0];
  if (!feature) {
    $("area-status").textContent = t("dialogue.process.area_no_buurt");
    return;
  }
  if (areaLayer) map.removeLayer(areaLayer);
  areaLayer = null;
  field.value = JSON.stringify(feature.geometry);
  load(field.value);
});

field.addEventListener("change", () => {
  if (areaLayer) map.removeLayer(areaLayer);
  areaLayer = null;
  load(field.value);
});
