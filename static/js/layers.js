// The open-data layers on the map: vector tiles from /tiles/… drawn by protomaps-leaflet, the
// layer switcher with its legend (remembered per browser), and looking up which objects lie
// under a click (/api/v1/layers/…/features) for the inspect popup and for linking a contribution.

import { config, containsPoint, el, escapeHtml, t } from "./common.js";

const STORAGE_KEY = "wijkkaart:layers";
// Shown unless the resident switched them off; addresses and PC4 areas are too busy by default.
const ON_BY_DEFAULT = new Set(["area", "building", "green", "tree", "playground"]);
// When a click hits several layers, the most specific object wins.
const PICK_ORDER = ["tree", "address", "playground", "building", "roof", "green", "postcode", "area"];
// Beyond this zoom the tiles of the last data zoom are scaled up (full detail from z16 on).
const MAX_DATA_ZOOM = 17;
const CLICK_RADIUS_PX = 6;

// Colours per kind of layer; `shape` picks the legend swatch and the paint rule.
export const LAYER_STYLES = {
  building: { shape: "area", fill: "#d6d3ce", stroke: "#8c8781", opacity: 0.9 },
  roof: { shape: "area", fill: "#f3c969", stroke: "#b7892b", opacity: 0.7 },
  green: { shape: "area", fill: "#8cc084", stroke: "#3f7f3a", opacity: 0.6 },
  playground: { shape: "area", fill: "#f1bcd9", stroke: "#a2457f", opacity: 0.6 },
  postcode: { shape: "outline", stroke: "#6a3d9a", width: 1.6 },
  area: { shape: "outline", stroke: "#3b4a5e", width: 1.5 },
  address: { shape: "dot", fill: "#154273", stroke: "#ffffff", radius: 2.5 },
  tree: { shape: "dot", fill: "#2f7d32", stroke: "#ffffff", radius: 4 },
};
const FAMILY_STYLES = {
  polygon: { shape: "area", fill: "#c9d3df", stroke: "#4b5563", opacity: 0.5 },
  line: { shape: "line", stroke: "#4b5563", width: 2 },
  point: { shape: "dot", fill: "#4b5563", stroke: "#ffffff", radius: 3 },
};

export function layerStyle(layer) {
  return LAYER_STYLES[layer.kind] || FAMILY_STYLES[layer.geometry_family] || FAMILY_STYLES.polygon;
}

/** The open layers of the catalogue (the contributions have their own markers). */
export function openLayers(catalogue) {
  return (catalogue || []).filter((layer) => layer.kind !== "contribution");
}

/** Area layers (buurten) are drawn by the map's GeoJSON overlay with their names, not as tiles. */
export const drawnAsOverlay = (layer) => layer.kind === "area";

function attributionOf(layer) {
  if (!layer.attribution) return null;
  return `<span title="${escapeHtml(layer.licence || "")}">${escapeHtml(layer.attribution)}</span>`;
}

function paintRules(layer) {
  const style = layerStyle(layer);
  const dataLayer = layer.name;
  const P = window.protomapsL;
  if (style.shape === "dot") {
    const circle = { radius: style.radius, fill: style.fill, stroke: style.stroke, width: 1 };
    return [{ dataLayer, symbolizer: new P.CircleSymbolizer(circle) }];
  }
  const outline = new P.LineSymbolizer({ color: style.stroke, width: style.width || 0.8 });
  if (style.shape !== "area") return [{ dataLayer, symbolizer: outline }];
  const fill = new P.PolygonSymbolizer({ fill: style.fill, opacity: style.opacity });
  return [
    { dataLayer, symbolizer: fill },
    { dataLayer, symbolizer: outline },
  ];
}

function tileLayer(layer, pane) {
  return window.protomapsL.leafletLayer({
    url: layer.tiles,
    paintRules: paintRules(layer),
    labelRules: [],
    levelDiff: 0, // our tiles are 256-pixel tiles of their own zoom, not 512-pixel ones
    maxDataZoom: Math.min(layer.max_zoom, MAX_DATA_ZOOM),
    minZoom: layer.min_zoom,
    maxZoom: 22,
    pane,
    className: `layer-tiles layer-tiles--${layer.name}`,
    attribution: attributionOf(layer),
  });
}

/**
 * The tile layers a resident has on (or that are on by default) on a map without a switcher,
 * such as the edit page's; returns the open layers, for picking objects.
 */
export function addTileLayers(map) {
  const choices = readChoices();
  const layers = openLayers(config.layers);
  map.createPane("openLayers").style.zIndex = "300";
  for (const layer of layers) {
    const on = layer.name in choices ? choices[layer.name] : ON_BY_DEFAULT.has(layer.kind);
    if (on && !drawnAsOverlay(layer)) tileLayer(layer, "openLayers").addTo(map);
  }
  return layers;
}

function readChoices() {
  try {
    return JSON.parse(localStorage.getItem(STORAGE_KEY)) || {};
  } catch {
    return {};
  }
}

function saveChoices(choices) {
  try {
    localStorage.setItem(STORAGE_KEY, JSON.stringify(choices));
  } catch {
    // No storage (private browsing): the choice lasts as long as the page.
  }
}

function swatch(layer) {
  const style = layerStyle(layer);
  const node = el("span", { class: `layer-swatch layer-swatch--${style.shape}`, "aria-hidden": "true" });
  // Set through the CSSOM, which the page's CSP allows (unlike style attributes in markup).
  if (style.fill) node.style.backgroundColor = style.fill;
  node.style.borderColor = style.stroke;
  return node;
}

/**
 * The layer switcher in `container` for the catalogue's open layers.
 * `overlay(layer)` returns the Leaflet layer that draws an area layer (or null).
 */
export function setupLayers({ map, container, overlay, basemap }) {
  const layers = openLayers(config.layers);
  const choices = readChoices();
  const entries = new Map(); // name -> {layer, leaflet, checkbox, note}
  // Above the buurten (whose light fill is the land without a basemap), under contributions.
  map.createPane("openLayers").style.zIndex = "300";

  const list = container.querySelector(".layers__list");
  list.replaceChildren();
  container.querySelector(".layers__empty").hidden = layers.length > 0 || Boolean(basemap);

  if (basemap) {
    const checkbox = el("input", { type: "checkbox", class: "layers__checkbox", value: "basemap" });
    checkbox.checked = choices.basemap !== false;
    const item = el(
      "li",
      { class: "layers__item" },
      el(
        "label",
        { class: "layers__label" },
        checkbox,
        el("span", { class: "layer-swatch layer-swatch--basemap", "aria-hidden": "true" }),
        el("span", { class: "layers__name" }, t("layers.basemap")),
      ),
    );
    list.append(item);
    const sync = () => {
      if (checkbox.checked) basemap.addTo(map);
      else basemap.remove();
      map.getContainer().classList.toggle("map--no-basemap", !checkbox.checked);
    };
    checkbox.addEventListener("change", () => {
      choices.basemap = checkbox.checked;
      saveChoices(choices);
      sync();
    });
    sync();
  }

  for (const layer of layers) {
    const leaflet = drawnAsOverlay(layer) ? overlay(layer) : tileLayer(layer, "openLayers");
    if (!leaflet) continue;
    const noteId = `layer-note-${layer.name}`;
    const checkbox = el("input", {
      type: "checkbox",
      class: "layers__checkbox",
      value: layer.name,
      "aria-describedby": noteId,
    });
    checkbox.checked = layer.name in choices ? choices[layer.name] : ON_BY_DEFAULT.has(layer.kind);
    const note = el("span", { class: "layers__note", id: noteId });
    list.append(
      el(
        "li",
        { class: "layers__item", "data-layer": layer.name },
        el(
          "label",
          { class: "layers__label" },
          checkbox,
          swatch(layer),
          el("span", { class: "layers__name" }, layer.title),
        ),
        note,
      ),
    );
    const entry = { layer, leaflet, checkbox, note };
    entries.set(layer.name, entry);
    checkbox.addEventListener("change", () => {
      choices[layer.name] = checkbox.checked;
      saveChoices(choices);
      sync(entry);
    });
    sync(entry);
  }

  function inZoom(layer, zoom = map.getZoom()) {
    return zoom >= layer.min_zoom && zoom <= layer.max_zoom;
  }

  // On the map only while switched on and inside its zoom range, so that the attribution names
  // exactly the layers that are drawn.
  function sync(entry) {
    const { layer, leaflet, checkbox, note } = entry;
    const shown = checkbox.checked && inZoom(layer);
    if (shown && !map.hasLayer(leaflet)) leaflet.addTo(map);
    if (!shown && map.hasLayer(leaflet)) leaflet.remove();
    const zoom = map.getZoom();
    let text = "";
    if (zoom < layer.min_zoom) text = t("layers.zoom_in", { title: layer.title });
    else if (zoom > layer.max_zoom) text = t("layers.zoom_out", { title: layer.title });
    note.textContent = text;
    note.hidden = !text;
  }

  map.on("zoomend", () => {
    for (const entry of entries.values()) sync(entry);
  });

  return {
    /** The layers switched on and drawn at this zoom. */
    visible() {
      return [...entries.values()]
        .filter((e) => e.checkbox.checked && inZoom(e.layer))
        .map((e) => e.layer);
    },
    inZoom,
  };
}

// -- What lies under a click ---------------------------------------------------------------------


/** The one feature of a layer's answer that best matches the click. */
function best(features, lng, lat) {
  const inside = features.find((f) => containsPoint(f.geometry, lng, lat));
  if (inside) return inside;
  const distance = (f) => {
    const c = f.geometry.type === "Point" ? f.geometry.coordinates : null;
    return c ? Math.hypot(c[0] - lng, c[1] - lat) : Infinity;
  };
  return [...features].sort((a, b) => distance(a) - distance(b))[0];
}

/**
 * The objects of `layers` at a clicked point, most specific first:
 * [{layer, feature}], or null when the server could not be asked.
 */
export async function objectsAt(map, latlng, layers, { request, signal } = {}) {
  const at = map.latLngToContainerPoint(latlng);
  const sw = map.containerPointToLatLng([at.x - CLICK_RADIUS_PX, at.y + CLICK_RADIUS_PX]);
  const ne = map.containerPointToLatLng([at.x + CLICK_RADIUS_PX, at.y - CLICK_RADIUS_PX]);
  const bbox = [sw.lng, sw.lat, ne.lng, ne.lat].map((v) => v.toFixed(7)).join(",");
  const ordered = [...layers].sort(
    (a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name),
  );
  const results = await Promise.all(
    ordered.map((layer) => request(`${layer.features}?bbox=${bbox}&limit=5`, { signal })),
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

function rank(layer) {
  const index = PICK_ORDER.indexOf(layer.kind);
  return index === -1 ? PICK_ORDER.length : index;
}

/** "Pand 0457100000012345" — a noun for the kind of object and its id. */
export function objectName(kind, id) {
  const key = `object.kind.${kind}`;
  const noun = t(key) === key ? t("object.kind.other") : t(key);
  return `${noun} ${id}`;
}

/** "Pand 0457… (Panden (BAG))" for an object reference {layer, id, layer_title?}. */
export function objectLabel(object, catalogue) {
  const layer = (catalogue || []).find((l) => l.name === object.layer);
  const title = object.layer_title || layer?.title || object.layer;
  return `${objectName(layer?.kind, object.id)} (${title})`;
}

// -- The inspect popup ---------------------------------------------------------------------------

function propertyLabel(column) {
  const key = `layerprop.${column}`;
  return t(key) === key ? column.replace(/_/g, " ") : t(key);
}

function propertyValue(value) {
  if (Array.isArray(value)) return value.join(", ");
  if (typeof value === "boolean") return t(value ? "inspect.yes" : "inspect.no");
  return String(value);
}

/** The popup for an inspected object, all text through textContent. */
export function inspectContent({ layer, feature }, { onAttach }) {
  const properties = feature.properties || {};
  const id = properties.feature_id ?? feature.id;
  const rows = [[t("inspect.feature_id"), id]];
  // The layer's typed columns (the same as in its tiles), not every field of the source file.
  for (const name of layer.columns || []) {
    const value = properties[name];
    if (value === null || value === undefined || value === "") continue;
    if (typeof value === "object" && !Array.isArray(value)) continue;
    rows.push([propertyLabel(name), propertyValue(value)]);
  }
  const attach = el(
    "button",
    { type: "button", class: "button button--primary button--small inspect__attach" },
    t("inspect.attach"),
  );
  attach.addEventListener("click", () => onAttach({ layer, feature, id: String(id) }));
  return el(
    "div",
    { class: "popup inspect", "data-layer": layer.name },
    el("p", { class: "popup__meta" }, swatch(layer), el("span", {}, layer.title)),
    el("h3", { class: "popup__title" }, objectName(layer.kind, id)),
    el(
      "dl",
      { class: "inspect__facts" },
      rows.map(([label, value]) =>
        el("div", { class: "inspect__row" }, el("dt", {}, label), el("dd", {}, value)),
      ),
    ),
    attach,
  );
}
