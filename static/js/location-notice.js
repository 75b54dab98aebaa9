// Location privacy, told while placing: near a home the public map shows a point approximately
// (the centre of its grid cell). After a point is placed or moved we ask the server, which uses
// the same rule as the map (/api/v1/location-check), and say so in a live region; the resident
// can move the point. Used by the add flow, a process page and the private edit page.

import { el, formatNumber, request, t } from "./common.js";

export class LocationNotice {
  /** `region`: an element with aria-live that stays in the page; the notice goes inside it. */
  constructor(region) {
    this.region = region;
    this.search = null;
  }

  /** Check a placed point (a Leaflet LatLng); anything else is not a point and clears. */
  async check(latlng) {
    this.search?.abort();
    if (!latlng) {
      this.clear();
      return;
    }
    this.search = new AbortController();
    const query = `lon=${latlng.lng.toFixed(7)}&lat=${latlng.lat.toFixed(7)}`;
    const result = await request(`/api/v1/location-check?${query}`, { signal: this.search.signal });
    if (result.aborted) return;
    if (!result.ok || !result.data) {
      this.clear(); // the check is a courtesy: placing works without it
      return;
    }
    this.show(result.data);
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
export function pointOf(layer) {
  return layer && layer.getLatLng && !layer.getLatLngs ? layer.getLatLng() : null;
}
