// A wijkpact's public page: its area and every commitment on a map, coloured by status AND drawn
// with a status symbol (points) or line pattern (lines, areas), so no meaning rests on colour.

import { config, createMap, el, t } from "./common.js";
import { accessiblePopups, quietMarker } from "./popup-focus.js";

// Colour, line pattern and symbol per status (the legend on the page says the same in text).
export const STATUS_STYLE = {
  gepland: { color: "#4a5260", dashArray: "2 6" },
  bezig: { color: "#154273", dashArray: "10 6" },
  klaar: { color: "#17663a", dashArray: null },
  vertraagd: { color: "#a14a00", dashArray: "14 4 2 4" },
  vervallen: { color: "#8a1c1c", dashArray: "2 3" },
};

const pact = config.pact;
const map = createMap(document.getElementById("pact-map"), { zoom: 15 });
window.kaartMap = map;
accessiblePopups(map);
const area = L.geoJSON(pact.area, {
  style: { color: "#154273", weight: 2, fillOpacity: 0.04, dashArray: "8 6" },
  interactive: false,
}).addTo(map);
map.fitBounds(area.getBounds(), { padding: [16, 16], animate: false });

function statusIcon(status) {
  const style = STATUS_STYLE[status] || STATUS_STYLE.gepland;
  return L.divIcon({
    className: `pact-marker pact-marker--${status}`,
    html: `<span style="background:${style.color}" aria-hidden="true">${t(`pact.status_mark.${status}`)}</span>`,
    iconSize: [28, 28],
    iconAnchor: [14, 14],
    popupAnchor: [0, -14],
  });
}

function popup(feature) {
  const p = feature.properties;
  const progress = p.progress === null ? "" : ` · ${t("pact.percent", { value: p.progress })}`;
  return el(
    "div",
    { class: "pact-popup" },
    el("p", { class: "popup__title" }, el("a", { href: `#c-${p.id}` }, p.title)),
    el("p", {}, `${t(`pact.status.${p.status}`)}${progress}`),
    el("p", { class: "muted" }, `${p.party} · ${t("pact.due", { date: p.due })}`),
  );
}

const features = (pact.commitments.features || []).filter((f) => f.geometry);
L.geoJSON(
  { type: "FeatureCollection", features },
  {
    style: (feature) => {
      const style = STATUS_STYLE[feature.properties.status] || STATUS_STYLE.gepland;
      return { color: style.color, dashArray: style.dashArray, weight: 4, fillOpacity: 0.15 };
    },
    pointToLayer: (feature, latlng) => {
      const p = feature.properties;
      const label = `${p.title} (${t(`pact.status.${p.status}`)})`;
      return quietMarker(L.marker(latlng, { icon: statusIcon(p.status), title: label }), label);
    },
    onEachFeature: (feature, layer) => layer.bindPopup(() => popup(feature), { maxWidth: 300 }),
  },
).addTo(map);
