// The resident's map (/): buurten, the open layers with their switcher (layers/), click to
// inspect an object, contributions (clustered, loaded page by page per view), the legend with
// its category filter, and the way in to adding a contribution (add/).

import {
  bboxParam,
  containsPoint,
  buurtStyle,
  categoryIcon,
  categoryLabel,
  config,
  createMap,
  el,
  escapeHtml,
  formatNumber,
  representativeLatLng,
  request,
  shapeStyle,
  t,
} from "./common.js";
import { setupAddFlow } from "./add/index.js";
import { setupAddressSearch } from "./address-search.js";
import { contributionPopup, setupContributionList } from "./contribution-list.js";
import { openLayers } from "./layers/catalogue.js";
import { inspectContent } from "./layers/inspect.js";
import { objectsAt } from "./layers/pick.js";
import { layerAttribution } from "./layers/styles.js";
import { setupLayers } from "./layers/switcher.js";
import { setupPanel } from "./panel.js";
import { accessiblePopups, quietClusters, quietMarker } from "./popup-focus.js";

const MAX_PAGES = 20; // per view; more than that and we ask people to zoom in
const PAGE_LIMIT = Math.min(1000, config.pageMax || 1000);
const SHAPES_FROM_ZOOM = 15;
const LABELS_FROM_ZOOM = 13;
const BUURTEN_FROM_ZOOM = 11;
const RELOAD_AFTER_MS = 2 * 60 * 1000;

const container = document.getElementById("map");
const map = createMap(container, { draw: true, switchable: true });
window.kaartMap = map;
setupAddressSearch(document.getElementById("address-search"), map);
const popups = accessiblePopups(map);

const PANES = [
  ["buurten", 250],
  ["contributionShapes", 420],
  ["buurtLabels", 560], // names under the markers, so they never hide a contribution
  ["highlight", 580],
  ["contributions", 590],
];
for (const [name, zIndex] of PANES) {
  map.createPane(name).style.zIndex = String(zIndex);
}

// -- Buurten -----------------------------------------------------------------------------------

const buurten = new Map(); // code -> {feature, layer}
// One group of outlines and names per area layer, switched on and off in the layer switcher.
const areaGroups = new Map(); // layer name -> L.LayerGroup
let buurtController = null;

function areaGroup(name) {
  if (!areaGroups.has(name)) {
    const layer = openLayers(config.layers).find((l) => l.name === name);
    const group = L.layerGroup([], { attribution: layerAttribution(layer) });
    if (!layer) group.addTo(map); // not in the switcher: always shown
    areaGroups.set(name, group);
  }
  return areaGroups.get(name);
}

async function loadBuurten() {
  if (map.getZoom() < BUURTEN_FROM_ZOOM) return;
  buurtController?.abort();
  buurtController = new AbortController();
  const result = await request(`/api/v1/buurten?bbox=${bboxParam(map.getBounds().pad(0.5))}`, {
    signal: buurtController.signal,
  });
  if (!result.ok || !result.data) return;
  for (const feature of result.data.features) {
    const code = feature.properties.code;
    if (buurten.has(code)) continue;
    const group = areaGroup(feature.properties.layer);
    const layer = L.geoJSON(feature, {
      pane: "buurten",
      interactive: false,
      style: buurtStyle(),
    }).addTo(group);
    const label = L.tooltip({
      permanent: true,
      direction: "center",
      className: "buurt-label",
      interactive: false,
      pane: "buurtLabels",
    })
      .setLatLng(representativeLatLng(feature.geometry))
      .setContent(el("span", {}, feature.properties.name));
    // A name painted on the map, not a tooltip of something: screen readers hear the buurt
    // from the map's status line instead (Leaflet would give it role=tooltip).
    label.on("add", () => {
      const node = label.getElement();
      node.removeAttribute("role");
      node.setAttribute("aria-hidden", "true");
    });
    group.addLayer(label);
    buurten.set(code, { feature, layer });
  }
  updateStatus();
}

function syncLabels() {
  container.classList.toggle("map--labels", map.getZoom() >= LABELS_FROM_ZOOM);
}

/** The buurt under the map's centre (ray casting over the loaded outlines), or null. */
function buurtAtCentre() {
  const { lng, lat } = map.getCenter();
  for (const buurt of buurten.values()) {
    if (!buurt.layer.getBounds().contains([lat, lng])) continue;
    if (containsPoint(buurt.feature.geometry, lng, lat)) return buurt;
  }
  return null;
}

// The buurt in the middle of the view is outlined, matching "Buurt: …" in the panel.
let currentBuurt = null;
function markCurrentBuurt(buurt) {
  if (buurt === currentBuurt) return;
  currentBuurt?.layer.setStyle(buurtStyle());
  buurt?.layer.setStyle(buurtStyle({ current: true }));
  currentBuurt = buurt;
}


// -- Contributions -----------------------------------------------------------------------------

const store = new Map(); // id -> {feature, marker, shape, category, latlng}
const hiddenCategories = new Set();
const shapeRenderer = L.canvas({ pane: "contributionShapes", padding: 0.5 });
const shapes = L.layerGroup();
const cluster = L.markerClusterGroup({
  chunkedLoading: true,
  chunkInterval: 120,
  clusterPane: "contributions",
  showCoverageOnHover: false,
  maxClusterRadius: 44,
  spiderfyOnMaxZoom: true,
  disableClusteringAtZoom: 19,
  iconCreateFunction: clusterIcon,
}).addTo(map);
quietClusters(map.getPane("contributions"));

function clusterIcon(group) {
  const count = group.getChildCount();
  const size = count < 10 ? "small" : count < 100 ? "medium" : "large";
  const px = { small: 36, medium: 44, large: 52 }[size];
  const label = t("map.cluster", { count: formatNumber(count) });
  return L.divIcon({
    className: `marker-cluster kaart-cluster kaart-cluster--${size}`,
    html:
      `<span aria-hidden="true">${formatNumber(count)}</span>` +
      `<span class="visually-hidden">${escapeHtml(label)}</span>`,
    iconSize: L.point(px, px),
  });
}

function makeEntry(feature) {
  const { category } = feature.properties;
  const latlng = L.latLng(representativeLatLng(feature.geometry));
  const isPoint = feature.geometry.type === "Point" || feature.geometry.type === "MultiPoint";
  const marker = L.marker(latlng, {
    icon: categoryIcon(category, isPoint ? "point" : "shape"),
    title: feature.properties.title,
    riseOnHover: true,
    keyboard: true,
  });
  quietMarker(marker, `${feature.properties.title} (${categoryLabel(category)})`);
  marker.bindPopup(() => contributionPopup(feature), { maxWidth: 300, minWidth: 220 });
  marker.on("popupopen", () => list.highlight(feature.id));
  marker.on("popupclose", () => list.unhighlight(feature.id));
  marker.feature = feature;
  const shape = isPoint
    ? null
    : L.geoJSON(feature.geometry, {
        style: () => shapeStyle(category),
        renderer: shapeRenderer,
        interactive: false,
      });
  return { id: feature.id, feature, marker, shape, category, latlng };
}

/** Add (or refresh) features; returns how many were new. */
function addFeatures(features) {
  const markers = [];
  let added = 0;
  for (const feature of features) {
    const known = store.get(feature.id);
    if (known) {
      if (known.feature.properties.updated_at === feature.properties.updated_at) continue;
      removeEntry(known);
    } else {
      added += 1;
    }
    const entry = makeEntry(feature);
    store.set(feature.id, entry);
    if (!hiddenCategories.has(entry.category)) {
      markers.push(entry.marker);
      if (entry.shape) shapes.addLayer(entry.shape);
    }
  }
  if (markers.length) cluster.addLayers(markers);
  return added;
}

function removeEntry(entry) {
  cluster.removeLayer(entry.marker);
  if (entry.shape) shapes.removeLayer(entry.shape);
  store.delete(entry.feature.id);
}

function syncShapes() {
  const wanted = map.getZoom() >= SHAPES_FROM_ZOOM;
  if (wanted && !map.hasLayer(shapes)) shapes.addTo(map);
  if (!wanted && map.hasLayer(shapes)) shapes.remove();
}

// -- Loading what is in view, page by page -------------------------------------------------------

const loaded = []; // {bbox, time} of views loaded completely
let viewController = null;
let state = "loading";
let truncated = false;

const bboxOf = (bounds) => bboxParam(bounds).split(",").map(Number);

const within = (inner, outer) =>
  inner[0] >= outer[0] && inner[1] >= outer[1] && inner[2] <= outer[2] && inner[3] <= outer[3];

function setState(next) {
  state = next;
  document.body.dataset.contributionsState = next;
  document.getElementById("map-loading").hidden = next !== "loading";
  updateStatus();
}

function markLoaded() {
  document.body.dataset.contributionsLoaded = String(store.size);
}

async function loadView({ force = false } = {}) {
  const bounds = map.getBounds().pad(0.25);
  const bbox = bboxOf(bounds);
  const now = Date.now();
  if (!force && loaded.some((l) => within(bbox, l.bbox) && now - l.time < RELOAD_AFTER_MS)) {
    markLoaded();
    updateStatus();
    return;
  }
  viewController?.abort();
  const controller = new AbortController();
  viewController = controller;
  document.getElementById("load-error").hidden = true;
  setState("loading");
  let url = `/api/v1/contributions?bbox=${bboxParam(bounds)}&limit=${PAGE_LIMIT}`;
  let pages = 0;
  while (url && pages < MAX_PAGES) {
    const result = await request(url, { signal: controller.signal });
    if (result.aborted || controller.signal.aborted) return;
    if (!result.ok || !result.data) {
      document.getElementById("load-error").hidden = false;
      setState("error");
      return;
    }
    addFeatures(result.data.features);
    markLoaded();
    pages += 1;
    const next = (result.data.links || []).find((link) => link.rel === "next");
    url = next ? next.href : null;
  }
  truncated = Boolean(url);
  if (!truncated) loaded.push({ bbox, time: now });
  setState("idle");
}

// -- What the panel says about the view, and the list beside the map ------------------------------

const list = setupContributionList(document.getElementById("contribution-list"), {
  map,
  popups,
  scrollToCurrent: true,
  entries() {
    const bounds = map.getBounds();
    return [...store.values()].filter(
      (entry) => !hiddenCategories.has(entry.category) && bounds.contains(entry.latlng),
    );
  },
  show(entry) {
    cluster.zoomToShowLayer(entry.marker, () => entry.marker.openPopup());
  },
});

function updateStatus() {
  const bounds = map.getBounds();
  const counts = Object.fromEntries(config.categories.map((c) => [c, 0]));
  for (const entry of store.values()) {
    if (bounds.contains(entry.latlng) && entry.category in counts) counts[entry.category] += 1;
  }
  let visible = 0;
  for (const category of config.categories) {
    const count = counts[category];
    if (!hiddenCategories.has(category)) visible += count;
    const node = document.querySelector(`[data-count-for="${category}"]`);
    if (node) node.textContent = formatNumber(count);
  }
  list.update({
    loading: state === "loading",
    emptyText: config.categories.some((c) => hiddenCategories.has(c)) ? t("list.empty_filtered") : t("list.empty"),
  });
  const text = document.getElementById("map-status-text");
  const parts = [];
  const buurt = buurtAtCentre();
  markCurrentBuurt(buurt);
  if (buurt) parts.push(t("map.in_buurt", { name: buurt.feature.properties.name }));
  if (state === "loading" && store.size === 0) {
    parts.push(t("map.loading"));
  } else if (visible === 0) {
    const anyHidden = config.categories.some((c) => hiddenCategories.has(c) && counts[c] > 0);
    parts.push(anyHidden ? t("map.empty_filtered") : t("map.empty"));
  } else {
    parts.push(visible === 1 ? t("map.count_one") : t("map.count_other", { count: formatNumber(visible) }));
  }
  if (truncated) parts.push(t("map.truncated"));
  text.textContent = parts.join(" · ");
  const empty = visible === 0 && state !== "loading";
  document.getElementById("map-status").classList.toggle("map-status--empty", empty);
}

// -- Legend: the category filter ---------------------------------------------------------------

function setCategoryVisible(category, visible) {
  if (visible) hiddenCategories.delete(category);
  else hiddenCategories.add(category);
  const markers = [];
  for (const entry of store.values()) {
    if (entry.category !== category) continue;
    markers.push(entry.marker);
    if (entry.shape) {
      if (visible) shapes.addLayer(entry.shape);
      else shapes.removeLayer(entry.shape);
    }
  }
  if (visible) cluster.addLayers(markers);
  else cluster.removeLayers(markers);
  updateStatus();
}

for (const checkbox of document.querySelectorAll(".legend__checkbox")) {
  checkbox.addEventListener("change", () => setCategoryVisible(checkbox.value, checkbox.checked));
}

// -- Open layers and click to inspect ------------------------------------------------------------

const switcher = setupLayers({
  map,
  container: document.getElementById("layers"),
  overlay: (layer) => areaGroup(layer.name),
  basemap: map.basemap,
});

let inspectController = null;

async function inspect(latlng) {
  inspectController?.abort();
  const controller = new AbortController();
  inspectController = controller;
  const layers = switcher.visible();
  document.body.dataset.inspectState = "loading";
  const found = layers.length ? await objectsAt(map, latlng, layers, { request, signal: controller.signal }) : [];
  if (controller.signal.aborted) return;
  document.body.dataset.inspectState = "idle";
  if (!found || !found.length) return; // nothing there (or no answer): clicking stays quiet
  const highlight = L.geoJSON(found[0].feature.geometry, {
    pane: "highlight",
    interactive: false,
    style: () => ({ color: "#154273", weight: 3, fillColor: "#ffdd00", fillOpacity: 0.25 }),
    pointToLayer: (_f, at) => L.circleMarker(at, { radius: 9 }),
  });
  const content = inspectContent(found[0], {
    onAttach(object) {
      map.closePopup();
      addFlow.attachTo(object, latlng);
    },
  });
  L.popup({ maxWidth: 340, minWidth: 260, className: "inspect-popup" })
    .setLatLng(latlng)
    .setContent(content)
    .on("add", () => highlight.addTo(map))
    .on("remove", () => highlight.remove())
    .openOn(map);
}

// A click on the map inspects what is there, unless someone is drawing or picking an object.
map.on("click", (event) => {
  if (document.body.classList.contains("is-drawing")) return;
  if (addFlow.handleMapClick(event.latlng, switcher.visible())) return;
  inspect(event.latlng);
});

// -- Wiring ------------------------------------------------------------------------------------

let moveTimer = null;
map.on("moveend", () => {
  updateStatus();
  clearTimeout(moveTimer);
  moveTimer = setTimeout(() => {
    loadView();
    loadBuurten();
  }, 250);
});
// Leaflet labels the popup's close button in English.
map.on("popupopen", ({ popup }) => {
  const close = popup.getElement()?.querySelector(".leaflet-popup-close-button");
  close?.setAttribute("aria-label", t("popup.close"));
  close?.setAttribute("title", t("popup.close"));
});
map.on("zoomend", () => {
  syncShapes();
  syncLabels();
});
document.getElementById("load-retry").addEventListener("click", () => loadView({ force: true }));

// The map's box changes when the bottom sheet grows or shrinks on small screens.
new ResizeObserver(() => map.invalidateSize({ pan: true })).observe(container);

syncShapes();
syncLabels();
setupPanel(document.getElementById("panel"));
const addFlow = setupAddFlow({
  map,
  onCreated(feature) {
    addFeatures([feature]);
    markLoaded();
    updateStatus();
  },
});
loadBuurten();
loadView();
