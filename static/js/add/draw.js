// Drawing a point, line or area with Leaflet-Geoman, and the keyboard route: pan the map with
// the arrow keys, then put the point or a vertex at its centre (../keyboard-draw.js).

import { byId, editOptions, t } from "../common.js";
import * as keyboard from "../keyboard-draw.js";
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

function vertexCount(flow) {
  return keyboard.vertices(flow.map, flow.state.shape).length;
}

function drawError(key) {
  const node = byId("draw-error");
  node.textContent = key ? t(key) : "";
  node.hidden = !key;
}

/** "Gebruik het midden van de kaart" / "Punt zetten in het midden van de kaart". */
async function addAtCentre(flow) {
  const { map, state } = flow;
  drawError("");
  if (state.mapMoving) await new Promise((resolve) => map.once("moveend", resolve));
  if (state.step !== "draw") return;
  if (state.shape === "Marker") {
    map.pm.disableDraw();
    useDrawn(flow, L.marker(map.getCenter(), newMarkerStyle()).addTo(map));
    return;
  }
  drawError(keyboard.addVertexAtCentre(map, state.shape));
}

function undoVertex(flow) {
  drawError("");
  keyboard.undoVertex(flow.map, flow.state.shape);
  announceVertices(flow);
}

function finishShape(flow) {
  drawError(keyboard.finishShape(flow.map, flow.state.shape));
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
