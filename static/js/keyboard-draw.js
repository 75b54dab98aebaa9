// Drawing by keyboard on any map with Leaflet-Geoman: pan the map with the arrow keys, then put
// a vertex at the centre cross; take the last one away; finish. Geoman has no public API for
// adding a vertex; _createVertex is what a click calls (and _removeLastVertex, _finishShape
// what its own undo and finish do). The add flow (add/draw.js) uses the primitives; the other
// maps (a process page, the process editor, the co-op area) use `KeyboardDraw` with the controls
// of templates/_keyboard_draw.html.

import { formatNumber, t } from "./common.js";

const NAMES = { Line: "line", Polygon: "area" };

function drawer(map, shape) {
  return map.pm.Draw[shape];
}

/** The vertices placed so far of the shape being drawn. */
export function vertices(map, shape) {
  const layer = drawer(map, shape)?._layer;
  return layer && layer.getLatLngs ? layer.getLatLngs().flat(2) : [];
}

/** Put a vertex at the map's centre; "" or the message key of why not. */
export function addVertexAtCentre(map, shape) {
  const centre = map.getCenter();
  const before = vertices(map, shape);
  if (before.length && before[before.length - 1].equals(centre)) return "add.draw.move_first";
  drawer(map, shape)._createVertex({ latlng: centre });
  if (vertices(map, shape).length === before.length && drawer(map, shape).enabled()) return "add.draw.crosses";
  return "";
}

export function undoVertex(map, shape) {
  if (vertices(map, shape).length > 1) drawer(map, shape)._removeLastVertex();
}

/** Close the line or area; "" or the message key of why not. */
export function finishShape(map, shape) {
  const isArea = shape === "Polygon";
  if (vertices(map, shape).length < (isArea ? 3 : 2)) return isArea ? "add.draw.need_three" : "add.draw.need_two";
  drawer(map, shape)._finishShape();
  return drawer(map, shape).enabled() ? "add.draw.crosses" : "";
}

/** Metres along a line, or square metres of an area (small areas: a local flat projection). */
export function measure(map, shape, points) {
  if (shape !== "Polygon") {
    let length = 0;
    for (let i = 1; i < points.length; i += 1) length += map.distance(points[i - 1], points[i]);
    return length;
  }
  if (points.length < 3) return 0;
  const lat0 = (points.reduce((sum, p) => sum + p.lat, 0) / points.length) * (Math.PI / 180);
  const r = 6371008.8;
  const xy = points.map((p) => [((p.lng * Math.PI) / 180) * r * Math.cos(lat0), ((p.lat * Math.PI) / 180) * r]);
  let twice = 0;
  for (let i = 0; i < xy.length; i += 1) {
    const [x1, y1] = xy[i];
    const [x2, y2] = xy[(i + 1) % xy.length];
    twice += x1 * y2 - x2 * y1;
  }
  return Math.abs(twice) / 2;
}

/** "3 hoekpunten, oppervlakte 1.240 m²" / "2 punten, lengte 35 m". */
export function progressText(map, shape) {
  const points = vertices(map, shape);
  const size = Math.round(measure(map, shape, points));
  return t(`draw.progress.${NAMES[shape]}`, { count: points.length, size: formatNumber(size) });
}

/** The keyboard controls of one map (templates/_keyboard_draw.html, found by `root`): shown
 * while a line or area is drawn, hidden otherwise. */
export class KeyboardDraw {
  constructor(map, root) {
    this.map = map;
    this.root = root;
    this.shape = null;
    this.status = root.querySelector("[data-draw=status]");
    this.moving = false;
    map.on("movestart", () => {
      this.moving = true;
    });
    map.on("moveend", () => {
      this.moving = false;
    });
    this.error = root.querySelector("[data-draw=error]");
    const crosshair = document.createElement("div");
    crosshair.className = "map-crosshair";
    crosshair.setAttribute("aria-hidden", "true");
    map.getContainer().append(crosshair);
    root.querySelector("[data-draw=vertex]").addEventListener("click", () => this.addAtCentre());
    root.querySelector("[data-draw=undo]").addEventListener("click", () => this.undo());
    root.querySelector("[data-draw=finish]").addEventListener("click", () => this.finish());
    map.on("pm:drawstart", ({ shape, workingLayer }) => {
      if (!NAMES[shape]) return;
      this.start(shape);
      workingLayer.on("pm:vertexadded", () => this.announce());
    });
    map.on("pm:drawend", () => this.stop());
  }

  start(shape) {
    this.shape = shape;
    this.root.hidden = false;
    this.map.getContainer().classList.add("is-drawing");
    this.say("");
    this.status.textContent = t(`draw.keyboard.${NAMES[shape]}`);
  }

  stop() {
    this.shape = null;
    this.root.hidden = true;
    this.map.getContainer().classList.remove("is-drawing");
  }

  say(key) {
    this.error.textContent = key ? t(key) : "";
    this.error.hidden = !key;
  }

  announce() {
    if (this.shape) this.status.textContent = progressText(this.map, this.shape);
  }

  async addAtCentre() {
    if (!this.shape) return;
    if (this.moving) await new Promise((resolve) => this.map.once("moveend", resolve)); // arrow-key pan
    this.say(addVertexAtCentre(this.map, this.shape));
  }

  undo() {
    if (!this.shape) return;
    this.say("");
    undoVertex(this.map, this.shape);
    this.announce();
  }

  finish() {
    if (!this.shape) return;
    this.say(finishShape(this.map, this.shape));
  }
}
