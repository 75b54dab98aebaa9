// A building's popup: its solar figures and roof parts, with "Bied dit dak aan" (offer.js) and
// "Postcoderoos hier" (rose.js).

import { el, formatNumber, request, t } from "../common.js";
import { objectsAt } from "../layers/pick.js";
import { startOffer } from "./offer.js";
import { showRose } from "./rose.js";
import { decimal, kg, kwh, kwp, m2, say } from "./text.js";

const PART_HEADINGS = [
  "solar.part.tilt",
  "solar.part.azimuth",
  "solar.part.area",
  "solar.part.panels",
  "solar.field.kwh_year",
];
const flatLayout = (part) => part.layout === "east_west";

function button(kind, text) {
  return el("button", { type: "button", class: `button button--small ${kind}` }, text);
}

function figure(label, value) {
  return el("div", { class: "inspect__row" }, el("dt", {}, label), el("dd", {}, value));
}

function partRow(p) {
  return el(
    "tr",
    {},
    el("td", {}, flatLayout(p) ? t("solar.part.east_west") : `${Math.round(p.tilt)}°`),
    el("td", {}, flatLayout(p) ? "–" : `${Math.round(p.azimuth)}°`),
    el("td", { class: "num" }, formatNumber(p.area_m2)),
    el("td", { class: "num" }, p.kept ? formatNumber(p.panels) : t("solar.part.too_small")),
    el("td", { class: "num" }, formatNumber(p.kwh_year)),
  );
}

function partsTable(parts) {
  if (!parts.length) return null;
  return el(
    "table",
    { class: "coop-table coop-table--parts" },
    el("caption", {}, t("solar.popup.parts")),
    el("thead", {}, el("tr", {}, PART_HEADINGS.map((key) => el("th", { scope: "col" }, t(key))))),
    el("tbody", {}, parts.map(partRow)),
  );
}

/** What the roof yields, or why it was skipped. */
function yieldFigures(b) {
  if (b.skipped_reason) {
    return [figure(t("solar.field.suitability"), t(`solar.skipped.${b.skipped_reason}`))];
  }
  return [
    figure(t("solar.field.suitability"), t(`solar.class.${b.suitability}`)),
    figure(t("solar.field.kwh_year"), kwh(b.kwh_year)),
    figure(t("solar.field.kwp"), kwp(b.kwp)),
    figure(t("solar.field.panels"), formatNumber(b.panels)),
    figure(t("solar.field.kwh_per_kwp"), formatNumber(b.kwh_per_kwp)),
    figure(t("solar.field.households"), decimal(b.households)),
    figure(t("solar.field.co2"), kg(b.co2_kg_year)),
  ];
}

function buildingFigures(b) {
  const facts = [
    figure(t("solar.field.roof_area"), m2(b.roof_area_m2)),
    figure(t("solar.field.usable_area"), m2(b.usable_area_m2)),
    figure(t("solar.field.method"), t(`solar.method.${b.method}`)),
  ];
  if (b.construction_year) facts.push(figure(t("solar.field.year"), String(b.construction_year)));
  if (b.usage) facts.push(figure(t("solar.field.usage"), usageText(b.usage)));
  facts.push(figure(t("solar.field.offers"), formatNumber(b.offer_count)));
  return facts;
}

function popupContent(page, b, latlng) {
  const offer = button("button--primary coop-offer", t("solar.offer.start"));
  offer.addEventListener("click", () => startOffer(page, b, latlng));
  const roseHere = button("button--secondary", t("solar.rose.here"));
  roseHere.addEventListener("click", () => showRose(page, latlng));
  return el(
    "div",
    { class: "popup inspect coop-popup", "data-bag-id": b.bag_id },
    el("h3", { class: "popup__title" }, t("solar.popup.title", { id: b.bag_id })),
    b.address ? el("p", { class: "popup__meta" }, b.address) : null,
    el("dl", { class: "inspect__facts" }, [...yieldFigures(b), ...buildingFigures(b)]),
    partsTable(b.roof_parts || []),
    el("div", { class: "actions" }, offer, roseHere),
  );
}

/** The building under a click, its stored potential, and its popup. */
export async function showBuilding(page, latlng) {
  const { map, buildingLayer } = page;
  if (!buildingLayer) {
    say(t("solar.no_buildings"));
    return;
  }
  say(t("solar.searching"));
  const found = await objectsAt(map, latlng, [buildingLayer], { request });
  if (found === null) return say(t("solar.load_error"));
  if (!found.length) return say(t("solar.none_here"));
  const id = found[0].feature.properties.feature_id;
  const result = await request(`/api/v1/solar/buildings/${encodeURIComponent(id)}`);
  if (!result.ok) {
    return say(result.status === 404 ? t("solar.not_computed") : t("solar.load_error"));
  }
  say("");
  markShortlistRow(result.data.bag_id);
  // On a phone the popup must fit the map: its content scrolls instead of running off the top.
  const size = map.getSize();
  L.popup({
    maxWidth: Math.min(360, size.x - 48),
    minWidth: Math.min(260, size.x - 48),
    maxHeight: Math.max(160, size.y - 96),
    autoPanPadding: L.point(12, 12),
  })
    .setLatLng(latlng)
    .setContent(popupContent(page, result.data, latlng))
    .openOn(map);
}

/** The building opened on the map is marked in the shortlist, when it is there (and the row
 *  scrolled into view inside the table); map and list show the same selection. */
function markShortlistRow(bagId) {
  for (const row of document.querySelectorAll("#shortlist-table tr[aria-current]")) {
    row.removeAttribute("aria-current");
  }
  const row = document.querySelector(`#shortlist-table tr[data-bag-id="${CSS.escape(bagId)}"]`);
  if (!row) return;
  row.setAttribute("aria-current", "true");
  row.scrollIntoView({ block: "nearest" });
}

/** BAG uses ("woonfunctie,winkelfunctie") in the page's language; an unknown one as it is. */
function usageText(usage) {
  return usage
    .split(",")
    .map((u) => u.trim())
    .map((u) => {
      const text = t(`solar.usage.${u}`);
      return text === `solar.usage.${u}` ? u : text;
    })
    .join(", ");
}
