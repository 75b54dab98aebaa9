// Shared by every page: configuration, translations, safe DOM building, the map base and
// GeoJSON helpers. User text only ever reaches the page through textContent.

/** The JSON a template put in <script type="application/json" id="…">, or null. */
export function readJSON(id) {
  const node = document.getElementById(id);
  return node ? JSON.parse(node.textContent) : null;
}

export const config = readJSON("kaart-config") || { messages: {}, categories: [], layers: [] };
export const lang = config.lang || document.documentElement.lang || "nl";

/** The catalogue text for `key`, with {name} placeholders filled in. */
export function t(key, values) {
  // With {count: 1}, `<key>.one` when there is one: "1 contribution was published".
  const one = values && values.count === 1 && config.messages && config.messages[`${key}.one`];
  const text = one || (config.messages && config.messages[key]) || key;
  if (!values) return text;
  return text.replace(/\{(\w+)\}/g, (match, name) => (name in values ? String(values[name]) : match));
}

/** A DOM element; attributes set with setAttribute, children as nodes or plain text. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** For the few Leaflet APIs that only take HTML strings (attribution, icons). */
export function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function byId(id) {
  return document.getElementById(id);
}

export function show(node, visible = true) {
  node.hidden = !visible;
}

const numberFormat = new Intl.NumberFormat(lang === "nl" ? "nl-NL" : "en-GB", {
  maximumFractionDigits: 0,
});

export function formatNumber(value) {
  return numberFormat.format(value);
}

// -- Categories ------------------------------------------------------------------------------

// Okabe–Ito based, darkened where white icons sit on them; told apart by icon as well as colour.
export const CATEGORY_COLOURS = {
  groen: "#00795a",
  speelplek: "#a2457f",
  energie: "#e69f00",
  knelpunt: "#c24a00",
  idee: "#0068a8",
};

export function categoryColour(category) {
  return CATEGORY_COLOURS[category] || "#4b5563";
}

export function categoryBadge(category) {
  return el("span", { class: `cat-badge cat-${category}`, "aria-hidden": "true" });
}

export function categoryLabel(category) {
  return t(`category.${category}`);
}

export function statusLabel(status) {
  return t(`status.${status}`);
}

// -- The map ---------------------------------------------------------------------------------

/* Leaflet makes every marker a keyboard button (role="button", tabindex 0) but names only those
   with a title; Geoman's drawing handles and the marker of a new point have none (WCAG 4.1.2).
   Each gets a name when it is added; Geoman's cursor marker, which only follows the mouse,
   is taken out of the tab order and the accessibility tree. */
const HANDLE_NAMES = [
  ["cursor-marker", null],
  ["marker-icon-middle", "map.handle.midpoint"],
  ["marker-icon", "map.handle.vertex"],
  ["kaart-marker--new", "map.handle.new_point"],
];

function nameMarker() {
  const icon = this._icon;
  if (!icon || icon.getAttribute("role") !== "button") return;
  if (icon.getAttribute("aria-label") || icon.getAttribute("title") || icon.textContent.trim()) return;
  const [, key] = HANDLE_NAMES.find(([name]) => icon.classList.contains(name)) || [null, "map.marker"];
  if (key === null) {
    icon.removeAttribute("role");
    icon.removeAttribute("tabindex");
    icon.setAttribute("aria-hidden", "true");
  } else {
    icon.setAttribute("aria-label", t(key));
  }
}

if (window.L) L.Marker.addInitHook(function () {
  this.on("add", nameMarker);
});

/** A Leaflet map with the basemap (when configured) and attribution for every layer shown. */
export function createMap(container, options = {}) {
  // Geoman only touches layers that ask for it (pmIgnore: false): the drawing and its edits.
  if (L.PM) L.PM.setOptIn(true);
  const map = L.map(container, {
    center: options.center || config.center,
    zoom: options.zoom || config.zoom,
    minZoom: 7,
    maxZoom: 19,
    zoomControl: false,
    pmIgnore: !options.draw,
    ...options.leaflet,
  });
  L.control.zoom({ zoomInTitle: t("map.zoom_in"), zoomOutTitle: t("map.zoom_out") }).addTo(map);
  // Geoman's own tooltips ("Klik om het eerste punt te plaatsen") in the page's language.
  if (options.draw && map.pm) map.pm.setLang(config.lang === "nl" ? "nl" : "en");
  map.attributionControl.setPrefix(
    '<a href="https://leafletjs.com" hreflang="en">Leaflet</a>',
  );
  // The PDOK BRT basemap when configured; offline its tiles just fail ("tileerror") and the
  // open layers and contributions stay on the map. The resident's map may switch it off.
  map.basemap = null;
  if (config.basemapUrl) {
    map.basemap = L.tileLayer(config.basemapUrl, {
      maxZoom: 19,
      attribution: escapeHtml(t("map.basemap_attribution")),
    });
    if (!options.switchable) map.basemap.addTo(map);
  } else {
    container.classList.add("map--no-basemap");
  }
  // Open layers add their own attribution when shown (see layers/tiles.js and focusOn).
  return map;
}

/** Attribution of the area layers (buurten), for the pages that draw them as GeoJSON. */
export function areaAttribution() {
  const seen = new Set();
  for (const layer of config.layers || []) {
    if (layer.kind !== "area" || !layer.attribution) continue;
    seen.add(`<span title="${escapeHtml(layer.licence || "")}">${escapeHtml(layer.attribution)}</span>`);
  }
  return [...seen].join(", ") || null;
}

/** `minLon,minLat,maxLon,maxLat` of Leaflet bounds, for the API's bbox parameter. */
export function bboxParam(bounds) {
  const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
  return [
    clamp(bounds.getWest(), -180, 180),
    clamp(bounds.getSouth(), -90, 90),
    clamp(bounds.getEast(), -180, 180),
    clamp(bounds.getNorth(), -90, 90),
  ]
    .map((v) => v.toFixed(6))
    .join(",");
}

/** Show one contribution: fit the map to it and draw the buurten around it for orientation. */
export function focusOn(map, layer) {
  const bounds = layer.getBounds();
  if (bounds.getNorthEast().equals(bounds.getSouthWest())) map.setView(bounds.getCenter(), 17);
  else map.fitBounds(bounds, { padding: [32, 32], maxZoom: 18 });
  map.createPane("buurten").style.zIndex = "250";
  request(`/api/v1/buurten?bbox=${bboxParam(map.getBounds().pad(1))}`).then((result) => {
    if (!result.ok || !result.data) return;
    L.geoJSON(result.data, {
      pane: "buurten",
      interactive: false,
      style: buurtStyle(),
      attribution: areaAttribution(),
    }).addTo(map);
  });
}

/** Buurt outlines: without a basemap their light fill is the "land" the map is drawn on. */
export function buurtStyle({ current = false } = {}) {
  const base = {
    color: "#3b4a5e",
    weight: 1.5,
    opacity: 0.75,
    dashArray: "6 5",
    fillColor: "#ffffff",
    fillOpacity: config.basemapUrl ? 0.05 : 0.5,
  };
  if (!current) return base;
  const fillOpacity = config.basemapUrl ? 0.12 : 0.92;
  return { ...base, color: "#154273", weight: 2.5, opacity: 0.9, dashArray: null, fillOpacity };
}

/** Geoman edit options: move a point by dragging it, a line or area by its vertices. */
export function editOptions(layer) {
  return {
    allowSelfIntersection: false,
    snappable: false,
    draggable: layer instanceof L.Marker,
    preventMarkerRemoval: true,
  };
}

/** Style for a contribution's line or area. */
export function shapeStyle(category, extra = {}) {
  const colour = categoryColour(category);
  return { color: colour, weight: 3, opacity: 0.9, fillColor: colour, fillOpacity: 0.18, ...extra };
}

/** A marker icon for a category; points round, lines and areas square. */
const iconCache = new Map();
export function categoryIcon(category, kind = "point") {
  const key = `${category}:${kind}`;
  if (!iconCache.has(key)) {
    const safe = escapeHtml(category);
    iconCache.set(
      key,
      L.divIcon({
        className: `kaart-marker kaart-marker--${kind} kaart-marker--${safe}`,
        html: `<span class="cat-badge cat-${safe}"></span>`,
        iconSize: [30, 30],
        iconAnchor: [15, 15],
        popupAnchor: [0, -14],
        tooltipAnchor: [14, 0],
      }),
    );
  }
  return iconCache.get(key);
}

// -- GeoJSON ---------------------------------------------------------------------------------

const toLatLng = ([lon, lat]) => [lat, lon];

/** [lat, lon] of a point that lies on the geometry: the place for its marker. */
export function representativeLatLng(geometry) {
  const { type, coordinates } = geometry;
  if (type === "Point") return toLatLng(coordinates);
  if (type === "MultiPoint") return toLatLng(coordinates[0]);
  if (type === "LineString") return lineMiddle(coordinates);
  if (type === "MultiLineString") return lineMiddle(longest(coordinates, lineLength));
  if (type === "Polygon") return pointInPolygon(coordinates);
  if (type === "MultiPolygon") return pointInPolygon(longest(coordinates, (p) => ringArea(p[0])));
  return null;
}

function longest(parts, measure) {
  return parts.reduce((best, part) => (measure(part) > measure(best) ? part : best));
}

function lineLength(line) {
  let total = 0;
  for (let i = 1; i < line.length; i++) {
    total += Math.hypot(line[i][0] - line[i - 1][0], line[i][1] - line[i - 1][1]);
  }
  return total;
}

/** The point halfway along a line (in degrees; fine for placing a marker). */
function lineMiddle(line) {
  const half = lineLength(line) / 2;
  let walked = 0;
  for (let i = 1; i < line.length; i++) {
    const [x1, y1] = line[i - 1];
    const [x2, y2] = line[i];
    const step = Math.hypot(x2 - x1, y2 - y1);
    if (walked + step >= half && step > 0) {
      const f = (half - walked) / step;
      return [y1 + f * (y2 - y1), x1 + f * (x2 - x1)];
    }
    walked += step;
  }
  return toLatLng(line[0]);
}

function ringArea(ring) {
  let sum = 0;
  for (let i = 1; i < ring.length; i++) sum += ring[i - 1][0] * ring[i][1] - ring[i][0] * ring[i - 1][1];
  return Math.abs(sum / 2);
}

/** A point inside a polygon: the middle of the widest inside stretch on its middle latitude. */
function pointInPolygon(rings) {
  const ys = rings[0].map((p) => p[1]);
  const y = (Math.min(...ys) + Math.max(...ys)) / 2;
  const xs = [];
  for (const ring of rings) {
    for (let i = 1; i < ring.length; i++) {
      const [x1, y1] = ring[i - 1];
      const [x2, y2] = ring[i];
      if ((y1 <= y && y < y2) || (y2 <= y && y < y1)) xs.push(x1 + ((y - y1) / (y2 - y1)) * (x2 - x1));
    }
  }
  xs.sort((a, b) => a - b);
  let best = null;
  for (let i = 0; i + 1 < xs.length; i += 2) {
    if (!best || xs[i + 1] - xs[i] > best[1] - best[0]) best = [xs[i], xs[i + 1]];
  }
  if (!best) return toLatLng(rings[0][0]);
  return [y, (best[0] + best[1]) / 2];
}

/** Leaflet layer for a line or area geometry (null for points). */
export function shapeLayerFor(geometry, options) {
  if (geometry.type === "Point" || geometry.type === "MultiPoint") return null;
  return L.geoJSON(geometry, { style: () => options, interactive: false, pmIgnore: true });
}

// -- Talking to the API ----------------------------------------------------------------------

/**
 * fetch() that always resolves: {ok, status, data, retryAfter} for any HTTP answer (retryAfter:
 * the seconds of a Retry-After header, or null), {networkError: true} when the server could not
 * be reached, {aborted: true} when the caller cancelled. A Blob body (a photo) goes as it is,
 * anything else as GeoJSON; `idempotencyKey` makes a write safe to send again (see send.js).
 */
export async function request(url, { method = "GET", body, token, signal, idempotencyKey } = {}) {
  const headers = {
    Accept: "application/geo+json, application/problem+json, application/json",
    "Accept-Language": lang,
  };
  const raw = body instanceof Blob;
  if (raw && body.type) headers["Content-Type"] = body.type;
  else if (body !== undefined && !raw) headers["Content-Type"] = "application/geo+json";
  if (token) headers.Authorization = `Bearer ${token}`;
  if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
  let response;
  try {
    response = await fetch(url, {
      method,
      headers,
      body: body === undefined || raw ? body : JSON.stringify(body),
      signal,
      credentials: "same-origin",
    });
  } catch (error) {
    if (error.name === "AbortError") return { aborted: true };
    return { networkError: true };
  }
  let data = null;
  const type = response.headers.get("Content-Type") || "";
  if (response.status !== 204 && type.includes("json")) {
    try {
      data = await response.json();
    } catch (error) {
      if (error.name === "AbortError") return { aborted: true };
      data = null;
    }
  }
  const retryAfter = retryAfterSeconds(response.headers.get("Retry-After"));
  return { ok: response.ok, status: response.status, data, retryAfter };
}

/** The seconds a Retry-After header asks for (delta-seconds or an HTTP date), or null. */
export function retryAfterSeconds(value) {
  if (!value) return null;
  if (/^\s*\d+\s*$/.test(value)) return Number(value);
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

const relativeTime = new Intl.RelativeTimeFormat(lang === "nl" ? "nl-NL" : "en-GB", {
  numeric: "always",
});

/** A wait in plain words: "over 30 seconden", "over 2 minuten" ("in 2 minutes"), rounded up. */
export function inTime(seconds) {
  if (seconds < 60) return relativeTime.format(Math.max(1, Math.ceil(seconds)), "second");
  if (seconds < 3600) return relativeTime.format(Math.ceil(seconds / 60), "minute");
  return relativeTime.format(Math.ceil(seconds / 3600), "hour");
}

/** The translated text for one API field error, falling back to the API's own reason. */
export function errorText(error) {
  const key = `error.${error.code}`;
  if (config.messages && config.messages[key]) return t(key);
  return error.reason || t("error.unknown");
}

/** The errors of an API answer ({status, data} or {networkError}) as {field, code, message}:
 *  field by field when the input was refused, else one message for the whole request. */
export function answerErrors(result) {
  const fieldErrors = (result.data && Array.isArray(result.data.errors) && result.data.errors) || [];
  if (fieldErrors.length && [400, 413, 415, 422].includes(result.status)) {
    return fieldErrors.map((e) => ({ field: e.field, code: e.code, message: errorText(e) }));
  }
  return [{ field: null, message: problemText(result) }];
}

/** A message for a whole failed request (no field errors, or a status that is not a 422). */
export function problemText(result) {
  if (result.networkError) return t("error.network");
  if (result.status === 429 && result.retryAfter) {
    return t("error.status_429_wait", { when: inTime(result.retryAfter) });
  }
  const known = [400, 401, 403, 404, 410, 413, 415, 429, 500, 503];
  if (known.includes(result.status)) return t(`error.status_${result.status}`);
  return (result.data && (result.data.detail || result.data.title)) || t("error.unknown");
}

// -- Geometry ------------------------------------------------------------------------------------

function inRing(ring, x, y) {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** Whether a GeoJSON (Multi)Polygon contains lng/lat (even-odd rule, so holes count). */
export function containsPoint(geometry, lng, lat) {
  const { type, coordinates } = geometry;
  const polygons = type === "Polygon" ? [coordinates] : type === "MultiPolygon" ? coordinates : [];
  return polygons.some((rings) => rings.filter((ring) => inRing(ring, lng, lat)).length % 2 === 1);
}

// -- The private edit token -------------------------------------------------------------------

/** Where a contribution's edit token is kept for this tab (edit.js takes it from the link). */
export function editTokenKey(id) {
  return `wijkkaart:edit-token:${id}`;
}

/** The edit token from the URL fragment or, once edit.js has moved it there, sessionStorage. */
export function storedEditToken(id) {
  const fromHash = new URLSearchParams(window.location.hash.slice(1)).get("token");
  if (fromHash) return fromHash;
  try {
    return sessionStorage.getItem(editTokenKey(id));
  } catch {
    return null;
  }
}
