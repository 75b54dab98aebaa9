// Drawing a point, line or area with Leaflet-Geoman, and the keyboard route: pan the map with
// the arrow keys, then put the point or a vertex at its centre. Geoman has no public API for
// adding a vertex; _createVertex is what a click calls (and _removeLastVertex, _finishShape
// what its own undo and finish do).

import { byId, editOptions, t } from "../common.js";
import { clearNearby, searchNearby } from "./nearby.js";
import { drawOptions, drawnBounds, drawnSummary, keepInView, newMarkerStyle, removeDrawn } from "./shape.js";
import { showStep } from "./steps.js";

const SHAPE_NAMES = { Marker: "point", Line: "line", Polygon: "area" };

/** Step 2 for a shape ("Marker", "Line" or "Polygon"): instructions, buttons, Geoman on. */
export function startDraw(flow, shape) {
  const { map, state } = flow;
  state.shape = shape;
  map.pm.disableDraw();
  removeDrawn(flow);
  clearNearby(flow);
  const name = SHAPE_NAMES[shape];
  const isPoint = shape === "Marker";
  byId("draw-title").textContent = t(`add.draw.${name}.title`);
  byId("draw-instructions").textContent = t(`add.draw.${name}.instructions`);
  byId("draw-center").textContent = t(isPoint ? "add.draw.center_point" : "add.draw.center_vertex");
  byId("draw-undo").hidden = isPoint;
  byId("draw-finish").hidden = isPoint;
  byId("draw-error").hidden = true;
  showStep(flow, "draw");
  map.pm.enableDraw(shape, drawOptions());
}

/** Stop drawing and go back to choosing a shape. */
export function chooseShapeAgain(flow) {
  flow.map.pm.disableDraw();
  showStep(flow, "shape");
}

/** A shape is on the map: make it editable, go to the form, look for what exists nearby and
 * whether a point lies near a home (moved: asked again). */
export function useDrawn(flow, layer) {
  flow.state.drawn = layer;
  if (layer.pm) {
    layer.pm.enable(editOptions(layer));
    layer.on("pm:edit", () => {
      describeDrawn(flow);
      searchNearby(flow);
      flow.locationNotice.check(layer);
    });
  }
  flow.form.clearErrors();
  showStep(flow, "form");
  keepInView(flow.map, drawnBounds(layer));
  describeDrawn(flow);
  searchNearby(flow);
  flow.locationNotice.check(layer);
}

/** A new point at `latlng`, ready to be told about. */
export function placePoint(flow, latlng) {
  flow.state.shape = "Marker";
  useDrawn(flow, L.marker(latlng, newMarkerStyle()).addTo(flow.map));
}

function describeDrawn(flow) {
  byId("drawn-text").textContent = drawnSummary(flow.map, flow.state.drawn);
  byId("geometry-error").hidden = true;
}

function drawer(flow) {
  return flow.map.pm.Draw[flow.state.shape];
}

function vertexCount(flow) {
  const layer = drawer(flow)._layer;
  return layer && layer.getLatLngs ? layer.getLatLngs().flat(2).length : 0;
}

function drawError(message) {
  const node = byId("draw-error");
  node.textContent = message;
  node.hidden = !message;
}

/** "Gebruik het midden van de kaart" / "Punt zetten in het midden van de kaart". */
async function addAtCentre(flow) {
  const { map, state } = flow;
  drawError("");
  if (state.mapMoving) await new Promise((resolve) => map.once("moveend", resolve));
  if (state.step !== "draw") return;
  const centre = map.getCenter();
  if (state.shape === "Marker") {
    map.pm.disableDraw();
    useDrawn(flow, L.marker(centre, newMarkerStyle()).addTo(map));
    return;
  }
  const before = vertexCount(flow);
  const points = drawer(flow)._layer.getLatLngs();
  if (before && points[before - 1].equals(centre)) {
    drawError(t("add.draw.move_first"));
    return;
  }
  drawer(flow)._createVertex({ latlng: centre });
  if (vertexCount(flow) === before && drawer(flow).enabled()) drawError(t("add.draw.crosses"));
}

function undoVertex(flow) {
  drawError("");
  if (vertexCount(flow) > 1) drawer(flow)._removeLastVertex();
  announceVertices(flow);
}

function finishShape(flow) {
  const isArea = flow.state.shape === "Polygon";
  if (vertexCount(flow) < (isArea ? 3 : 2)) {
    drawError(t(isArea ? "add.draw.need_three" : "add.draw.need_two"));
    return;
  }
  drawer(flow)._finishShape();
  if (drawer(flow).enabled()) drawError(t("add.draw.crosses"));
}

/** "3 hoek(en) gezet…": the instructions count the vertices (read out: aria-live). */
function announceVertices(flow) {
  const { state } = flow;
  if (state.step !== "draw" || state.shape === "Marker") return;
  const count = vertexCount(flow);
  const name = SHAPE_NAMES[state.shape];
  byId("draw-instructions").textContent =
    count === 0 ? t(`add.draw.${name}.instructions`) : t(`add.draw.${name}.progress`, { count });
}

export function wireDrawing(flow) {
  const { map, state } = flow;
  map.on("movestart", () => {
    state.mapMoving = true;
  });
  map.on("moveend", () => {
    state.mapMoving = false;
  });
  map.on("pm:drawstart", ({ workingLayer }) => {
    workingLayer.on("pm:vertexadded", () => {
      drawError("");
      announceVertices(flow);
    });
  });
  map.on("pm:create", ({ layer }) => {
    if (state.step === "draw") useDrawn(flow, layer);
  });
  byId("draw-center").addEventListener("click", () => addAtCentre(flow));
  byId("draw-undo").addEventListener("click", () => undoVertex(flow));
  byId("draw-finish").addEventListener("click", () => finishShape(flow));
}
