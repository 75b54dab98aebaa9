// The energy co-operative's map (/coop): buildings coloured by their rooftop solar potential
// (tiles.js), a popup per building with its figures and roof parts (building.js), a shortlist
// for a buurt, a PC4 or a drawn area with CSV/GeoPackage export (area.js, shortlist.js),
// "offer my roof" (offer.js) and the postcoderoos of a point (rose.js). The page's one state
// object is in state.js.

import { setupAddressSearch } from "../address-search.js";
import { config, createMap } from "../common.js";
import { wireArea } from "./area.js";
import { showBuilding } from "./building.js";
import { accessiblePopups } from "../popup-focus.js";
import { wireOffer } from "./offer.js";
import { setPickingRose, showRose, wireRose } from "./rose.js";
import { refreshShortlist, wireShortlist } from "./shortlist.js";
import { createCoopState } from "./state.js";
import { addTiles, showLegend } from "./tiles.js";

function createPage() {
  const solar = config.solar;
  const layers = config.layers || [];
  const map = createMap(document.getElementById("map"), {
    draw: true,
    zoom: Math.max(config.zoom, 16),
  });
  window.kaartMap = map; // as on the other map pages: for scripts and browser tests
  setupAddressSearch(document.getElementById("address-search"), map);
  return {
    map,
    popups: accessiblePopups(map),
    state: createCoopState(),
    solar,
    buildingLayer: layers.find((l) => l.name === solar.buildingLayer),
    pc4Layer: layers.find((l) => l.kind === "postcode"),
  };
}

/** A map click picks the postcoderoos' point while asked to, else shows the building there. */
function onMapClick(page, latlng) {
  if (page.map.pm.globalDrawModeEnabled()) return;
  if (page.state.pickingRose) {
    setPickingRose(page, false);
    showRose(page, latlng);
    return;
  }
  showBuilding(page, latlng);
}

const page = createPage();
showLegend();
addTiles(page);
wireArea(page);
wireShortlist(page);
wireOffer(page, {
  onSaved() {
    page.state.tiles?.redraw?.();
    refreshShortlist(page);
  },
});
wireRose(page);
page.map.on("click", (event) => onMapClick(page, event.latlng));
