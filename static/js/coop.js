// The energy co-operative's map: buildings coloured by their rooftop solar potential (vector
// tiles from /coop/tiles/…), a popup per building with its figures and roof parts, a shortlist
// for a buurt, a PC4 or a drawn area (with CSV/GeoPackage export), "offer my roof" (an energie
// contribution linked to the BAG pand) and the postcoderoos of a point.

import {
  bboxParam,
  config,
  containsPoint,
  createMap,
  el,
  escapeHtml,
  formatNumber,
  lang,
  problemText,
  request,
  t,
} from "./common.js";
import { objectsAt } from "./layers/pick.js";

const decimalFormat = new Intl.NumberFormat(lang === "nl" ? "nl-NL" : "en-GB", {
  maximumFractionDigits: 1,
});
const decimal = (value) => decimalFormat.format(value);

const solar = config.solar;
// kWh per year -> colour, light to dark (YlOrRd-like, distinguishable for colour-blind readers
// by lightness); the legend lists the same buckets.
const BUCKETS = [
  { max: 5000, fill: "#fee8a3" },
  { max: 15000, fill: "#fdb94b" },
  { max: 40000, fill: "#f3772b" },
  { max: 100000, fill: "#cf3a1d" },
  { max: Infinity, fill: "#8a1111" },
];
const SKIPPED = "#c9c9c9";
const OFFER_TITLES = { roof: "solar.offer.title_roof", join: "solar.offer.title_join" };

const map = createMap(document.getElementById("map"), {
  draw: true,
  zoom: Math.max(config.zoom, 16),
});
window.kaartMap = map; // as on the other map pages: for scripts and browser tests
const status = document.getElementById("coop-status");
const buildingLayer = (config.layers || []).find((l) => l.name === solar.buildingLayer);
const pc4Layer = (config.layers || []).find((l) => l.kind === "postcode");
let tiles = null;
let drawn = null; // the drawn area (Leaflet polygon)
let rose = null; // the postcoderoos on the map
let pickingRose = false;
let offerFor = null; // {bag_id, latlng}

function say(text) {
  status.textContent = text;
}

function bucketOf(kwh) {
  return BUCKETS.findIndex((b) => kwh < b.max);
}

// -- Coloured buildings --------------------------------------------------------------------------

function addTiles() {
  const P = window.protomapsL;
  const rules = BUCKETS.map((bucket, i) => ({
    dataLayer: "solar",
    symbolizer: new P.PolygonSymbolizer({ fill: bucket.fill, opacity: 0.85 }),
    filter: (z, f) => f.props.kwp > 0 && bucketOf(f.props.kwh_year) === i,
  }));
  rules.push({
    dataLayer: "solar",
    symbolizer: new P.PolygonSymbolizer({ fill: SKIPPED, opacity: 0.7 }),
    filter: (z, f) => !(f.props.kwp > 0),
  });
  const outline = new P.LineSymbolizer({ color: "#5b3a12", width: 0.6 });
  rules.push({ dataLayer: "solar", symbolizer: outline });
  rules.push({
    dataLayer: "solar",
    symbolizer: new P.LineSymbolizer({ color: "#0068a8", width: 3 }),
    filter: (z, f) => f.props.offered === true,
  });
  map.createPane("solar").style.zIndex = "300";
  tiles = P.leafletLayer({
    url: solar.tiles,
    paintRules: rules,
    labelRules: [],
    levelDiff: 0,
    maxDataZoom: 17,
    minZoom: solar.minZoom,
    maxZoom: 22,
    pane: "solar",
    className: "layer-tiles layer-tiles--solar",
    attribution: attributionOf(t("solar.attribution"), buildingLayer),
  });
  tiles.addTo(map);
}

/** Leaflet takes attribution as HTML: our text plus the open layer's credit, escaped. */
function attributionOf(text, layer) {
  const parts = [text, layer?.attribution].filter(Boolean);
  return parts.map((part) => escapeHtml(part)).join(" · ");
}

function legend() {
  const list = document.getElementById("coop-legend");
  let low = 0;
  const items = BUCKETS.map((bucket) => {
    const label =
      bucket.max === Infinity
        ? t("solar.legend.above", { low: formatNumber(low) })
        : t("solar.legend.range", { low: formatNumber(low), high: formatNumber(bucket.max) });
    low = bucket.max;
    return [bucket.fill, label];
  });
  items.push([SKIPPED, t("solar.legend.none")]);
  list.replaceChildren(
    ...items.map(([fill, label]) => {
      const swatch = el("span", { class: "coop-legend__swatch", "aria-hidden": "true" });
      swatch.style.backgroundColor = fill;
      return el("li", { class: "coop-legend__item" }, swatch, el("span", {}, label));
    }),
    el(
      "li",
      { class: "coop-legend__item" },
      el("span", {
        class: "coop-legend__swatch coop-legend__swatch--offered",
        "aria-hidden": "true",
      }),
      el("span", {}, t("solar.legend.offered")),
    ),
  );
}

// -- A building's popup --------------------------------------------------------------------------

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

function kwh(value) {
  return t("solar.unit.kwh", { value: formatNumber(value) });
}

function partsTable(parts) {
  if (!parts.length) return null;
  return el(
    "table",
    { class: "coop-table coop-table--parts" },
    el("caption", {}, t("solar.popup.parts")),
    el(
      "thead",
      {},
      el(
        "tr",
        {},
        PART_HEADINGS.map((key) => el("th", { scope: "col" }, t(key))),
      ),
    ),
    el(
      "tbody",
      {},
      parts.map((p) =>
        el(
          "tr",
          {},
          el("td", {}, flatLayout(p) ? t("solar.part.east_west") : `${Math.round(p.tilt)}°`),
          el("td", {}, flatLayout(p) ? "–" : `${Math.round(p.azimuth)}°`),
          el("td", { class: "num" }, formatNumber(p.area_m2)),
          el("td", { class: "num" }, p.kept ? formatNumber(p.panels) : t("solar.part.too_small")),
          el("td", { class: "num" }, formatNumber(p.kwh_year)),
        ),
      ),
    ),
  );
}

function popupContent(b, latlng) {
  const facts = [];
  const m2 = (value) => t("solar.unit.m2", { value: formatNumber(value) });
  if (b.skipped_reason) {
    facts.push(figure(t("solar.field.suitability"), t(`solar.skipped.${b.skipped_reason}`)));
  }
  else {
    facts.push(figure(t("solar.field.suitability"), t(`solar.class.${b.suitability}`)));
    facts.push(figure(t("solar.field.kwh_year"), kwh(b.kwh_year)));
    facts.push(figure(t("solar.field.kwp"), t("solar.unit.kwp", { value: decimal(b.kwp) })));
    facts.push(figure(t("solar.field.panels"), formatNumber(b.panels)));
    facts.push(figure(t("solar.field.kwh_per_kwp"), formatNumber(b.kwh_per_kwp)));
    facts.push(figure(t("solar.field.households"), decimal(b.households)));
    const co2 = t("solar.unit.kg", { value: formatNumber(b.co2_kg_year) });
    facts.push(figure(t("solar.field.co2"), co2));
  }
  facts.push(figure(t("solar.field.roof_area"), m2(b.roof_area_m2)));
  facts.push(figure(t("solar.field.usable_area"), m2(b.usable_area_m2)));
  facts.push(figure(t("solar.field.method"), t(`solar.method.${b.method}`)));
  if (b.construction_year) facts.push(figure(t("solar.field.year"), String(b.construction_year)));
  if (b.usage) facts.push(figure(t("solar.field.usage"), b.usage.replace(/,/g, ", ")));
  facts.push(figure(t("solar.field.offers"), formatNumber(b.offer_count)));
  const offer = button("button--primary coop-offer", t("solar.offer.start"));
  offer.addEventListener("click", () => startOffer(b, latlng));
  const roseHere = button("button--secondary", t("solar.rose.here"));
  roseHere.addEventListener("click", () => showRose(latlng));
  return el(
    "div",
    { class: "popup inspect coop-popup", "data-bag-id": b.bag_id },
    el("h3", { class: "popup__title" }, t("solar.popup.title", { id: b.bag_id })),
    b.address ? el("p", { class: "popup__meta" }, b.address) : null,
    el("dl", { class: "inspect__facts" }, facts),
    partsTable(b.roof_parts || []),
    el("div", { class: "actions" }, offer, roseHere),
  );
}

async function inspect(latlng) {
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
  L.popup({ maxWidth: 360, minWidth: 260 })
    .setLatLng(latlng)
    .setContent(popupContent(result.data, latlng))
    .openOn(map);
}

// -- Offer my roof -------------------------------------------------------------------------------

function startOffer(building, latlng) {
  offerFor = { bag_id: building.bag_id, latlng };
  map.closePopup();
  const section = document.getElementById("offer");
  section.hidden = false;
  document.getElementById("offer-form").hidden = false;
  document.getElementById("offer-done").hidden = true;
  document.getElementById("offer-error").hidden = true;
  document.getElementById("offer-building").textContent = t("solar.offer.building", {
    label: building.address ? `${building.address} (${building.bag_id})` : building.bag_id,
  });
  document.getElementById("offer-title").focus();
}

async function submitOffer(event) {
  event.preventDefault();
  if (!offerFor) return;
  const kind = document.querySelector('input[name="offer-kind"]:checked').value;
  const body = {
    type: "Feature",
    geometry: { type: "Point", coordinates: [offerFor.latlng.lng, offerFor.latlng.lat] },
    properties: {
      category: solar.offerCategory,
      title: t(OFFER_TITLES[kind]),
      description: document.getElementById("offer-text").value,
      object: { layer: solar.buildingLayer, id: offerFor.bag_id },
    },
  };
  const result = await request("/api/v1/contributions", { method: "POST", body });
  const error = document.getElementById("offer-error");
  if (!result.ok) {
    error.textContent = problemText(result);
    error.hidden = false;
    return;
  }
  error.hidden = true;
  document.getElementById("offer-form").hidden = true;
  document.getElementById("offer-done").hidden = false;
  document.getElementById("offer-edit-link").href = result.data.edit_url;
  document.getElementById("offer-text").value = "";
  say(t("solar.offer.saved"));
  tiles?.redraw?.();
  if (!document.getElementById("shortlist").hidden) loadShortlist();
}

// -- Area, filters and the shortlist -------------------------------------------------------------

function areaKind() {
  return document.querySelector('input[name="area"]:checked').value;
}

function syncAreaKind() {
  for (const row of document.querySelectorAll("[data-area]")) {
    row.hidden = row.dataset.area !== areaKind();
  }
}

async function fillBuurten() {
  const select = document.getElementById("area-buurt");
  const result = await request(`/api/v1/buurten?bbox=${bboxParam(map.getBounds().pad(2))}`);
  if (!result.ok || !result.data) return;
  const centre = map.getCenter();
  const features = result.data.features;
  select.replaceChildren(
    ...features.map(({ properties: p }) => el("option", { value: p.code }, `${p.name} ${p.code}`)),
  );
  // The buurt in the middle of the map first.
  const here = features.find((f) => containsPoint(f.geometry, centre.lng, centre.lat));
  if (here) select.value = here.properties.code;
}

function drawArea() {
  if (drawn) {
    drawn.remove();
    drawn = null;
  }
  document.getElementById("area-drawn").textContent = t("solar.area.drawing");
  map.pm.enableDraw("Polygon", {
    allowSelfIntersection: false,
    continueDrawing: false,
    pathOptions: { color: "#0068a8", weight: 2, fillOpacity: 0.08, pmIgnore: false },
  });
}

map.on("pm:create", ({ layer }) => {
  map.pm.disableDraw();
  drawn = layer;
  document.getElementById("area-drawn").textContent = t("solar.area.drawn");
});

function shortlistQuery() {
  const params = new URLSearchParams();
  const kind = areaKind();
  if (kind === "buurt") params.set("buurt", document.getElementById("area-buurt").value);
  else if (kind === "pc4") params.set("pc4", document.getElementById("area-pc4").value.trim());
  else if (drawn) {
    const geometry = drawn.toGeoJSON(7).geometry;
    params.set("polygon", JSON.stringify(geometry));
  }
  const minKwp = document.getElementById("filter-min-kwp").value;
  if (minKwp) params.set("min_kwp", minKwp);
  const checked = document.querySelectorAll('input[name="suitability"]:checked');
  const classes = [...checked].map((c) => c.value);
  if (classes.length < solar.classes.length) params.set("suitability", classes.join(","));
  const usage = document.getElementById("filter-usage").value;
  if (usage) params.set("usage", usage);
  for (const [id, name] of [["filter-year-from", "year_from"], ["filter-year-to", "year_to"]]) {
    const value = document.getElementById(id).value;
    if (value) params.set(name, value);
  }
  if (document.getElementById("filter-offered").checked) params.set("offered", "true");
  return params;
}

function totalsList(totals) {
  const rows = [
    ["solar.total.roofs", formatNumber(totals.roofs)],
    ["solar.total.kwp", t("solar.unit.kwp", { value: formatNumber(totals.kwp) })],
    ["solar.total.kwh", kwh(totals.kwh_year)],
    ["solar.total.households", decimal(totals.households)],
    ["solar.total.co2", t("solar.unit.kg", { value: formatNumber(totals.co2_kg_year) })],
    ["solar.total.offered", formatNumber(totals.offered_roofs)],
  ];
  return rows.map(([key, value]) =>
    el("div", { class: "coop-totals__row" }, el("dt", {}, t(key)), el("dd", {}, value)),
  );
}

function offerCell(p) {
  if (!p.offer_count) return el("td", {}, "–");
  return el(
    "td",
    { class: "coop-offers" },
    p.offers.map((o) => el("a", { href: o.url, class: "coop-offers__link" }, o.title)),
  );
}

async function loadShortlist(event) {
  event?.preventDefault();
  const error = document.getElementById("shortlist-error");
  const params = shortlistQuery();
  if (areaKind() === "polygon" && !drawn) {
    error.textContent = t("solar.area.draw_first");
    error.hidden = false;
    return;
  }
  say(t("solar.shortlist.loading"));
  const result = await request(`/api/v1/solar/shortlist?${params}`);
  if (!result.ok) {
    error.textContent = problemText(result);
    error.hidden = false;
    say("");
    return;
  }
  error.hidden = true;
  const data = result.data;
  const box = document.getElementById("shortlist");
  box.hidden = false;
  document.getElementById("shortlist-totals").replaceChildren(...totalsList(data.totals));
  document.getElementById("shortlist-empty").hidden = data.features.length > 0;
  document.getElementById("shortlist-table").hidden = data.features.length === 0;
  for (const format of ["csv", "gpkg"]) {
    const exportParams = new URLSearchParams(params);
    exportParams.set("format", format);
    exportParams.set("limit", "5000");
    document.getElementById(`export-${format}`).href = `/api/v1/solar/shortlist?${exportParams}`;
  }
  const rows = data.features.map((f) => {
    const p = f.properties;
    const name = el(
      "button",
      { type: "button", class: "button button--link coop-table__building" },
      p.address || p.bag_id,
    );
    name.addEventListener("click", () => {
      const shape = L.geoJSON(f);
      map.fitBounds(shape.getBounds(), { maxZoom: 18 });
      inspect(shape.getBounds().getCenter());
    });
    return el(
      "tr",
      { "data-bag-id": p.bag_id, class: p.offer_count ? "coop-table__offered" : null },
      el("td", { class: "num" }, String(p.rank)),
      el("td", {}, name),
      el("td", { class: "num" }, decimal(p.kwp)),
      el("td", { class: "num" }, formatNumber(p.kwh_year)),
      el("td", {}, t(`solar.class.${p.suitability}`)),
      offerCell(p),
    );
  });
  document.querySelector("#shortlist-table tbody").replaceChildren(...rows);
  say(t("solar.shortlist.done", { count: formatNumber(data.totals.roofs) }));
}

// -- The postcoderoos ----------------------------------------------------------------------------

function setPickingRose(on) {
  pickingRose = on;
  const button = document.getElementById("rose-pick");
  button.setAttribute("aria-pressed", String(on));
  document.body.classList.toggle("is-picking", on);
  if (on) say(t("solar.rose.picking"));
}

async function showRose(latlng) {
  map.closePopup();
  say(t("solar.rose.loading"));
  const lon = latlng.lng.toFixed(6);
  const lat = latlng.lat.toFixed(6);
  const result = await request(`/api/v1/postcoderoos?lon=${lon}&lat=${lat}`);
  if (!result.ok) return say(problemText(result));
  const data = result.data;
  rose?.remove();
  rose = L.geoJSON(data, {
    interactive: false,
    style: (f) =>
      f.properties.role === "centre"
        ? { color: "#6a3d9a", weight: 3, fillColor: "#6a3d9a", fillOpacity: 0.12 }
        : { color: "#6a3d9a", weight: 2, dashArray: "6 4", fillOpacity: 0.04 },
    className: "coop-rose-area",
    attribution: attributionOf(t("solar.rose.attribution"), pc4Layer),
  }).addTo(map);
  map.fitBounds(rose.getBounds(), { padding: [16, 16] });
  const box = document.getElementById("rose");
  box.hidden = false;
  const totals = data.totals;
  document.getElementById("rose-summary").textContent = t("solar.rose.summary", {
    postcode: data.postcode,
    neighbours: totals.neighbours,
    interested: formatNumber(totals.interested),
  });
  const rows = data.features.map((f) => {
    const p = f.properties;
    const centre = p.role === "centre";
    const label = centre ? t("solar.rose.centre", { postcode: p.postcode }) : p.postcode;
    return el(
      "tr",
      { "data-postcode": p.postcode, class: centre ? "coop-rose__centre" : null },
      el("td", {}, label),
      el("td", { class: "num" }, p.addresses === null ? "–" : formatNumber(p.addresses)),
      el("td", { class: "num" }, formatNumber(p.interested)),
      el("td", { class: "num" }, p.inhabitants === null ? "–" : formatNumber(p.inhabitants)),
    );
  });
  document.querySelector("#rose-table tbody").replaceChildren(...rows);
  say("");
}

// -- Wiring --------------------------------------------------------------------------------------

legend();
addTiles();
fillBuurten();
syncAreaKind();
for (const radio of document.querySelectorAll('input[name="area"]')) {
  radio.addEventListener("change", syncAreaKind);
}
document.getElementById("area-draw").addEventListener("click", drawArea);
document.getElementById("shortlist-form").addEventListener("submit", loadShortlist);
document.getElementById("offer-form").addEventListener("submit", submitOffer);
document.getElementById("offer-cancel").addEventListener("click", () => {
  document.getElementById("offer").hidden = true;
  offerFor = null;
});
document.getElementById("rose-pick").addEventListener("click", () => setPickingRose(!pickingRose));
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && pickingRose) setPickingRose(false);
});
map.on("click", (event) => {
  if (map.pm.globalDrawModeEnabled()) return;
  if (pickingRose) {
    setPickingRose(false);
    showRose(event.latlng);
    return;
  }
  inspect(event.latlng);
});
