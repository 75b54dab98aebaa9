// The main map's initiatives (filterable by status) and accepted adoptions (group name, start
// and end date), and "Adopteer dit" in the popup of a green area, a tree or a playground.
// Texts come from the data attributes of #initiatives-legend; user text only via textContent.

import { config, el, request } from "./common.js";

const ADOPTABLE = ["green", "tree", "playground"];
const LIMIT = Math.min(500, config.pageMax || 500);
const legend = document.getElementById("initiatives-legend");
const map = window.kaartMap;

function text(name, values = {}) {
  return (legend.dataset[name] || "").replace(/\{(\w+)\}/g, (m, key) => values[key] ?? m);
}

function statusName(status) {
  return JSON.parse(legend.dataset.statuses || "{}")[status] || status;
}

function kindName(kind) {
  return JSON.parse(legend.dataset.kinds || "{}")[kind] || kind;
}

function initiativePopup(feature) {
  const p = feature.properties;
  return el(
    "div",
    { class: "popup initiative-popup" },
    el("p", { class: "popup__meta" }, statusName(p.status)),
    el("h3", { class: "popup__title" }, p.title),
    el("p", {}, p.participants === 1 ? text("joinedOne") : text("joined", { count: p.participants })),
    el("a", { href: `/initiatieven/${feature.id}`, class: "button button--small" }, text("open")),
  );
}

function adoptionPopup(feature) {
  const p = feature.properties;
  const dates = [text("since", { date: p.start_date })];
  if (p.end_date) dates.push(text("until", { date: p.end_date }));
  return el(
    "div",
    { class: "popup adoption-popup" },
    el("h3", { class: "popup__title adoption-popup__group" }, p.group_name),
    el("p", { class: "adoption-popup__dates" }, dates.join(" ")),
  );
}

const initiativeStyle = { color: "#7a3e9d", weight: 3, fillOpacity: 0.15 };
const adoptionStyle = { color: "#2e7d32", weight: 3, dashArray: "6 4", fillOpacity: 0.2 };

function pointAs(symbol, className, name) {
  return (feature, latlng) =>
    L.marker(latlng, {
      icon: L.divIcon({ className, html: symbol, iconSize: [26, 26] }),
      keyboard: true,
      title: name(feature),
      alt: name(feature),
    });
}

const initiatives = L.geoJSON(null, {
  style: initiativeStyle,
  pointToLayer: pointAs("★", "initiative-marker", (f) => f.properties.title),
  onEachFeature: (feature, layer) => layer.bindPopup(() => initiativePopup(feature)),
});
const adoptions = L.geoJSON(null, {
  style: adoptionStyle,
  pointToLayer: pointAs("♥", "adoption-marker", (f) => f.properties.group_name),
  onEachFeature: (feature, layer) => {
    layer.bindPopup(() => adoptionPopup(feature));
    layer.bindTooltip(feature.properties.group_name, { className: "adoption-label" });
  },
});

async function loadInitiatives() {
  const status = document.getElementById("initiative-status-filter").value;
  const query = status ? `&status=${encodeURIComponent(status)}` : "";
  const result = await request(`/api/v1/initiatives?limit=${LIMIT}${query}`);
  initiatives.clearLayers();
  if (result.ok && result.data) initiatives.addData(result.data);
  legend.dataset.loaded = String(initiatives.getLayers().length);
}

/** /#initiative=<id> (the link on an initiative's page): show it and open its popup. */
function showAsked() {
  const asked = new URLSearchParams(window.location.hash.slice(1)).get("initiative");
  const found = asked && initiatives.getLayers().find((l) => l.feature.id === asked);
  if (!found) return;
  const bounds = found.getBounds ? found.getBounds() : L.latLngBounds([found.getLatLng()]);
  map.fitBounds(bounds, { maxZoom: 18 });
  found.openPopup();
}

async function loadAdoptions() {
  const result = await request("/api/v1/adoptions");
  adoptions.clearLayers();
  if (result.ok && result.data) adoptions.addData(result.data);
  legend.dataset.adoptions = String(adoptions.getLayers().length);
}

function toggle(checkbox, group) {
  const apply = () => (checkbox.checked ? group.addTo(map) : group.remove());
  checkbox.addEventListener("change", apply);
  apply();
}

/** "Adopteer dit" in the popup of an adoptable open-layer object. */
function offerAdoption({ popup }) {
  const node = popup.getElement()?.querySelector(".popup.inspect[data-layer]");
  if (!node || node.querySelector(".inspect__adopt")) return;
  const layer = (config.layers || []).find((l) => l.name === node.dataset.layer);
  const id = node.querySelector(".inspect__row dd")?.textContent;
  if (!layer || !id) return;
  const query = `layer=${encodeURIComponent(layer.name)}&feature=${encodeURIComponent(id)}`;
  const start = el(
    "a",
    { href: `/initiatieven/nieuw?${query}`, class: "button button--small inspect__start" },
    text("start"),
  );
  node.append(start);
  if (!ADOPTABLE.includes(layer.kind)) return;
  const label = `${text("adopt")} (${kindName(layer.kind)})`;
  node.append(el("a", { href: `/adopteren?${query}`, class: "button button--small inspect__adopt" }, label));
}

if (legend && map) {
  toggle(document.getElementById("show-initiatives"), initiatives);
  toggle(document.getElementById("show-adoptions"), adoptions);
  document.getElementById("initiative-status-filter").addEventListener("change", loadInitiatives);
  map.on("popupopen", offerAdoption);
  loadInitiatives().then(showAsked);
  loadAdoptions();
}
