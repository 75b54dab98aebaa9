// "Bestaat dit al?": the published contributions near what is being drawn, listed beside the
// form and ringed on the map, so residents can join an existing one instead of repeating it.

import {
  byId,
  categoryBadge,
  categoryLabel,
  el,
  formatNumber,
  representativeLatLng,
  request,
  statusLabel,
  t,
} from "../common.js";
import { drawnBounds } from "./shape.js";

const NEARBY_MAX_M = 500;
const NEARBY_LIMIT = 5;

/** Metres around the drawing's centre: its half diagonal plus 50, at most the API's 500. */
function searchRadius(map, bounds) {
  const halfDiagonal = map.distance(bounds.getSouthWest(), bounds.getNorthEast()) / 2;
  return Math.round(Math.min(NEARBY_MAX_M, 50 + halfDiagonal));
}

function highlight(at) {
  return L.circleMarker(at, {
    pane: "highlight",
    radius: 22,
    color: "#154273",
    weight: 3,
    dashArray: "4 4",
    fillColor: "#ffdd00",
    fillOpacity: 0.35,
    interactive: false,
  });
}

function listItem(feature, distance) {
  const p = feature.properties;
  return el(
    "li",
    { class: "nearby__item" },
    categoryBadge(p.category),
    el(
      "div",
      { class: "nearby__body" },
      el(
        "a",
        { href: p.url, target: "_blank", rel: "noopener", class: "nearby__link" },
        p.title,
        el("span", { class: "visually-hidden" }, ` (${t("nearby.new_tab")})`),
      ),
      el(
        "span",
        { class: "nearby__meta" },
        `${categoryLabel(p.category)} · ${statusLabel(p.status)} · ${distance}`,
      ),
    ),
  );
}

function say(results, className, text) {
  results.replaceChildren(el("p", { class: className }, text));
}

function showFound(flow, results, features, centre) {
  const { map, nearbyLayer } = flow;
  const list = el("ul", { class: "nearby__list" });
  for (const feature of features) {
    const at = L.latLng(representativeLatLng(feature.geometry));
    const distance = t("nearby.distance", { distance: formatNumber(map.distance(centre, at)) });
    list.append(listItem(feature, distance));
    highlight(at).addTo(nearbyLayer);
  }
  const count =
    features.length === 1 ? t("nearby.count_one") : t("nearby.count_other", { count: features.length });
  results.replaceChildren(el("p", { class: "nearby__count" }, count), list);
}

/** Ask the API what lies near the drawing (a newer search cancels an older one). */
export async function searchNearby(flow) {
  const { map, state, nearbyLayer } = flow;
  if (!state.drawn) return;
  const bounds = drawnBounds(state.drawn);
  const centre = bounds.getCenter();
  const radius = searchRadius(map, bounds);
  state.nearbySearch?.abort();
  state.nearbySearch = new AbortController();
  const results = byId("nearby-results");
  results.setAttribute("aria-busy", "true");
  say(results, "muted", t("nearby.loading"));
  const near = `${centre.lng.toFixed(6)},${centre.lat.toFixed(6)}`;
  const url = `/api/v1/contributions?near=${near}&radius=${radius}&limit=${NEARBY_LIMIT}`;
  const result = await request(url, { signal: state.nearbySearch.signal });
  if (result.aborted) return;
  results.setAttribute("aria-busy", "false");
  nearbyLayer.clearLayers();
  if (!result.ok || !result.data) say(results, "muted", t("nearby.error"));
  else if (!result.data.features.length) say(results, "nearby__empty", t("nearby.empty", { radius }));
  else showFound(flow, results, result.data.features, centre);
}

export function clearNearby(flow) {
  flow.state.nearbySearch?.abort();
  flow.nearbyLayer.clearLayers();
  byId("nearby-results").replaceChildren();
}
