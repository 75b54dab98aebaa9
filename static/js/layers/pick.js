// Which objects of the open layers lie under a click (/api/v1/layers/…/features), most
// specific first: for the inspect popup, for linking a contribution, for the co-op's roofs.

import { containsPoint } from "../common.js";

// When a click hits several layers, the most specific object wins.
const PICK_ORDER = ["tree", "address", "playground", "building", "roof", "green", "postcode", "area"];
const CLICK_RADIUS_PX = 6;
const PER_LAYER = 5;

function rank(layer) {
  const index = PICK_ORDER.indexOf(layer.kind);
  return index === -1 ? PICK_ORDER.length : index;
}

/** The one feature of a layer's answer that best matches the click: one containing it, else
 *  the nearest point. */
function best(features, lng, lat) {
  const inside = features.find((f) => containsPoint(f.geometry, lng, lat));
  if (inside) return inside;
  const distance = (f) => {
    const c = f.geometry.type === "Point" ? f.geometry.coordinates : null;
    return c ? Math.hypot(c[0] - lng, c[1] - lat) : Infinity;
  };
  return [...features].sort((a, b) => distance(a) - distance(b))[0];
}

/** A few pixels around the click, as the API's bbox. */
function clickBox(map, latlng) {
  const at = map.latLngToContainerPoint(latlng);
  const sw = map.containerPointToLatLng([at.x - CLICK_RADIUS_PX, at.y + CLICK_RADIUS_PX]);
  const ne = map.containerPointToLatLng([at.x + CLICK_RADIUS_PX, at.y - CLICK_RADIUS_PX]);
  return [sw.lng, sw.lat, ne.lng, ne.lat].map((v) => v.toFixed(7)).join(",");
}

/**
 * The objects of `layers` at a clicked point, most specific first:
 * [{layer, feature}], or null when the server could not be asked.
 */
export async function objectsAt(map, latlng, layers, { request, signal } = {}) {
  const bbox = clickBox(map, latlng);
  const ordered = [...layers].sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name));
  const results = await Promise.all(
    ordered.map((layer) => request(`${layer.features}?bbox=${bbox}&limit=${PER_LAYER}`, { signal })),
  );
  if (results.some((r) => r.aborted)) return null;
  if (results.length && results.every((r) => !r.ok)) return null;
  const found = [];
  results.forEach((result, i) => {
    const features = result.ok && result.data ? result.data.features : [];
    if (features.length) found.push({ layer: ordered[i], feature: best(features, latlng.lng, latlng.lat) });
  });
  return found;
}
