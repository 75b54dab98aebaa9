// The postcoderoos of a point: picked on the map (or from a building's popup), drawn and listed.

import { byId, el, formatNumber, problemText, request, t } from "../common.js";
import { attributionOf, say } from "./text.js";

const CENTRE_STYLE = { color: "#6a3d9a", weight: 3, fillColor: "#6a3d9a", fillOpacity: 0.12 };
const NEIGHBOUR_STYLE = { color: "#6a3d9a", weight: 2, dashArray: "6 4", fillOpacity: 0.04 };

/** While on, the next map click is the postcoderoos' point. */
export function setPickingRose(page, on) {
  page.state.pickingRose = on;
  byId("rose-pick").setAttribute("aria-pressed", String(on));
  document.body.classList.toggle("is-picking", on);
  if (on) say(t("solar.rose.picking"));
}

function drawRose(page, data) {
  const { map, state } = page;
  state.rose?.remove();
  state.rose = L.geoJSON(data, {
    interactive: false,
    style: (f) => (f.properties.role === "centre" ? CENTRE_STYLE : NEIGHBOUR_STYLE),
    className: "coop-rose-area",
    attribution: attributionOf(t("solar.rose.attribution"), page.pc4Layer),
  }).addTo(map);
  map.fitBounds(state.rose.getBounds(), { padding: [16, 16] });
}

const countOrDash = (value) => (value === null ? "–" : formatNumber(value));

function roseRow(p) {
  const centre = p.role === "centre";
  const label = centre ? t("solar.rose.centre", { postcode: p.postcode }) : p.postcode;
  return el(
    "tr",
    { "data-postcode": p.postcode, class: centre ? "coop-rose__centre" : null },
    el("td", {}, label),
    el("td", { class: "num" }, countOrDash(p.addresses)),
    el("td", { class: "num" }, formatNumber(p.interested)),
    el("td", { class: "num" }, countOrDash(p.inhabitants)),
  );
}

function listRose(data) {
  byId("rose").hidden = false;
  byId("rose-summary").textContent = t("solar.rose.summary", {
    postcode: data.postcode,
    neighbours: data.totals.neighbours,
    interested: formatNumber(data.totals.interested),
  });
  const rows = data.features.map((f) => roseRow(f.properties));
  document.querySelector("#rose-table tbody").replaceChildren(...rows);
}

export async function showRose(page, latlng) {
  page.map.closePopup();
  say(t("solar.rose.loading"));
  const lon = latlng.lng.toFixed(6);
  const lat = latlng.lat.toFixed(6);
  const result = await request(`/api/v1/postcoderoos?lon=${lon}&lat=${lat}`);
  if (!result.ok) return say(problemText(result));
  drawRose(page, result.data);
  listRose(result.data);
  say("");
}

export function wireRose(page) {
  byId("rose-pick").addEventListener("click", () => setPickingRose(page, !page.state.pickingRose));
  // By keyboard: find the address (or pan with the arrow keys), then take the map's centre.
  byId("rose-centre").addEventListener("click", () => {
    setPickingRose(page, false);
    showRose(page, page.map.getCenter());
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && page.state.pickingRose) setPickingRose(page, false);
  });
}
