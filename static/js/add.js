// Adding a contribution: choose point / line / area, draw it with Leaflet-Geoman (or place it at
// the map centre with the keyboard), see what already exists nearby, fill in the form, link it to
// an object of an open layer if it is about one (ObjectChoice), send it.

import {
  categoryBadge,
  categoryLabel,
  editOptions,
  el,
  formatNumber,
  representativeLatLng,
  request,
  statusLabel,
  t,
} from "./common.js";
import { ContributionForm } from "./form.js";
import { ObjectChoice } from "./object.js";

const DRAW_COLOUR = "#154273";
const NEARBY_MAX_M = 500;
const STEPS = ["idle", "shape", "draw", "form", "success"];

const drawOptions = () => ({
  snappable: false,
  tooltips: false,
  allowSelfIntersection: false,
  markerEditable: false,
  continueDrawing: false,
  templineStyle: { color: DRAW_COLOUR, weight: 3 },
  hintlineStyle: { color: DRAW_COLOUR, weight: 2, dashArray: "6 6" },
  pathOptions: {
    color: DRAW_COLOUR,
    weight: 3,
    fillColor: DRAW_COLOUR,
    fillOpacity: 0.2,
    pmIgnore: false,
  },
  markerStyle: { icon: newIcon(), draggable: true, pmIgnore: false },
});

function newIcon() {
  return L.divIcon({
    className: "kaart-marker kaart-marker--new",
    html: '<span class="kaart-marker__pin"></span>',
    iconSize: [34, 34],
    iconAnchor: [17, 17],
  });
}

/** Area in m² of a ring of LatLngs on the sphere (good enough to tell people what they drew). */
function sphericalArea(latlngs) {
  const radius = 6378137;
  const rad = Math.PI / 180;
  let sum = 0;
  for (let i = 0; i < latlngs.length; i++) {
    const a = latlngs[i];
    const b = latlngs[(i + 1) % latlngs.length];
    sum += (b.lng - a.lng) * rad * (2 + Math.sin(a.lat * rad) + Math.sin(b.lat * rad));
  }
  return Math.abs((sum * radius * radius) / 2);
}

export function setupAddFlow({ map, onCreated }) {
  const $ = (id) => document.getElementById(id);
  const panel = $("panel");
  const form = new ContributionForm($("add-form"), { geometryTarget: "drawn-summary" });
  const nearbyLayer = L.layerGroup().addTo(map);
  const submit = $("add-submit");
  let step = "idle";
  let shape = null;
  let drawn = null;
  let nearbyController = null;
  const objectChoice = new ObjectChoice($("field-object"), { map });

  // -- Steps ---------------------------------------------------------------------------------

  function showStep(next, { focus = true } = {}) {
    if (step === "success" && next !== "success") $("edit-link").value = ""; // shown once only
    step = next;
    for (const name of STEPS) $(`step-${name}`).hidden = name !== next;
    panel.dataset.step = next;
    panel.dataset.sheet = "open";
    document.body.classList.toggle("is-adding", ["shape", "draw", "form"].includes(next));
    document.body.classList.toggle("is-drawing", next === "draw");
    map.invalidateSize({ pan: true }); // the bottom sheet may have grown: keep the centre
    if (focus) {
      const heading = $(`step-${next}`).querySelector(".step__title");
      (heading || $("add-start")).focus({ preventScroll: false });
    }
  }

  function cancel() {
    map.pm.disableDraw();
    removeDrawn();
    clearNearby();
    form.reset();
    objectChoice.set(null);
    showStep("idle", { focus: false });
    $("add-start").focus();
  }

  // -- Drawing -------------------------------------------------------------------------------

  function startDraw(kind) {
    shape = kind;
    map.pm.disableDraw();
    removeDrawn();
    clearNearby();
    const name = { Marker: "point", Line: "line", Polygon: "area" }[kind];
    $("draw-title").textContent = t(`add.draw.${name}.title`);
    $("draw-instructions").textContent = t(`add.draw.${name}.instructions`);
    $("draw-center").textContent = t(kind === "Marker" ? "add.draw.center_point" : "add.draw.center_vertex");
    $("draw-undo").hidden = kind === "Marker";
    $("draw-finish").hidden = kind === "Marker";
    $("draw-error").hidden = true;
    showStep("draw");
    map.pm.enableDraw(kind, drawOptions());
  }

  function drawer() {
    return map.pm.Draw[shape];
  }

  function vertexCount() {
    const layer = drawer()._layer;
    return layer && layer.getLatLngs ? layer.getLatLngs().flat(2).length : 0;
  }

  function drawError(message) {
    const node = $("draw-error");
    node.textContent = message;
    node.hidden = !message;
  }

  // Keyboard route: pan the map with the arrow keys, then put a point or vertex at its centre.
  // (Geoman has no public API for adding a vertex; _createVertex is what a click calls.)
  let moving = false;
  map.on("movestart", () => {
    moving = true;
  });
  map.on("moveend", () => {
    moving = false;
  });

  $("draw-center").addEventListener("click", async () => {
    drawError("");
    if (moving) await new Promise((resolve) => map.once("moveend", resolve));
    if (step !== "draw") return;
    const centre = map.getCenter();
    if (shape === "Marker") {
      map.pm.disableDraw();
      const marker = L.marker(centre, drawOptions().markerStyle).addTo(map);
      onDrawn(marker);
      return;
    }
    const before = vertexCount();
    const points = drawer()._layer.getLatLngs();
    if (before && points[before - 1].equals(centre)) {
      drawError(t("add.draw.move_first"));
      return;
    }
    drawer()._createVertex({ latlng: centre });
    if (vertexCount() === before && drawer().enabled()) drawError(t("add.draw.crosses"));
  });

  $("draw-undo").addEventListener("click", () => {
    drawError("");
    if (vertexCount() > 1) drawer()._removeLastVertex();
    announceVertices();
  });

  $("draw-finish").addEventListener("click", () => {
    const needed = shape === "Polygon" ? 3 : 2;
    if (vertexCount() < needed) {
      drawError(t(shape === "Polygon" ? "add.draw.need_three" : "add.draw.need_two"));
      return;
    }
    drawer()._finishShape();
    if (drawer().enabled()) drawError(t("add.draw.crosses"));
  });

  function announceVertices() {
    if (step !== "draw" || shape === "Marker") return;
    const count = vertexCount();
    const name = shape === "Line" ? "line" : "area";
    $("draw-instructions").textContent =
      count === 0 ? t(`add.draw.${name}.instructions`) : t(`add.draw.${name}.progress`, { count });
  }

  map.on("pm:drawstart", ({ workingLayer }) => {
    workingLayer.on("pm:vertexadded", () => {
      drawError("");
      announceVertices();
    });
  });
  map.on("pm:create", ({ layer }) => {
    if (step === "draw") onDrawn(layer);
  });

  function onDrawn(layer) {
    drawn = layer;
    if (layer.pm) {
      layer.pm.enable(editOptions(layer));
      layer.on("pm:edit", () => {
        describeDrawn();
        searchNearby();
      });
    }
    form.clearErrors();
    showStep("form");
    keepInView(drawnBounds());
    describeDrawn();
    searchNearby();
  }

  /** On a phone the form takes room from the map: make sure the drawing is still in sight. */
  function keepInView(bounds) {
    if (map.getBounds().pad(-0.1).contains(bounds)) return;
    map.fitBounds(bounds, { padding: [32, 32], maxZoom: map.getZoom() });
  }

  function removeDrawn() {
    if (!drawn) return;
    drawn.pm?.disable();
    drawn.remove();
    drawn = null;
  }

  function describeDrawn() {
    let text;
    if (drawn instanceof L.Polygon) {
      const area = sphericalArea(drawn.getLatLngs()[0]);
      text = t("add.form.drawn_area", { area: formatNumber(area) });
    } else if (drawn instanceof L.Polyline) {
      const points = drawn.getLatLngs();
      let length = 0;
      for (let i = 1; i < points.length; i++) length += map.distance(points[i - 1], points[i]);
      text = t("add.form.drawn_line", { length: formatNumber(length) });
    } else {
      text = t("add.form.drawn_point");
    }
    $("drawn-text").textContent = text;
    $("geometry-error").hidden = true;
  }

  // -- "Bestaat dit al?" ---------------------------------------------------------------------

  function drawnBounds() {
    if (drawn.getBounds) return drawn.getBounds();
    const at = drawn.getLatLng();
    return L.latLngBounds(at, at);
  }

  async function searchNearby() {
    if (!drawn) return;
    const bounds = drawnBounds();
    const centre = bounds.getCenter();
    const halfDiagonal = map.distance(bounds.getSouthWest(), bounds.getNorthEast()) / 2;
    const radius = Math.round(Math.min(NEARBY_MAX_M, 50 + halfDiagonal));
    nearbyController?.abort();
    nearbyController = new AbortController();
    const results = $("nearby-results");
    results.setAttribute("aria-busy", "true");
    results.replaceChildren(el("p", { class: "muted" }, t("nearby.loading")));
    const near = `${centre.lng.toFixed(6)},${centre.lat.toFixed(6)}`;
    const url = `/api/v1/contributions?near=${near}&radius=${radius}&limit=5`;
    const result = await request(url, { signal: nearbyController.signal });
    if (result.aborted) return;
    results.setAttribute("aria-busy", "false");
    nearbyLayer.clearLayers();
    if (!result.ok || !result.data) {
      results.replaceChildren(el("p", { class: "muted" }, t("nearby.error")));
      return;
    }
    const features = result.data.features;
    if (!features.length) {
      results.replaceChildren(el("p", { class: "nearby__empty" }, t("nearby.empty", { radius })));
      return;
    }
    const list = el("ul", { class: "nearby__list" });
    for (const feature of features) {
      const p = feature.properties;
      const at = L.latLng(representativeLatLng(feature.geometry));
      const distance = t("nearby.distance", { distance: formatNumber(map.distance(centre, at)) });
      list.append(
        el(
          "li",
          { class: "nearby__item" },
          categoryBadge(p.category),
          el(
            "div",
            { class: "nearby__body" },
            el(
              "a",
              { href: p.url, target: "_blank", rel: "noopener", class: "nearby__link" },
              p.title,
              el("span", { class: "visually-hidden" }, ` (${t("nearby.new_tab")})`),
            ),
            el(
              "span",
              { class: "nearby__meta" },
              `${categoryLabel(p.category)} · ${statusLabel(p.status)} · ${distance}`,
            ),
          ),
        ),
      );
      L.circleMarker(at, {
        pane: "highlight",
        radius: 22,
        color: "#154273",
        weight: 3,
        dashArray: "4 4",
        fillColor: "#ffdd00",
        fillOpacity: 0.35,
        interactive: false,
      }).addTo(nearbyLayer);
    }
    const count =
      features.length === 1 ? t("nearby.count_one") : t("nearby.count_other", { count: features.length });
    results.replaceChildren(el("p", { class: "nearby__count" }, count), list);
  }

  function clearNearby() {
    nearbyController?.abort();
    nearbyLayer.clearLayers();
    $("nearby-results").replaceChildren();
  }

  // -- Sending -------------------------------------------------------------------------------

  $("add-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    if (submit.disabled) return;
    const local = form.localErrors();
    if (!drawn) local.unshift({ field: "geometry", message: t("error.geometry_missing") });
    if (local.length) {
      form.showErrors(local);
      return;
    }
    const values = form.values();
    const feature = {
      type: "Feature",
      geometry: drawn.toGeoJSON().geometry,
      properties: { category: values.category, title: values.title, description: values.description },
    };
    if (objectChoice.value) feature.properties.object = objectChoice.reference();
    submit.disabled = true;
    submit.textContent = t("add.form.sending");
    $("add-form").setAttribute("aria-busy", "true");
    const result = await request("/api/v1/contributions", { method: "POST", body: feature });
    submit.disabled = false;
    submit.textContent = t("add.form.submit");
    $("add-form").removeAttribute("aria-busy");
    if (result.status === 201 && result.data) {
      succeed(result.data);
    } else {
      form.showErrors(ContributionForm.errorsFrom(result));
    }
  });

  function succeed(created) {
    removeDrawn();
    clearNearby();
    form.reset();
    objectChoice.set(null);
    const { edit_token: _token, edit_url: editUrl, ...feature } = created;
    onCreated(feature);
    $("success-link").href = feature.properties.url;
    $("edit-link").value = new URL(editUrl, window.location.origin).href;
    $("copy-status").textContent = "";
    showStep("success");
  }

  $("copy-edit-link").addEventListener("click", async () => {
    const input = $("edit-link");
    let copied = false;
    try {
      await navigator.clipboard.writeText(input.value);
      copied = true;
    } catch {
      input.select();
      copied = document.execCommand && document.execCommand("copy");
    }
    $("copy-status").textContent = copied ? t("success.copied") : t("success.copy_failed");
  });
  $("edit-link").addEventListener("focus", (event) => event.target.select());

  // -- Buttons ---------------------------------------------------------------------------------

  $("add-start").addEventListener("click", () => showStep("shape"));
  for (const button of document.querySelectorAll(".shape-choice")) {
    button.addEventListener("click", () => startDraw(button.dataset.shape));
  }
  panel.addEventListener("click", (event) => {
    const action = event.target.closest("[data-action]")?.dataset.action;
    if (!action) return;
    if (action === "cancel") cancel();
    else if (action === "choose-shape") {
      map.pm.disableDraw();
      showStep("shape");
    } else if (action === "redraw") startDraw(shape);
    else if (action === "add-another") {
      form.reset();
      showStep("shape");
    } else if (action === "done") {
      showStep("idle", { focus: false });
      $("add-start").focus();
    }
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && step === "draw" && !event.defaultPrevented) {
      map.pm.disableDraw();
      showStep("shape");
    }
  });

  return {
    /** "Bijdrage over dit object" in the inspect popup: a point at the click, about the object. */
    attachTo(object, latlng) {
      if (step === "form") {
        // Already telling about a drawing: link the object to it, keep what was typed.
        objectChoice.set(ObjectChoice.fromInspected(object));
        $("field-object").scrollIntoView({ block: "nearest" });
        return;
      }
      map.pm.disableDraw();
      removeDrawn();
      clearNearby();
      form.reset();
      shape = "Marker";
      objectChoice.set(ObjectChoice.fromInspected(object));
      onDrawn(L.marker(latlng, drawOptions().markerStyle).addTo(map));
    },
    /** While picking an object, a map click is the pick; true when the click was used. */
    handleMapClick(latlng, layers) {
      return step === "form" && objectChoice.pickAt(latlng, layers);
    },
  };
}
