// The drawn layer: how Geoman draws it, where it lies, what it measures, and taking it away.

import { formatNumber, t } from "../common.js";

const DRAW_COLOUR = "#154273";
const EARTH_RADIUS_M = 6378137;

function newIcon() {
  return L.divIcon({
    className: "kaart-marker kaart-marker--new",
    html: '<span class="kaart-marker__pin"></span>',
    iconSize: [34, 34],
    iconAnchor: [17, 17],
  });
}

/** The marker of a new point, drawn or placed (keyboard, "Bijdrage over dit object"). */
export function newMarkerStyle() {
  return { icon: newIcon(), draggable: true, pmIgnore: false };
}

/** Geoman's options for drawing a new contribution. */
export function drawOptions() {
  return {
    snappable: false,
    tooltips: false,
    allowSelfIntersection: false,
    markerEditable: false,
    continueDrawing: false,
    templineStyle: { color: DRAW_COLOUR, weight: 3 },
    hintlineStyle: { color: DRAW_COLOUR, weight: 2, dashArray: "6 6" },
    pathOptions: {
      color: DRAW_COLOUR,
      weight: 3,
      fillColor: DRAW_COLOUR,
      fillOpacity: 0.2,
      pmIgnore: false,
    },
    markerStyle: newMarkerStyle(),
  };
}

/** Area in m² of a ring of LatLngs on the sphere (good enough to tell people what they drew). */
function sphericalArea(latlngs) {
  const rad = Math.PI / 180;
  let sum = 0;
  for (let i = 0; i < latlngs.length; i++) {
    const a = latlngs[i];
    const b = latlngs[(i + 1) % latlngs.length];
    sum += (b.lng - a.lng) * rad * (2 + Math.sin(a.lat * rad) + Math.sin(b.lat * rad));
  }
  return Math.abs((sum * EARTH_RADIUS_M * EARTH_RADIUS_M) / 2);
}

function lineLength(map, points) {
  let length = 0;
  for (let i = 1; i < points.length; i++) length += map.distance(points[i - 1], points[i]);
  return length;
}

/** "U heeft een vlak getekend van ongeveer 1.200 m²" and the like. */
export function drawnSummary(map, layer) {
  if (layer instanceof L.Polygon) {
    return t("add.form.drawn_area", { area: formatNumber(sphericalArea(layer.getLatLngs()[0])) });
  }
  if (layer instanceof L.Polyline) {
    return t("add.form.drawn_line", { length: formatNumber(lineLength(map, layer.getLatLngs())) });
  }
  return t("add.form.drawn_point");
}

/** The bounds of a drawn layer; a point's are that point. */
export function drawnBounds(layer) {
  if (layer.getBounds) return layer.getBounds();
  const at = layer.getLatLng();
  return L.latLngBounds(at, at);
}

/** On a phone the form takes room from the map: make sure the drawing is still in sight. */
export function keepInView(map, bounds) {
  if (map.getBounds().pad(-0.1).contains(bounds)) return;
  map.fitBounds(bounds, { padding: [32, 32], maxZoom: map.getZoom() });
}

export function removeDrawn(flow) {
  const { state } = flow;
  flow.locationNotice.clear();
  if (!state.drawn) return;
  state.drawn.pm?.disable();
  state.drawn.remove();
  state.drawn = null;
}
