// Location privacy, told while placing: near a home the public map shows a point, a short line
// or a small area approximately (the centre of its grid cell). After a place is drawn or moved we
// ask the server, which uses the same rule as the map (/api/v1/location-check), and say so in a
// live region; the resident can move it. Used by the add flow, a process page and the private
// edit page.

import { el, formatNumber, request, t } from "./common.js";

export class LocationNotice {
  /** `region`: an element with aria-live that stays in the page; the notice goes inside it. */
  constructor(region) {
    this.region = region;
    this.search = null;
  }

  /** Check a placed point (a Leaflet LatLng) or a drawn layer: a marker, a line or an area.
   * Nothing (null) clears. */
  async check(place) {
    this.search?.abort();
    const asked = questionFor(place);
    if (!asked) {
      this.clear();
      return;
    }
    this.search = new AbortController();
    const result = await request(`/api/v1/location-check?${asked.query}`, { signal: this.search.signal });
    if (result.aborted) return;
    if (!result.ok || !result.data) {
      this.clear(); // the check is a courtesy: placing works without it (a huge shape included)
      return;
    }
    this.show(result.data, { point: asked.point });
  }

  /** Say it (or clear it): `answer` as the server gives it; a line or area is told apart. */
  show({ approximate, cell_m: cell }, { point = true } = {}) {
    if (!approximate) {
      this.clear();
      return;
    }
    const key = point ? "location_privacy.notice" : "location_privacy.notice_shape";
    const text = t(key, { cell: formatNumber(cell) });
    this.region.replaceChildren(el("p", { class: "notice notice--info location-notice" }, text));
    this.region.dataset.approximate = "true";
  }

  clear() {
    this.search?.abort();
    this.region.replaceChildren();
    delete this.region.dataset.approximate;
  }
}

/** The LatLng of a Leaflet layer when it is a single point (a marker), else null. */
function pointOf(layer) {
  return layer && layer.getLatLng && !layer.getLatLngs ? layer.getLatLng() : null;
}

/** The location-check query for a LatLng or a layer, and whether it is a point; null for none. */
function questionFor(place) {
  if (!place) return null;
  const latlng = typeof place.lat === "number" ? place : pointOf(place);
  if (latlng) {
    return { query: `lon=${latlng.lng.toFixed(7)}&lat=${latlng.lat.toFixed(7)}`, point: true };
  }
  if (!place.toGeoJSON) return null;
  const geometry = JSON.stringify(place.toGeoJSON(7).geometry);
  return { query: `geometry=${encodeURIComponent(geometry)}`, point: false };
}
