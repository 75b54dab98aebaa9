// A participation process's public page: its area and published contributions on a map, and a
// form to contribute within it (the API checks area, period and categories; errors show here).

import {
  answerErrors,
  areaAttribution,
  bboxParam,
  buurtStyle,
  categoryIcon,
  categoryLabel,
  config,
  createMap,
  editOptions,
  el,
  errorText,
  readJSON,
  representativeLatLng,
  request,
  shapeStyle,
  t,
} from "./common.js";
import { setupAddressSearch } from "./address-search.js";
import { contributionPopup, setupContributionList } from "./contribution-list.js";
import { KeyboardDraw } from "./keyboard-draw.js";
import { LocationNotice } from "./location-notice.js";
import { accessiblePopups, quietMarker } from "./popup-focus.js";
import { addSendStatus, sendWrite, WriteKey } from "./send.js";

const $ = (id) => document.getElementById(id);
const process = config.process;
const map = createMap($("process-map"), { draw: true, zoom: 16 });
setupAddressSearch($("address-search"), map);
window.kaartMap = map;

const area = L.geoJSON(process.geometry, {
  style: { color: "#154273", weight: 3, fillOpacity: 0.06, dashArray: "8 6" },
  interactive: false,
}).addTo(map);
map.fitBounds(area.getBounds(), { padding: [16, 16], animate: false });
request(`/api/v1/buurten?bbox=${bboxParam(map.getBounds().pad(1))}`).then((result) => {
  if (!result.ok || !result.data) return;
  L.geoJSON(result.data, { interactive: false, style: buurtStyle(), attribution: areaAttribution() }).addTo(map);
  area.bringToFront();
});

// -- The contributions, on the map and as a list beside it ---------------------------------------

const popups = accessiblePopups(map);
const contributions = readJSON("process-contributions") || { features: [] };
const entries = [];
L.geoJSON(contributions, {
  style: (feature) => shapeStyle(feature.properties.category),
  pointToLayer: (feature, latlng) =>
    quietMarker(
      L.marker(latlng, { icon: categoryIcon(feature.properties.category), title: feature.properties.title }),
      `${feature.properties.title} (${categoryLabel(feature.properties.category)})`,
    ),
  onEachFeature: (feature, layer) => {
    const latlng = L.latLng(representativeLatLng(feature.geometry));
    layer.bindPopup(() => contributionPopup(feature), { maxWidth: 300, minWidth: 220 });
    layer.on("popupopen", () => listView.highlight(feature.id));
    layer.on("popupclose", () => listView.unhighlight(feature.id));
    entries.push({ id: feature.id, feature, latlng, layer });
  },
}).addTo(map);

const listView = setupContributionList($("contribution-list"), {
  map,
  popups,
  entries: () => entries.filter((entry) => map.getBounds().contains(entry.latlng)),
  show(entry) {
    if (!map.getBounds().contains(entry.latlng)) map.panTo(entry.latlng, { animate: false });
    if (entry.layer instanceof L.Marker) entry.layer.openPopup();
    else entry.layer.openPopup(entry.latlng);
  },
});
const updateList = () =>
  listView.update({ emptyText: entries.length ? t("list.empty") : t("list.none") });
map.on("moveend", updateList);
updateList();

// -- Contributing ------------------------------------------------------------------------------

const form = $("process-contribute");
let drawn = null;
const write = new WriteKey(); // the Idempotency-Key of the contribution being sent
const locationNotice = form ? new LocationNotice($("location-notice")) : null;

function setDrawn(layer) {
  if (drawn) map.removeLayer(drawn);
  drawn = layer;
  if (layer.pm) {
    layer.pm.enable(editOptions(layer));
    layer.on("pm:edit", () => locationNotice.check(layer)); // moved: ask again
  }
  $("geometry-status").textContent = t("dialogue.process.drawn");
  locationNotice.check(layer);
}

if (form) {
  new KeyboardDraw(map, $("process-keyboard-draw"));
  map.on("pm:create", ({ layer }) => {
    layer.options.pmIgnore = false;
    L.PM.reInitLayer(layer);
    setDrawn(layer);
  });
  for (const button of form.querySelectorAll("[data-shape]")) {
    button.addEventListener("click", () => {
      map.pm.enableDraw(button.dataset.shape, {
        allowSelfIntersection: false,
        markerStyle: { icon: categoryIcon("idee") },
      });
      $("geometry-status").textContent = t(`dialogue.process.draw_${button.dataset.shape.toLowerCase()}`);
    });
  }
  $("draw-centre").addEventListener("click", () => {
    map.pm.disableDraw(); // "Punt" may have started Geoman's mouse route: this one replaces it
    const marker = L.marker(map.getCenter(), { icon: categoryIcon("idee"), pmIgnore: false }).addTo(map);
    setDrawn(marker);
  });

  const fieldErrorIds = {
    geometry: "geometry-error",
    "properties.category": "category-error",
    "properties.title": "title-error",
    "properties.description": "description-error",
    "properties.process": null,
    participant: "participant-error",
  };

  function showErrors(errors) {
    const summary = $("contribute-errors");
    const list = summary.querySelector("ul");
    list.replaceChildren();
    for (const node of form.querySelectorAll(".field-error")) node.hidden = true;
    for (const node of form.querySelectorAll("[aria-invalid]")) {
      node.removeAttribute("aria-invalid");
      node.removeAttribute("aria-describedby");
    }
    for (const error of errors) {
      list.append(el("li", { "data-code": error.code || "" }, error.message));
      const key = Object.keys(fieldErrorIds).find((prefix) => (error.field || "").startsWith(prefix));
      const holder = key && fieldErrorIds[key] && $(fieldErrorIds[key]);
      if (holder) {
        holder.textContent = error.message;
        holder.hidden = false;
        // The field (or each choice of a group) says it is invalid and where the reason is.
        const holderField = holder.closest(".field");
        const inputs = holderField ? holderField.querySelectorAll("input:not([type=hidden]), textarea, select") : [];
        for (const input of inputs) {
          input.setAttribute("aria-invalid", "true");
          input.setAttribute("aria-describedby", holder.id);
        }
      }
    }
    summary.hidden = false;
    summary.focus();
  }

  const status = addSendStatus($("contribute-submit").closest(".actions"), "contribute-send-status");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if ($("contribute-submit").disabled) return;
    const checked = form.querySelector('input[name="category"]:checked');
    const local = [];
    if (!drawn) local.push({ field: "geometry", code: "geometry_missing" });
    if (!checked) local.push({ field: "properties.category", code: "category_missing" });
    if (!$("title").value.trim()) local.push({ field: "properties.title", code: "title_missing" });
    if (local.length) {
      showErrors(local.map((e) => ({ ...e, message: errorText(e) })));
      return;
    }
    const feature = {
      type: "Feature",
      geometry: drawn.toGeoJSON().geometry,
      properties: {
        category: checked.value,
        title: $("title").value.trim(),
        description: $("description").value,
        process: process.slug,
      },
    };
    // Who takes part (optional, stored apart from the contribution): only what was answered.
    const participant = {};
    for (const input of form.querySelectorAll('#participant-questions input[type="radio"]:checked')) {
      if (input.value) participant[input.name.replace("participant-", "")] = input.value;
    }
    if (Object.keys(participant).length) feature.participant = participant;
    $("contribute-submit").disabled = true;
    const result = await sendWrite("/api/v1/contributions", { body: feature, writeKey: write, status });
    $("contribute-submit").disabled = false;
    if (!result.ok) {
      showErrors(answerErrors(result));
      return;
    }
    form.hidden = true;
    const done = $("contribute-done");
    const pending = process.premoderation;
    $("contribute-done-title").textContent = t(pending ? "dialogue.process.done_pending" : "dialogue.process.done");
    $("contribute-edit-link").href = result.data.edit_url;
    $("contribute-edit-link").textContent = new URL(result.data.edit_url, window.location.href).href;
    if (!pending) {
      $("contribute-view-link").href = result.data.properties.url;
      $("contribute-view-link").hidden = false;
    }
    done.hidden = false;
    done.focus();
  });

  // Another one: the form again, empty, with nothing drawn (the link above stays on screen
  // until then; the resident was asked to keep it).
  $("contribute-another").addEventListener("click", () => {
    form.reset();
    if (drawn) map.removeLayer(drawn);
    drawn = null;
    locationNotice.clear();
    $("geometry-status").textContent = "";
    $("contribute-errors").hidden = true;
    $("contribute-done").hidden = true;
    form.hidden = false;
    $("draw-point").focus();
  });
}
