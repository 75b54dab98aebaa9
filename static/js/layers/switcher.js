// The layer switcher with its legend: a checkbox per open layer (and the basemap), remembered
// per browser; a layer is on the map only while it is switched on and inside its zoom range,
// so that the attribution names exactly the layers that are drawn.

import { config, el, t } from "../common.js";
import { drawnAsOverlay, inZoom, isOn, openLayers, readChoices, saveChoices } from "./catalogue.js";
import { swatch } from "./styles.js";
import { createPane, tileLayer } from "./tiles.js";

function basemapItem(switcher) {
  const { map, basemap, choices } = switcher;
  const checkbox = el("input", { type: "checkbox", class: "layers__checkbox", value: "basemap" });
  checkbox.checked = choices.basemap !== false;
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
  return el(
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
}

/** On the map or not, and the "zoom in / zoom out to see …" note. */
function syncEntry(switcher, entry) {
  const { map } = switcher;
  const { layer, leaflet, checkbox, note } = entry;
  const zoom = map.getZoom();
  const shown = checkbox.checked && inZoom(layer, zoom);
  if (shown && !map.hasLayer(leaflet)) leaflet.addTo(map);
  if (!shown && map.hasLayer(leaflet)) leaflet.remove();
  let text = "";
  if (zoom < layer.min_zoom) text = t("layers.zoom_in", { title: layer.title });
  else if (zoom > layer.max_zoom) text = t("layers.zoom_out", { title: layer.title });
  note.textContent = text;
  note.hidden = !text;
}

function layerItem(switcher, layer, leaflet) {
  const noteId = `layer-note-${layer.name}`;
  const checkbox = el("input", {
    type: "checkbox",
    class: "layers__checkbox",
    value: layer.name,
    "aria-describedby": noteId,
  });
  checkbox.checked = isOn(layer, switcher.choices);
  const note = el("span", { class: "layers__note", id: noteId });
  const entry = { layer, leaflet, checkbox, note };
  switcher.entries.set(layer.name, entry);
  checkbox.addEventListener("change", () => {
    switcher.choices[layer.name] = checkbox.checked;
    saveChoices(switcher.choices);
    syncEntry(switcher, entry);
  });
  syncEntry(switcher, entry);
  return el(
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
  );
}

/**
 * The layer switcher in `container` for the catalogue's open layers.
 * `overlay(layer)` returns the Leaflet layer that draws an area layer (or null).
 */
export function setupLayers({ map, container, overlay, basemap }) {
  const layers = openLayers(config.layers);
  // The switcher's one state object: what the resident chose and each layer's parts.
  const switcher = { map, basemap, choices: readChoices(), entries: new Map() };
  createPane(map);
  const list = container.querySelector(".layers__list");
  list.replaceChildren();
  container.querySelector(".layers__empty").hidden = layers.length > 0 || Boolean(basemap);
  if (basemap) list.append(basemapItem(switcher));
  for (const layer of layers) {
    const leaflet = drawnAsOverlay(layer) ? overlay(layer) : tileLayer(layer);
    if (leaflet) list.append(layerItem(switcher, layer, leaflet));
  }
  map.on("zoomend", () => {
    for (const entry of switcher.entries.values()) syncEntry(switcher, entry);
  });
  return {
    /** The layers switched on and drawn at this zoom. */
    visible() {
      return [...switcher.entries.values()]
        .filter((e) => e.checkbox.checked && inZoom(e.layer, map.getZoom()))
        .map((e) => e.layer);
    },
  };
}
