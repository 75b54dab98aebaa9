// The open layers of the page's catalogue (config.layers) and which of them the resident has
// switched on, remembered per browser.

const STORAGE_KEY = "wijkkaart:layers";
// Shown unless the resident switched them off; addresses and PC4 areas are too busy by default.
const ON_BY_DEFAULT = new Set(["area", "building", "green", "tree", "playground"]);

/** The open layers of the catalogue (the contributions have their own markers). */
export function openLayers(catalogue) {
  return (catalogue || []).filter((layer) => layer.kind !== "contribution");
}

/** Area layers (buurten) are drawn by the map's GeoJSON overlay with their names, not as tiles. */
export const drawnAsOverlay = (layer) => layer.kind === "area";

/** Whether a zoom level is inside a layer's range (its tiles exist there). */
export function inZoom(layer, zoom) {
  return zoom >= layer.min_zoom && zoom <= layer.max_zoom;
}

/** The resident's choices, {layer name (or "basemap"): on?}. */
export function readChoices() {
  try {
    return JSON.parse(localStorage.getItem(STORAGE_KEY)) || {};
  } catch {
    return {};
  }
}

export function saveChoices(choices) {
  try {
    localStorage.setItem(STORAGE_KEY, JSON.stringify(choices));
  } catch {
    // No storage (private browsing): the choice lasts as long as the page.
  }
}

/** Whether a layer is on: as the resident chose it, else by its kind. */
export function isOn(layer, choices) {
  return layer.name in choices ? choices[layer.name] : ON_BY_DEFAULT.has(layer.kind);
}
