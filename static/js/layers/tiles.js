// An open layer's vector tiles drawn by protomaps-leaflet: from its prebuilt PMTiles archive
// (read in pieces with HTTP range requests) when the catalogue names one, else live (/tiles/…).

import { config } from "../common.js";
import { drawnAsOverlay, isOn, openLayers, readChoices } from "./catalogue.js";
import { layerAttribution, paintRules } from "./styles.js";

// Beyond this zoom the tiles of the last data zoom are scaled up (full detail from z16 on).
const MAX_DATA_ZOOM = 17;
export const PANE = "openLayers";

/** The pane of the open layers: above the buurten (whose light fill is the land without a
 *  basemap), under the contributions. */
export function createPane(map) {
  map.createPane(PANE).style.zIndex = "300";
}

export function tileLayer(layer) {
  // A URL ending in .pmtiles makes protomaps-leaflet read it as an archive; beyond the
  // archive's deepest zoom its tiles are scaled up.
  const archived = Boolean(layer.archive);
  return window.protomapsL.leafletLayer({
    url: archived ? layer.archive : layer.tiles,
    paintRules: paintRules(layer),
    labelRules: [],
    levelDiff: 0, // our tiles are 256-pixel tiles of their own zoom, not 512-pixel ones
    maxDataZoom: archived ? layer.archive_zooms[1] : Math.min(layer.max_zoom, MAX_DATA_ZOOM),
    minZoom: layer.min_zoom,
    maxZoom: 22,
    pane: PANE,
    className: `layer-tiles layer-tiles--${layer.name}`,
    attribution: layerAttribution(layer),
  });
}

/**
 * The tile layers a resident has on (or that are on by default) on a map without a switcher,
 * such as the edit page's; returns the open layers, for picking objects.
 */
export function addTileLayers(map) {
  const choices = readChoices();
  const layers = openLayers(config.layers);
  createPane(map);
  for (const layer of layers) {
    if (isOn(layer, choices) && !drawnAsOverlay(layer)) tileLayer(layer).addTo(map);
  }
  return layers;
}
