// The shortlist's area: a buurt (the one in the middle of the map first), a PC4, or an area
// drawn on the map.

import { bboxParam, byId, containsPoint, el, request, t } from "../common.js";
import { KeyboardDraw } from "../keyboard-draw.js";

export function areaKind() {
  return document.querySelector('input[name="area"]:checked').value;
}

/** Show the inputs of the chosen kind of area only. */
function syncAreaKind() {
  for (const row of document.querySelectorAll("[data-area]")) {
    row.hidden = row.dataset.area !== areaKind();
  }
}

async function fillBuurten(map) {
  const select = byId("area-buurt");
  const result = await request(`/api/v1/buurten?bbox=${bboxParam(map.getBounds().pad(2))}`);
  if (!result.ok || !result.data) return;
  const centre = map.getCenter();
  const features = result.data.features;
  select.replaceChildren(
    ...features.map(({ properties: p }) => el("option", { value: p.code }, `${p.name} ${p.code}`)),
  );
  const here = features.find((f) => containsPoint(f.geometry, centre.lng, centre.lat));
  if (here) select.value = here.properties.code;
}

function drawArea(page) {
  const { map, state } = page;
  state.area?.remove();
  state.area = null;
  byId("area-drawn").textContent = t("solar.area.drawing");
  map.pm.enableDraw("Polygon", {
    allowSelfIntersection: false,
    continueDrawing: false,
    pathOptions: { color: "#0068a8", weight: 2, fillOpacity: 0.08, pmIgnore: false },
  });
}

/** Whether an area is chosen (a drawn one must have been drawn). */
export function areaReady(page) {
  return areaKind() !== "polygon" || Boolean(page.state.area);
}

/** The shortlist's area as query parameters: buurt=, pc4= or polygon=<GeoJSON>. */
export function addAreaParams(page, params) {
  const kind = areaKind();
  if (kind === "buurt") params.set("buurt", byId("area-buurt").value);
  else if (kind === "pc4") params.set("pc4", byId("area-pc4").value.trim());
  else if (page.state.area) params.set("polygon", JSON.stringify(page.state.area.toGeoJSON(7).geometry));
}

export function wireArea(page) {
  const { map, state } = page;
  new KeyboardDraw(map, byId("area-keyboard-draw"));
  fillBuurten(map);
  syncAreaKind();
  for (const radio of document.querySelectorAll('input[name="area"]')) {
    radio.addEventListener("change", syncAreaKind);
  }
  byId("area-draw").addEventListener("click", () => drawArea(page));
  map.on("pm:create", ({ layer }) => {
    map.pm.disableDraw();
    state.area = layer;
    byId("area-drawn").textContent = t("solar.area.drawn");
  });
}
