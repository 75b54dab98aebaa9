// The shortlist: the buildings of the chosen area that pass the filters, ranked by yield, with
// totals and CSV/GeoPackage export links for the same query.

import { byId, el, formatNumber, request, t } from "../common.js";
import { addAreaParams, areaReady } from "./area.js";
import { showBuilding } from "./building.js";
import { clearFieldErrors, showShortlistErrors } from "./fields.js";
import { decimal, kg, kwh, say } from "./text.js";

const EXPORT_LIMIT = "5000";
const YEAR_FILTERS = [
  ["filter-year-from", "year_from"],
  ["filter-year-to", "year_to"],
];

function addFilterParams(page, params) {
  const minKwp = byId("filter-min-kwp").value;
  if (minKwp) params.set("min_kwp", minKwp);
  const checked = document.querySelectorAll('input[name="suitability"]:checked');
  const classes = [...checked].map((c) => c.value);
  if (classes.length < page.solar.classes.length) params.set("suitability", classes.join(","));
  const usage = byId("filter-usage").value;
  if (usage) params.set("usage", usage);
  for (const [id, name] of YEAR_FILTERS) {
    const value = byId(id).value;
    if (value) params.set(name, value);
  }
  if (byId("filter-offered").checked) params.set("offered", "true");
}

function shortlistQuery(page) {
  const params = new URLSearchParams();
  addAreaParams(page, params);
  addFilterParams(page, params);
  return params;
}

function totalsList(totals) {
  const rows = [
    ["solar.total.roofs", formatNumber(totals.roofs)],
    ["solar.total.kwp", t("solar.unit.kwp", { value: formatNumber(totals.kwp) })],
    ["solar.total.kwh", kwh(totals.kwh_year)],
    ["solar.total.households", decimal(totals.households)],
    ["solar.total.co2", kg(totals.co2_kg_year)],
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

// Rows are added a page at a time: a long shortlist is not hundreds of tab stops at once.
const ROWS_PER_PAGE = 25;

/** A row; the building's name opens its popup on the map (focus goes in, and comes back to
 *  this button when the popup closes). */
function shortlistRow(page, feature) {
  const p = feature.properties;
  const name = el(
    "button",
    { type: "button", class: "button button--link coop-table__building" },
    p.address || p.bag_id,
  );
  name.addEventListener("click", () => {
    const bounds = L.geoJSON(feature).getBounds();
    page.map.fitBounds(bounds, { maxZoom: 18, animate: false });
    page.popups.openedFrom(() =>
      document.querySelector(`#shortlist-table tr[data-bag-id="${CSS.escape(p.bag_id)}"] button`),
    );
    showBuilding(page, bounds.getCenter());
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
}

function setExportLinks(params) {
  for (const format of ["csv", "gpkg"]) {
    const exportParams = new URLSearchParams(params);
    exportParams.set("format", format);
    exportParams.set("limit", EXPORT_LIMIT);
    byId(`export-${format}`).href = `/api/v1/solar/shortlist?${exportParams}`;
  }
}

function showShortlist(page, data, params) {
  byId("shortlist").hidden = false;
  byId("shortlist-totals").replaceChildren(...totalsList(data.totals));
  byId("shortlist-empty").hidden = data.features.length > 0;
  byId("shortlist-table").hidden = data.features.length === 0;
  setExportLinks(params);
  page.state.shortlistRows = data.features;
  document.querySelector("#shortlist-table tbody").replaceChildren();
  addRows(page);
  say(t("solar.shortlist.done", { count: formatNumber(data.totals.roofs) }));
}

/** The next page of rows; "Toon … meer" while some are left. */
function addRows(page) {
  const body = document.querySelector("#shortlist-table tbody");
  const all = page.state.shortlistRows;
  const from = body.rows.length;
  const next = all.slice(from, from + ROWS_PER_PAGE).map((f) => shortlistRow(page, f));
  body.append(...next);
  const shown = body.rows.length;
  const left = all.length - shown;
  const more = byId("shortlist-more");
  more.hidden = left <= 0;
  more.textContent = t("solar.shortlist.more", { count: Math.min(left, ROWS_PER_PAGE) });
  const status = byId("shortlist-shown");
  status.hidden = all.length <= ROWS_PER_PAGE;
  status.textContent = t("solar.shortlist.shown", {
    shown: formatNumber(shown),
    total: formatNumber(all.length),
  });
  return next[0] || null;
}

export async function loadShortlist(page) {
  const params = shortlistQuery(page);
  const general = byId("shortlist-error");
  if (!areaReady(page)) {
    clearFieldErrors(general);
    general.textContent = t("solar.area.draw_first");
    general.hidden = false;
    return;
  }
  say(t("solar.shortlist.loading"));
  const result = await request(`/api/v1/solar/shortlist?${params}`);
  say("");
  if (!result.ok) {
    showShortlistErrors(result, general);
    return;
  }
  clearFieldErrors(general);
  showShortlist(page, result.data, params);
}

/** After an offer: the shortlist, when shown, counts it. */
export function refreshShortlist(page) {
  if (!byId("shortlist").hidden) loadShortlist(page);
}

export function wireShortlist(page) {
  byId("shortlist-more").addEventListener("click", () => {
    // Focus goes to the first new row, so reading goes on where it left off.
    const first = addRows(page);
    if (first) first.querySelector("button").focus();
  });
  byId("shortlist-form").addEventListener("submit", (event) => {
    event.preventDefault();
    loadShortlist(page);
  });
}
