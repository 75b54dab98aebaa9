// How each kind of open layer looks: the tiles' paint rules, the legend's swatch, and the
// attribution Leaflet shows while the layer is drawn.

import { el, escapeHtml } from "../common.js";

// Colours per kind of layer; `shape` picks the legend swatch and the paint rule.
const LAYER_STYLES = {
  building: { shape: "area", fill: "#d6d3ce", stroke: "#8c8781", opacity: 0.9 },
  roof: { shape: "area", fill: "#f3c969", stroke: "#b7892b", opacity: 0.7 },
  green: { shape: "area", fill: "#8cc084", stroke: "#3f7f3a", opacity: 0.6 },
  playground: { shape: "area", fill: "#f1bcd9", stroke: "#a2457f", opacity: 0.6 },
  postcode: { shape: "outline", stroke: "#6a3d9a", width: 1.6 },
  area: { shape: "outline", stroke: "#3b4a5e", width: 1.5 },
  address: { shape: "dot", fill: "#154273", stroke: "#ffffff", radius: 2.5 },
  tree: { shape: "dot", fill: "#2f7d32", stroke: "#ffffff", radius: 4 },
};
// Layers of a kind without its own style, by their geometry.
const FAMILY_STYLES = {
  polygon: { shape: "area", fill: "#c9d3df", stroke: "#4b5563", opacity: 0.5 },
  line: { shape: "line", stroke: "#4b5563", width: 2 },
  point: { shape: "dot", fill: "#4b5563", stroke: "#ffffff", radius: 3 },
};

export function layerStyle(layer) {
  return LAYER_STYLES[layer.kind] || FAMILY_STYLES[layer.geometry_family] || FAMILY_STYLES.polygon;
}

/** Leaflet takes attribution as HTML: the layer's credit, escaped, its licence as a tooltip. */
export function layerAttribution(layer) {
  if (!layer?.attribution) return null;
  return `<span title="${escapeHtml(layer.licence || "")}">${escapeHtml(layer.attribution)}</span>`;
}

/** protomaps-leaflet paint rules for a layer's tiles. */
export function paintRules(layer) {
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

/** The legend's little sample of a layer. */
export function swatch(layer) {
  const style = layerStyle(layer);
  const node = el("span", { class: `layer-swatch layer-swatch--${style.shape}`, "aria-hidden": "true" });
  // Set through the CSSOM, which the page's CSP allows (unlike style attributes in markup).
  if (style.fill) node.style.backgroundColor = style.fill;
  node.style.borderColor = style.stroke;
  return node;
}
