// The panel's steps (choose a shape, draw, say what it is, thanks) and leaving the flow.

import { byId } from "../common.js";
import { clearNearby } from "./nearby.js";
import { removeDrawn } from "./shape.js";
import { STEPS } from "./state.js";

const ADDING = ["shape", "draw", "form"];

/** Show one step; its heading takes the focus, so keyboard and screen-reader users follow. */
export function showStep(flow, next, { focus = true } = {}) {
  const { state, map } = flow;
  if (state.step === "success" && next !== "success") byId("edit-link").value = ""; // shown once only
  state.step = next;
  for (const name of STEPS) byId(`step-${name}`).hidden = name !== next;
  const panel = byId("panel");
  panel.dataset.step = next;
  panel.dataset.sheet = "open";
  document.body.classList.toggle("is-adding", ADDING.includes(next));
  document.body.classList.toggle("is-drawing", next === "draw");
  map.invalidateSize({ pan: true }); // the bottom sheet may have grown: keep the centre
  if (focus) {
    const heading = byId(`step-${next}`).querySelector(".step__title");
    (heading || byId("add-start")).focus({ preventScroll: false });
  }
}

/** Back to browsing the map, with the focus on "Bijdrage toevoegen". */
export function showIdle(flow) {
  showStep(flow, "idle", { focus: false });
  byId("add-start").focus();
}

/** Stop drawing and throw away what was drawn, typed and linked. */
export function clearInput(flow) {
  flow.map.pm.disableDraw();
  removeDrawn(flow);
  clearNearby(flow);
  flow.form.reset();
  flow.objectChoice.set(null);
}

export function cancel(flow) {
  clearInput(flow);
  showIdle(flow);
}
