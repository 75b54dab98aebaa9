// The private edit page. The edit token arrives in the URL fragment (#token=…, never sent to the
// server); we keep it in sessionStorage for reloads and take it out of the address bar. The page
// itself holds the contribution as the public sees it; the place as drawn comes from the
// author's private view, fetched with the token (near a home the public sees only a cell centre).

import {
  answerErrors,
  categoryIcon,
  config,
  createMap,
  editOptions,
  editTokenKey,
  focusOn,
  problemText,
  readJSON,
  request,
  shapeStyle,
  statusLabel,
  t,
} from "./common.js";
import { ContributionForm } from "./form.js";
import { inZoom } from "./layers/catalogue.js";
import { addTileLayers } from "./layers/tiles.js";
import { LocationNotice } from "./location-notice.js";
import { ObjectChoice } from "./object.js";
import { showPrivate } from "./process-private.js";

const $ = (id) => document.getElementById(id);
const feature = readJSON("kaart-feature");
const apiUrl = `/api/v1/contributions/${encodeURIComponent(feature.id)}`;
const storageKey = editTokenKey(feature.id);
const form = new ContributionForm($("edit-form"), { geometryTarget: "edit-map" });
const saveButton = $("edit-save");

function readToken() {
  const fromHash = new URLSearchParams(window.location.hash.slice(1)).get("token");
  if (fromHash) {
    try {
      sessionStorage.setItem(storageKey, fromHash);
    } catch {
      // Private browsing without storage: the token then lives only as long as this page.
    }
    history.replaceState(history.state, "", window.location.pathname + window.location.search);
    return fromHash;
  }
  try {
    return sessionStorage.getItem(storageKey);
  } catch {
    return null;
  }
}

function forgetToken() {
  try {
    sessionStorage.removeItem(storageKey);
  } catch {
    // nothing stored
  }
}

const token = readToken();

// -- The map with the editable geometry ----------------------------------------------------------

const map = createMap($("edit-map"), { draw: true, zoom: 17, leaflet: { scrollWheelZoom: false } });
window.kaartMap = map;
let baseline = { ...feature.properties };
let baseGeometry = null; // the place as drawn, once the private view has it
let shape = null;
let geometryChanged = false;
const locationNotice = new LocationNotice($("location-notice"));

function drawGeometry(geometry) {
  shape?.eachLayer((layer) => layer.pm?.disable());
  shape?.remove();
  const category = form.values().category || baseline.category;
  shape = L.geoJSON(geometry, {
    pmIgnore: false,
    style: () => shapeStyle(category, { weight: 4 }),
    pointToLayer: (_f, latlng) =>
      L.marker(latlng, { icon: categoryIcon(category, "point"), pmIgnore: false, title: t("edit.map_label") }),
  }).addTo(map);
  shape.eachLayer((layer) => {
    if (!token || !layer.pm) return;
    layer.pm.enable(editOptions(layer));
    layer.on("pm:edit", () => {
      setGeometryChanged(true);
      locationNotice.check(layer);
    });
  });
  const isPoint = geometry.type === "Point";
  $("geometry-center").hidden = !isPoint || !token;
}

function setGeometryChanged(changed) {
  geometryChanged = changed;
  $("geometry-reset").disabled = !changed;
}

function currentGeometry() {
  const layers = shape.getLayers();
  return layers[0].toGeoJSON().geometry;
}

/** The place as drawn and how the public map shows it: told as the add flow tells it. */
function showPlace(geometry, publicLocation) {
  baseGeometry = geometry;
  drawGeometry(geometry);
  focusOn(map, shape);
  const answer = { approximate: publicLocation === "approximate", cell_m: config.privacy.cell_m };
  locationNotice.show(answer, { point: geometry.type === "Point" });
}

// -- What it is about: an object of an open layer, shown and picked on the map ------------------

const openLayers = addTileLayers(map);
const objectChoice = new ObjectChoice($("field-object"), { map });
const sameObject = (a, b) => (a?.layer ?? null) === (b?.layer ?? null) && (a?.id ?? null) === (b?.id ?? null);
objectChoice.set(feature.properties.object || null);
map.on("click", (event) => {
  const layers = openLayers.filter((layer) => inZoom(layer, map.getZoom()));
  objectChoice.pickAt(event.latlng, layers);
});

$("geometry-reset").addEventListener("click", () => {
  drawGeometry(baseGeometry);
  setGeometryChanged(false);
  locationNotice.check(shape.getLayers()[0]);
});
$("geometry-center").addEventListener("click", () => {
  const marker = shape.getLayers()[0];
  marker.setLatLng(map.getCenter());
  setGeometryChanged(true);
  locationNotice.check(marker.getLatLng());
});

// -- Without a token there is nothing to do here -------------------------------------------------

function refuse(text) {
  $("token-missing-text").textContent = text;
  $("token-missing").hidden = false;
  $("edit-body").hidden = true;
}

if (!token) refuse(t("edit.no_token"));

// -- The author's private view: the place as drawn, moderation state and history ---------------

async function loadPrivate() {
  const result = await request(`${apiUrl}/private`, { token });
  if (result.ok && result.data) {
    showPlace(result.data.geometry, result.data.public_location);
    showPrivate(result.data);
    return;
  }
  if (handleAuthFailure(result)) return;
  message(problemText(result));
}

// -- Saving ------------------------------------------------------------------------------------

function message(text, link) {
  const box = $("edit-message");
  box.replaceChildren(document.createTextNode(text));
  if (link) {
    box.append(" ");
    const a = document.createElement("a");
    a.href = link;
    a.textContent = t("edit.view_public");
    box.append(a);
  }
  box.hidden = !text;
}

function handleAuthFailure(result) {
  if (result.status === 401 || result.status === 403) {
    forgetToken();
    refuse(t(`error.status_${result.status}`));
    $("token-missing").scrollIntoView({ block: "center" });
    return true;
  }
  if (result.status === 410) {
    showWithdrawn();
    return true;
  }
  return false;
}

$("edit-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  if (saveButton.disabled) return;
  message("");
  const errors = form.localErrors();
  if (errors.length) {
    form.showErrors(errors);
    return;
  }
  const values = form.values();
  const properties = {};
  for (const name of ["category", "title", "description"]) {
    if (values[name] !== (baseline[name] ?? "")) properties[name] = values[name];
  }
  if (!sameObject(objectChoice.value, baseline.object)) properties.object = objectChoice.reference();
  const body = { type: "Feature", properties };
  if (geometryChanged) body.geometry = currentGeometry();
  if (!Object.keys(properties).length && !geometryChanged) {
    form.clearErrors();
    message(t("edit.nothing_changed"));
    return;
  }
  saveButton.disabled = true;
  saveButton.textContent = t("edit.saving");
  const result = await request(apiUrl, { method: "PATCH", body, token });
  saveButton.disabled = false;
  saveButton.textContent = t("edit.save");
  if (result.ok && result.data) {
    form.clearErrors();
    baseline = { ...result.data.properties };
    objectChoice.set(baseline.object || null);
    setGeometryChanged(false);
    baseGeometry = result.data.geometry; // the answer to its author holds the place as drawn
    drawGeometry(baseGeometry);
    loadPrivate(); // how the public map shows the place now

    $("status-chip").textContent = statusLabel(baseline.status);
    message(t("edit.saved"), baseline.url);
    return;
  }
  if (handleAuthFailure(result)) return;
  form.showErrors(answerErrors(result));
});

// A new category colours the drawing straight away.
for (const radio of document.querySelectorAll('#edit-form input[name="category"]')) {
  radio.addEventListener("change", () => {
    if (!shape) return; // the place is not loaded (yet)
    const geometry = currentGeometry();
    const changed = geometryChanged;
    drawGeometry(geometry);
    setGeometryChanged(changed);
  });
}

// -- Withdrawing -------------------------------------------------------------------------------

function showWithdrawn() {
  forgetToken();
  $("edit-body").hidden = true;
  $("withdrawn-state").hidden = false;
  $("withdrawn-heading").focus();
}

$("withdraw-start").addEventListener("click", () => {
  $("withdraw-confirm").hidden = false;
  $("withdraw-start").setAttribute("aria-expanded", "true");
  $("withdraw-question").focus();
});
$("withdraw-no").addEventListener("click", () => {
  $("withdraw-confirm").hidden = true;
  $("withdraw-start").setAttribute("aria-expanded", "false");
  $("withdraw-start").focus();
});
$("withdraw-yes").addEventListener("click", async () => {
  const button = $("withdraw-yes");
  button.disabled = true;
  $("withdraw-error").hidden = true;
  const result = await request(apiUrl, { method: "DELETE", token });
  button.disabled = false;
  if (result.status === 204) {
    showWithdrawn();
    return;
  }
  if (handleAuthFailure(result)) return;
  $("withdraw-error").textContent = problemText(result);
  $("withdraw-error").hidden = false;
});

if (token) loadPrivate();
