// Buildings coloured by their yearly solar yield (vector tiles from /coop/tiles/…) and the
// legend that lists the same colours.

import { byId, el, formatNumber, t } from "../common.js";
import { attributionOf } from "./text.js";

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
const OFFERED = "#0068a8";

const bucketOf = (kwhYear) => BUCKETS.findIndex((b) => kwhYear < b.max);
const hasPanels = (feature) => feature.props.kwp > 0;

function paintRules() {
  const P = window.protomapsL;
  const rules = BUCKETS.map((bucket, i) => ({
    dataLayer: "solar",
    symbolizer: new P.PolygonSymbolizer({ fill: bucket.fill, opacity: 0.85 }),
    filter: (z, f) => hasPanels(f) && bucketOf(f.props.kwh_year) === i,
  }));
  rules.push({
    dataLayer: "solar",
    symbolizer: new P.PolygonSymbolizer({ fill: SKIPPED, opacity: 0.7 }),
    filter: (z, f) => !hasPanels(f),
  });
  rules.push({ dataLayer: "solar", symbolizer: new P.LineSymbolizer({ color: "#5b3a12", width: 0.6 }) });
  rules.push({
    dataLayer: "solar",
    symbolizer: new P.LineSymbolizer({ color: OFFERED, width: 3 }),
    filter: (z, f) => f.props.offered === true,
  });
  return rules;
}

export function addTiles(page) {
  const { map, solar, state } = page;
  map.createPane("solar").style.zIndex = "300";
  state.tiles = window.protomapsL.leafletLayer({
    url: solar.tiles,
    paintRules: paintRules(),
    labelRules: [],
    levelDiff: 0,
    maxDataZoom: 17,
    minZoom: solar.minZoom,
    maxZoom: 22,
    pane: "solar",
    className: "layer-tiles layer-tiles--solar",
    attribution: attributionOf(t("solar.attribution"), page.buildingLayer),
  });
  state.tiles.addTo(map);
}

function legendItem(fill, label) {
  const swatch = el("span", { class: "coop-legend__swatch", "aria-hidden": "true" });
  swatch.style.backgroundColor = fill;
  return el("li", { class: "coop-legend__item" }, swatch, el("span", {}, label));
}

/** [colour, "5.000 – 15.000 kWh"] per bucket, then the buildings without panels. */
function legendRows() {
  let low = 0;
  const rows = BUCKETS.map((bucket) => {
    const label =
      bucket.max === Infinity
        ? t("solar.legend.above", { low: formatNumber(low) })
        : t("solar.legend.range", { low: formatNumber(low), high: formatNumber(bucket.max) });
    low = bucket.max;
    return [bucket.fill, label];
  });
  rows.push([SKIPPED, t("solar.legend.none")]);
  return rows;
}

export function showLegend() {
  const offered = el(
    "li",
    { class: "coop-legend__item" },
    el("span", { class: "coop-legend__swatch coop-legend__swatch--offered", "aria-hidden": "true" }),
    el("span", {}, t("solar.legend.offered")),
  );
  const buckets = legendRows().map(([fill, label]) => legendItem(fill, label));
  byId("coop-legend").replaceChildren(...buckets, offered);
}
